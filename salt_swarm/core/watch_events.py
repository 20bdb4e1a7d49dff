"""What changed in a swarm between two looks, as events for the reactor (the swarm
beacon): a node's status, availability, role or reachability, a node joining or
leaving the list, the leader; and this node's own state (locked, inactive, error).

Hostnames come from the nodes themselves: they travel as event data, never in a tag.
Nothing here carries a token or a key.
"""

from __future__ import annotations

NODE_FIELDS = ("hostname", "status", "availability", "role", "reachability")


def node_snapshot(nodes: list[dict]) -> dict[str, dict]:
    """node id -> the fields watched, from ``swarm.nodes``."""
    return {n["id"]: {k: n.get(k) for k in (*NODE_FIELDS, "leader")} for n in nodes}


def node_events(before: dict[str, dict] | None, after: dict[str, dict]) -> list[dict]:
    """Events between two snapshots; none on the first look (nothing to compare)."""
    if before is None:
        return []
    events = []
    for ident, now in sorted(after.items()):
        old = before.get(ident)
        if old is None:
            events.append({"tag": "node/added", "node_id": ident, **_fields(now)})
            continue
        changes = {k: {"old": old[k], "new": now[k]} for k in NODE_FIELDS if old[k] != now[k]}
        if changes:
            events.append(
                {
                    "tag": "node/changed",
                    "node_id": ident,
                    "hostname": now["hostname"],
                    "changes": changes,
                }
            )
    for ident, old in sorted(before.items()):
        if ident not in after:
            events.append({"tag": "node/removed", "node_id": ident, **_fields(old)})
    old_leader, new_leader = _leader(before), _leader(after)
    if old_leader != new_leader:
        events.append(
            {
                "tag": "leader",
                "old": old_leader,
                "new": new_leader,
                "old_hostname": (before.get(old_leader) or {}).get("hostname"),
                "new_hostname": (after.get(new_leader) or {}).get("hostname"),
            }
        )
    return events


def _fields(node: dict) -> dict:
    return {k: node[k] for k in NODE_FIELDS}


def _leader(snapshot: dict[str, dict]) -> str | None:
    return next((i for i, n in sorted(snapshot.items()) if n.get("leader")), None)


LOCAL_FIELDS = ("state", "manager", "node_id")


def local_events(before: dict | None, after: dict) -> list[dict]:
    """This node's own change of state (``swarm.info``): active, locked, inactive,
    error, pending; or of role."""
    if before is None:
        return []
    changes = {
        k: {"old": before.get(k), "new": after.get(k)}
        for k in LOCAL_FIELDS
        if before.get(k) != after.get(k)
    }
    return [{"tag": "local", "changes": changes}] if changes else []
