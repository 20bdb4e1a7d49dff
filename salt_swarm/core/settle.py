"""Bring every member's node to what pillar asks: role, availability, labels.

Run on one manager. Stale twins (the Down node a rebuilt host leaves) go first, so
hostnames name one node; promotions come before demotions, so the manager count
only drops once the new managers are in. Role changes go one at a time, each
checked against the node list as it is then; the other changes (availability,
labels) are planned from one node list and written side by side.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from salt_swarm.core import nodes as node_ops
from salt_swarm.core import prune
from salt_swarm.core.cluster import find_node, node_view
from salt_swarm.core.errors import SwarmError

# Writes in flight at once: Raft batches concurrent proposals; the Docker SDK's
# connection pool holds 10.
PARALLEL_WRITES = 8


def _order(wanted: dict[str, dict]) -> list[tuple[str, dict]]:
    return sorted(wanted.items(), key=lambda item: (item[1].get("role") == "worker", item[0]))


def _settings(want: dict) -> dict:
    return {
        "availability": want.get("availability"),
        "role": want.get("role"),
        "labels": want.get("labels") or None,
        "labels_owned": want.get("labels_owned") or None,
    }


def apply(client, wanted: dict[str, dict], test: bool = False, wait: float = 60) -> dict:
    """``wanted``: hostname -> {role, availability, labels, labels_owned}. Returns ``removed`` (stale
    twins) and ``nodes`` (hostname -> Salt-style changes, only where something changed)."""
    if not isinstance(wanted, dict):
        raise SwarmError(f"nodes: expected a mapping of hostname to settings, got {wanted!r}")
    for want in wanted.values():
        node_ops.check_settings(want.get("availability"), want.get("role"))
    removed = prune.remove_stale_twins(client, test=test, wait=wait)
    node_ops.require_manager(client)
    raw = {n["ID"]: n for n in client.api.nodes()}
    listed = [node_view(n) for n in raw.values()]
    changed: dict[str, dict] = {}
    writes = []
    for hostname, want in _order(wanted):
        settings = _settings(want)
        try:
            node = find_node(listed, hostname)
            if settings["role"] and settings["role"] != node.role:
                # One at a time, each against the list as it is after the last one.
                changes = node_ops.update(client, hostname, **settings, test=test)
            else:
                changes, fields = node_ops.planned(listed, node, **settings)
                if changes and not test:
                    writes.append((hostname, node, fields))
        except SwarmError as exc:
            done = ", ".join(sorted(changed)) or "none"
            raise SwarmError(f"{hostname}: {exc} (nodes already changed: {done})") from None
        if changes:
            changed[hostname] = changes
    failed = _write_all(client, raw, writes)
    if failed:
        done = ", ".join(sorted(set(changed) - set(failed))) or "none"
        raise SwarmError(
            "; ".join(f"{h}: {why}" for h, why in sorted(failed.items()))
            + f" (nodes already changed: {done})"
        )
    return {"removed": removed, "nodes": changed}


def _write_all(client, raw: dict, writes: list) -> dict[str, str]:
    """Write every planned change, several at once; hostname -> error for those that failed."""

    def one(item):
        hostname, node, fields = item
        try:
            node_ops.write(client, node, raw[node.id]["Spec"], fields)
        except Exception as exc:  # Docker's error, named per node
            return hostname, str(getattr(exc, "explanation", None) or exc)
        return hostname, None

    if not writes:
        return {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL_WRITES, len(writes))) as pool:
        return {h: why for h, why in pool.map(one, writes) if why}
