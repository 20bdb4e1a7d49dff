"""Bring every member's node to what pillar asks: role, availability, labels.

Run on one manager. Stale twins (the Down node a rebuilt host leaves) go first, so
hostnames name one node; promotions come before demotions, so the manager count
only drops once the new managers are in.
"""

from __future__ import annotations

from salt_swarm.core import nodes as node_ops
from salt_swarm.core import prune
from salt_swarm.core.errors import SwarmError


def _order(wanted: dict[str, dict]) -> list[tuple[str, dict]]:
    return sorted(wanted.items(), key=lambda item: (item[1].get("role") == "worker", item[0]))


def apply(client, wanted: dict[str, dict], test: bool = False, wait: float = 60) -> dict:
    """``wanted``: hostname -> {role, availability, labels, labels_owned}. Returns ``removed`` (stale
    twins) and ``nodes`` (hostname -> Salt-style changes, only where something changed)."""
    if not isinstance(wanted, dict):
        raise SwarmError(f"nodes: expected a mapping of hostname to settings, got {wanted!r}")
    removed = prune.remove_stale_twins(client, test=test, wait=wait)
    changed: dict[str, dict] = {}
    for hostname, want in _order(wanted):
        try:
            changes = node_ops.update(
                client,
                hostname,
                availability=want.get("availability"),
                role=want.get("role"),
                labels=want.get("labels") or None,
                labels_owned=want.get("labels_owned") or None,
                test=test,
            )
        except SwarmError as exc:
            done = ", ".join(sorted(changed)) or "none"
            raise SwarmError(f"{hostname}: {exc} (nodes already changed: {done})") from None
        if changes:
            changed[hostname] = changes
    return {"removed": removed, "nodes": changed}
