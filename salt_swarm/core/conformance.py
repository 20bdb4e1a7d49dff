"""The swarm against what pillar asks for: every difference, in words an operator acts on."""

from __future__ import annotations

from dataclasses import dataclass, field

from salt_swarm.core.cluster import NodeView, health
from salt_swarm.core.quorum import tolerance_text


@dataclass(frozen=True)
class Wanted:
    """The members pillar names and how each node should look."""

    managers: list[str]  # minion ids
    workers: list[str]
    hostnames: dict[str, str]  # minion id -> Docker hostname
    nodes: dict[str, dict] = field(default_factory=dict)  # hostname -> {availability, labels}


def differences(wanted: Wanted, nodes: list[NodeView]) -> list[str]:
    """Empty when the swarm is as pillar says; else one line per difference.

    Labels pillar does not mention are left alone (the node states merge labels),
    so only wanted keys are compared.
    """
    found = []
    by_host: dict[str, list[NodeView]] = {}
    for node in nodes:
        by_host.setdefault(node.hostname, []).append(node)
    roles = {m: "manager" for m in wanted.managers} | {w: "worker" for w in wanted.workers}
    member_hosts = set()
    for minion in sorted(roles):
        host = wanted.hostnames.get(minion) or minion
        member_hosts.add(host)
        found.extend(_member(minion, host, roles[minion], wanted.nodes.get(host), by_host))
    for host in sorted(set(by_host) - member_hosts):
        for node in by_host[host]:
            found.append(
                f"{host}: a {node.role} node ({node.id}, {node.status}) that pillar does not name"
            )
    found.extend(_quorum(len(wanted.managers), nodes))
    return found


def _member(minion, host, role, settings, by_host) -> list[str]:
    name = host if host == minion else f"{minion} ({host})"
    twins = by_host.get(host, [])
    ready = [n for n in twins if n.status == "ready"]
    if not twins:
        return [f"{name}: not in the swarm (pillar: {role})"]
    found = []
    if len(twins) > 1:
        stale = ", ".join(f"{n.id} ({n.status})" for n in twins if n not in ready[:1])
        found.append(f"{name}: {len(twins)} nodes with this hostname; stale: {stale}")
    node = ready[0] if ready else twins[0]
    if node.status != "ready":
        found.append(f"{name}: status {node.status}, not ready")
    if node.role != role:
        found.append(f"{name}: role {node.role}, pillar says {role}")
    settings = settings or {}
    want_av = settings.get("availability")
    if want_av and node.availability != want_av:
        found.append(f"{name}: availability {node.availability}, pillar says {want_av}")
    for key, value in sorted((settings.get("labels") or {}).items()):
        have = node.labels.get(key)
        if have is None:
            found.append(f"{name}: label {key} missing, pillar says {value!r}")
        elif have != str(value):
            found.append(f"{name}: label {key}={have!r}, pillar says {value!r}")
    return found


def _quorum(wanted_managers: int, nodes: list[NodeView]) -> list[str]:
    h = health(nodes)
    found = []
    if h["managers"] != wanted_managers:
        found.append(f"managers: {h['managers']} in the swarm, pillar names {wanted_managers}")
    if not h["has_quorum"]:
        found.append(
            f"quorum lost: {h['reachable']} of {h['managers']} managers reachable, "
            f"{h['quorum']} needed"
        )
    elif h["unreachable"]:
        found.append(
            f"quorum at risk: unreachable managers {', '.join(h['unreachable'])}; "
            f"{tolerance_text(h['managers'], h['reachable'])}"
        )
    if h["managers"] and not h["leader"]:
        found.append("no leader")
    return found
