"""What a minion says about its own node, checked against what the master can verify.

``swarm.info`` runs on the minion: its node id, hostname and role are the minion's
word, and a compromised host can report another host's. The master acts on a
minion's node (drain, labels, role, removal) only when its report holds up:

- no other minion reports the same node id or the same hostname;
- the master's record (node id -> minion, kept from earlier reports) does not give
  the node to another minion that still has an accepted key;
- against a manager's node list, when there is one: the node is listed with the
  hostname and role the minion reports, and no node of another minion (by the
  record) carries the hostname it reports.

Each rule names the minions concerned; a minion whose report fails one is left
out of the record and refused wherever its node would be changed.
"""

from __future__ import annotations

import re
from collections import defaultdict

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.local_node import STATES
from salt_swarm.core.minion_ids import shown, shown_id

# What a node's hostname may be (Docker reports the host's own): printable ASCII, no
# spaces, at most 253 characters. Anything else is refused rather than carried into
# the plan's settings, which are keyed by hostname.
HOSTNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?")


def _active(info) -> bool:
    return bool(info) and info.get("state") in ("active", "locked") and bool(info.get("node_id"))


def doubtful(
    infos: dict[str, dict | None],
    record: dict[str, str],
    accepted: set[str],
    nodes: list[NodeView] | None = None,
) -> dict[str, str]:
    """minion -> why its report about its own node cannot be trusted (only those)."""
    why: dict[str, list[str]] = defaultdict(list)
    by_id: dict[str, list[str]] = defaultdict(list)
    by_host: dict[str, list[str]] = defaultdict(list)
    for minion, info in sorted(infos.items()):
        if not info:
            continue
        if _active(info):
            by_id[info["node_id"]].append(minion)
        if info.get("hostname"):
            by_host[info["hostname"]].append(minion)
            if not HOSTNAME.fullmatch(info["hostname"]):
                why[minion].append(f"reports {shown(info['hostname'])}, which is no hostname")
    for node_id, minions in by_id.items():
        if len(minions) > 1:
            for m in minions:
                why[m].append(f"reports node {node_id}, as {_others(minions, m)} also do(es)")
    for hostname, minions in by_host.items():
        if len(minions) > 1:
            for m in minions:
                why[m].append(
                    f"reports hostname {shown(hostname)}, as {_others(minions, m)} also do(es)"
                )
    for node_id, minions in by_id.items():
        owner = record.get(node_id)
        for m in minions:
            if owner and owner != m and owner in accepted:
                why[m].append(
                    f"reports node {node_id}, which the master's record gives to {shown_id(owner)}"
                )
    if nodes is not None:
        _against_nodes(infos, record, accepted, nodes, why)
    return {m: "; ".join(dict.fromkeys(lines)) for m, lines in sorted(why.items())}


def _against_nodes(infos, record, accepted, nodes, why) -> None:
    listed = {n.id: n for n in nodes}
    for minion, info in sorted(infos.items()):
        if not info:
            continue
        node = listed.get(info.get("node_id")) if _active(info) else None
        if node is not None:
            # A node just joined may be listed before its description (no hostname).
            if info.get("hostname") and node.hostname and node.hostname != info["hostname"]:
                why[minion].append(
                    f"reports node {node.id} as {shown(info['hostname'])}, the swarm lists it "
                    f"as {shown(node.hostname)}"
                )
            if info.get("state") == "active" and bool(info.get("manager")) != node.is_manager:
                said = "manager" if info.get("manager") else "worker"
                why[minion].append(
                    f"reports node {node.id} as a {said}, the swarm lists a {node.role}"
                )
        hostname = info.get("hostname")
        for other in nodes:
            owner = record.get(other.id)
            if (
                hostname
                and other.hostname == hostname
                and owner not in (None, minion)
                and owner in accepted
            ):
                why[minion].append(
                    f"reports hostname {shown(hostname)}, the name of {shown_id(owner)}'s node {other.id}"
                )


def _others(minions: list[str], me: str) -> str:
    return ", ".join(shown_id(m) for m in minions if m != me)


def trusted(infos: dict[str, dict | None], doubts: dict[str, str]) -> dict[str, dict]:
    """The reports that hold up (minion -> swarm.info)."""
    return {m: i for m, i in infos.items() if i and m not in doubts}


_TEXT_FIELDS = ("node_id", "address", "cluster_id", "error", "hostname", "engine_version")


def well_formed(info) -> dict | None:
    """A ``swarm.info`` return in the shape the master reads, or None: a minion's
    return is its own word and may be anything."""
    if not isinstance(info, dict) or info.get("state") not in STATES:
        return None
    if not isinstance(info.get("manager"), bool):
        return None
    if any(info.get(k) is not None and not isinstance(info[k], str) for k in _TEXT_FIELDS):
        return None
    remote = info.get("remote_managers") or []
    if not isinstance(remote, list) or not all(isinstance(a, str) for a in remote):
        return None
    return info
