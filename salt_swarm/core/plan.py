"""The bootstrap plan: who is first manager, who joins when, and what is wrong first.

Input is what the master knows: the minions each role target matches, which of them
answer, and each one's ``swarm.info``. Everything is checked before any change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from salt_swarm.core.cluster import NodeView, manager_counts
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.grain_labels import stale_keys
from salt_swarm.core.quorum import ManagerCounts, check_manager_removal, manager_count_warnings

REFUSED = "swarm bootstrap refused before any change: "


@dataclass(frozen=True)
class BootstrapPlan:
    first_manager: str
    managers: list[str]  # the other managers, joined one at a time, in this order
    workers: list[str]  # joined all at once
    warnings: list[str] = field(default_factory=list)
    existing_cluster: str | None = None
    to_join: list[str] = field(default_factory=list)  # members not yet in place
    stale: list[str] = field(default_factory=list)  # think they are members; the swarm disagrees
    promote: list[str] = field(default_factory=list)  # workers of the swarm pillar makes managers
    demote: list[str] = field(default_factory=list)  # managers of the swarm pillar makes workers

    def as_dict(self) -> dict:
        return {
            "first_manager": self.first_manager,
            "managers": list(self.managers),
            "workers": list(self.workers),
            "warnings": list(self.warnings),
            "existing_cluster": self.existing_cluster,
            "to_join": list(self.to_join),
            "stale": list(self.stale),
            "promote": list(self.promote),
            "demote": list(self.demote),
        }


def problems(
    managers: list[str],
    workers: list[str],
    live: set[str],
    infos: dict[str, dict | None],
    unknown: list[str] = (),
    node_problems: dict[str, list[str]] | None = None,
) -> list[str]:
    """Everything that stops a bootstrap, each naming the minions concerned."""
    managers, workers = sorted(set(managers)), sorted(set(workers))
    found = []
    if unknown:
        found.append(f"unknown minions: {', '.join(sorted(unknown))}")
    if not managers:
        found.append("no minion matches the managers target: a swarm needs at least one")
    both = sorted(set(managers) & set(workers))
    if both:
        found.append(f"in both roles: {', '.join(both)}")
    down = sorted(m for m in managers + workers if m not in live)
    if down:
        found.append(f"not answering: {', '.join(down)}")
    node_problems = node_problems or {}
    for minion in sorted(set(managers + workers)):
        for problem in node_problems.get(minion) or []:
            found.append(f"{minion}: {problem}")
    no_info = sorted(
        m for m in managers + workers if m in live and not infos.get(m) and not node_problems.get(m)
    )
    if no_info:
        found.append(f"swarm.info failed on: {', '.join(no_info)} (is dockerd running?)")
    if not found and not _active_managers(managers, infos):
        running = sorted(_active_managers(workers, infos))
        if running:
            found.append(
                f"swarm:workers names managers of the existing swarm ({', '.join(running)}) "
                "and swarm:managers names none of them: keep at least one current manager "
                "in swarm:managers while roles change"
            )
    return found


def _active_managers(minions, infos) -> dict[str, str]:
    return {
        m: infos[m]["cluster_id"]
        for m in minions
        if infos.get(m)
        and infos[m]["state"] == "active"
        and infos[m]["manager"]
        and infos[m].get("cluster_id")
    }


def bootstrap(
    managers: list[str],
    workers: list[str],
    live: set[str],
    infos: dict[str, dict | None],
    unknown: list[str] = (),
    node_problems: dict[str, list[str]] | None = None,
) -> BootstrapPlan:
    """Check the roles and choose the first manager.

    ``managers``/``workers``: minion ids the role targets match; ``live``: those that
    answer; ``infos``: ``swarm.info`` per minion (None where it failed); ``unknown``:
    names a list target gives that are no accepted minion; ``node_problems``: what
    each member's own checks found (``swarm.preflight``).
    """
    found = problems(managers, workers, live, infos, unknown, node_problems)
    if found:
        raise SwarmError(REFUSED + "; ".join(found))
    managers, workers = sorted(set(managers)), sorted(set(workers))

    active = _active_managers(managers, infos)
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
    """Members that are not yet active in the existing swarm (in either role: a role
    change is a promotion or demotion, not a join)."""
    if cluster is None:
        return sorted(managers + workers)
    known = {a for m in active for a in infos[m].get("remote_managers") or []}
    pending = []
    for minion in managers + workers:
        info = infos[minion]
        if info["state"] != "active":
            pending.append(minion)
        elif info["manager"]:
            if info.get("cluster_id") != cluster:
                pending.append(minion)
        elif not set(info.get("remote_managers") or []) & known:
            pending.append(minion)
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
    """Hostnames whose node is missing, doubled, or differs in role, availability or labels."""
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
        if (
            (want.get("availability") and node.availability != want["availability"])
            or (want.get("role") and node.role != want["role"])
            or any(node.labels.get(k) != v for k, v in labels.items())
            or stale_keys(node.labels, labels, want.get("labels_owned"))
        ):
            out.append(host)
    return out


def with_role_changes(plan: BootstrapPlan, infos: dict, nodes: list[NodeView]) -> BootstrapPlan:
    """Members in the swarm with the other role: promotions, then demotions, each
    checked against quorum in that order; refused (nothing changed yet) when a
    demotion would leave too few reachable managers."""
    by_id = {n.id: n for n in nodes}
    wanted = {m: "manager" for m in [plan.first_manager, *plan.managers]}
    wanted |= {w: "worker" for w in plan.workers}
    promote, demote = [], []
    for minion, role in sorted(wanted.items()):
        node = by_id.get((infos.get(minion) or {}).get("node_id"))
        if node is None or minion in plan.to_join or node.role == role:
            continue
        (promote if role == "manager" else demote).append(minion)
    if not promote and not demote:
        return plan
    counts = manager_counts(nodes)
    for minion in promote:
        ready = by_id[infos[minion]["node_id"]].status == "ready"
        counts = ManagerCounts(counts.total + 1, counts.reachable + (1 if ready else 0))
    for minion in demote:
        node = by_id[infos[minion]["node_id"]]
        try:
            check_manager_removal(counts, node.reachable, f"demote {minion}")
        except SwarmError as exc:
            why = str(exc).removesuffix("; use force=True to do it anyway")
            raise SwarmError(
                REFUSED + f"pillar makes {', '.join(demote)} worker(s): {why}; start the "
                "unreachable managers first, or change fewer roles at once"
            ) from None
        counts = ManagerCounts(counts.total - 1, counts.reachable - (1 if node.reachable else 0))
    return replace(plan, promote=promote, demote=demote)


def known_nodes(hostnames: list[str], nodes: list[NodeView]) -> dict[str, list[str]]:
    """hostname -> ids of the nodes listed under it now, for the hostnames about to
    join (a rebuilt host has an old node: the one joining is a new one)."""
    wanted = set(hostnames)
    found: dict[str, list[str]] = {}
    for node in nodes:
        if node.hostname in wanted:
            found.setdefault(node.hostname, []).append(node.id)
    return {h: sorted(ids) for h, ids in sorted(found.items())}
