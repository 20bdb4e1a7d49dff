"""The bootstrap plan: who is first manager, who joins when, and what is wrong first.

Input is what the master knows: the minions each role target matches, which of them
answer, and each one's ``swarm.info``. Everything is checked before any change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.quorum import manager_count_warnings


@dataclass(frozen=True)
class BootstrapPlan:
    first_manager: str
    managers: list[str]  # the other managers, joined one at a time, in this order
    workers: list[str]  # joined all at once
    warnings: list[str] = field(default_factory=list)
    existing_cluster: str | None = None
    to_join: list[str] = field(default_factory=list)  # members not yet in place
    stale: list[str] = field(default_factory=list)  # think they are members; the swarm disagrees

    def as_dict(self) -> dict:
        return {
            "first_manager": self.first_manager,
            "managers": list(self.managers),
            "workers": list(self.workers),
            "warnings": list(self.warnings),
            "existing_cluster": self.existing_cluster,
            "to_join": list(self.to_join),
            "stale": list(self.stale),
        }


def bootstrap(
    managers: list[str],
    workers: list[str],
    live: set[str],
    infos: dict[str, dict | None],
    unknown: list[str] = (),
) -> BootstrapPlan:
    """Check the roles and choose the first manager.

    ``managers``/``workers``: minion ids the role targets match; ``live``: those that
    answer; ``infos``: ``swarm.info`` per minion (None where it failed); ``unknown``:
    names a list target gives that are no accepted minion.
    """
    managers, workers = sorted(set(managers)), sorted(set(workers))
    problems = []
    if unknown:
        problems.append(f"unknown minions: {', '.join(sorted(unknown))}")
    if not managers:
        problems.append("no minion matches the managers target: a swarm needs at least one")
    both = sorted(set(managers) & set(workers))
    if both:
        problems.append(f"in both roles: {', '.join(both)}")
    down = sorted(m for m in managers + workers if m not in live)
    if down:
        problems.append(f"not answering: {', '.join(down)}")
    no_info = sorted(m for m in managers + workers if m in live and not infos.get(m))
    if no_info:
        problems.append(f"swarm.info failed on: {', '.join(no_info)} (is dockerd running?)")
    if problems:
        raise SwarmError("swarm bootstrap refused before any change: " + "; ".join(problems))

    active = {
        m: infos[m]["cluster_id"]
        for m in managers
        if infos[m]["state"] == "active" and infos[m]["manager"] and infos[m].get("cluster_id")
    }
    clusters = sorted(set(active.values()))
    if len(clusters) > 1:
        owners = ", ".join(f"{m} ({c})" for m, c in sorted(active.items()))
        raise SwarmError(
            f"swarm bootstrap refused: the managers already belong to {len(clusters)} "
            f"different swarms: {owners}; make all but one leave first"
        )
    locked = sorted(m for m in managers if infos[m]["state"] == "locked")
    first = min(active) if active else (locked[0] if locked else managers[0])
    cluster = clusters[0] if clusters else None
    return BootstrapPlan(
        first_manager=first,
        managers=[m for m in managers if m != first],
        workers=workers,
        warnings=manager_count_warnings(len(managers)),
        existing_cluster=cluster,
        to_join=_not_in_place(managers, workers, infos, active, cluster),
    )


def _not_in_place(managers, workers, infos, active, cluster) -> list[str]:
    """Members that are not yet active in the existing swarm with their role."""
    known = {a for m in active for a in infos[m].get("remote_managers") or []}
    pending = [m for m in managers if active.get(m) != cluster or cluster is None]
    for w in workers:
        info = infos[w]
        joined = (
            info["state"] == "active"
            and not info["manager"]
            and bool(set(info.get("remote_managers") or []) & known)
        )
        if not joined:
            pending.append(w)
    return sorted(pending)


def with_stale(plan: BootstrapPlan, infos: dict, node_ids: set[str]) -> BootstrapPlan:
    """Mark members whose node id the swarm does not list (removed while they were down,
    e.g. by swarm.recover): they must leave by force, then join again."""
    members = [plan.first_manager, *plan.managers, *plan.workers]
    stale = sorted(
        m
        for m in members
        if m != plan.first_manager
        and infos[m].get("node_id")
        and infos[m]["state"] in ("active", "pending", "error")
        and infos[m]["node_id"] not in node_ids
    )
    if not stale:
        return plan
    return replace(plan, stale=stale, to_join=sorted(set(plan.to_join) | set(stale)))


def unsettled(wanted: dict[str, dict], nodes: list[NodeView]) -> list[str]:
    """Hostnames whose node is missing, doubled, or differs in availability or labels."""
    by_host: dict[str, list[NodeView]] = {}
    for node in nodes:
        by_host.setdefault(node.hostname, []).append(node)
    out = []
    for host, want in sorted(wanted.items()):
        found = by_host.get(host, [])
        if len(found) != 1:
            out.append(host)
            continue
        node = found[0]
        labels = {k: str(v) for k, v in (want.get("labels") or {}).items()}
        if (want.get("availability") and node.availability != want["availability"]) or any(
            node.labels.get(k) != v for k, v in labels.items()
        ):
            out.append(host)
    return out
