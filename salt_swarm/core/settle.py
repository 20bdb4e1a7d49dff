"""Bring every member's node to what pillar asks: role, availability, labels.

Run on one manager. Stale twins (the Down node a rebuilt host leaves) go first, so
hostnames name one node; promotions come before demotions, so the manager count
only drops once the new managers are in. Role changes go one at a time, each
checked against the node list as it is then; the other changes (availability,
labels) are planned from one node list and written side by side.
"""

from __future__ import annotations

import time
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


def settle(
    client, wanted: dict[str, dict], test: bool = False, wait: float = 60, wait_for=()
) -> dict:
    """``wanted``: hostname -> {role, availability, labels, labels_owned}. Returns ``removed`` (stale
    twins) and ``nodes`` (hostname -> Salt-style changes, only where something changed).

    ``wait_for``: hostnames that are joining right now (a list, or a mapping of
    hostname to the ids of nodes it had before, as a rebuilt host has): wait up to
    ``wait`` seconds for a new node of each to be listed first; those still missing
    then are left out and named in ``missing``."""
    if not isinstance(wanted, dict):
        raise SwarmError(f"nodes: expected a mapping of hostname to settings, got {wanted!r}")
    for want in wanted.values():
        node_ops.check_settings(want.get("availability"), want.get("role"))
    missing = _await_nodes(client, _old_ids(wait_for), wait) if not test else []
    wanted = {h: w for h, w in wanted.items() if h not in missing}
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
    result = {"removed": removed, "nodes": changed}
    if missing:
        result["missing"] = missing
    kept = prune.kept_manager_twins(listed)
    if kept:
        result["kept_twins"] = kept  # a manager is never removed as a twin here
    return result


def _old_ids(wait_for) -> dict[str, set]:
    if isinstance(wait_for, dict):
        return {h: set(ids or ()) for h, ids in wait_for.items()}
    return {h: set() for h in wait_for or ()}


def _await_nodes(client, old: dict[str, set], seconds: float) -> list[str]:
    """Poll the node list until each hostname in ``old`` has a node whose id is not
    in its set; the hostnames still without one."""
    if not old:
        return []
    deadline = time.monotonic() + seconds
    while True:
        new = {
            (n.get("Description") or {}).get("Hostname")
            for n in client.api.nodes()
            if n["ID"] not in old.get((n.get("Description") or {}).get("Hostname"), ())
        }
        missing = sorted(set(old) - new)
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(0.2)


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
