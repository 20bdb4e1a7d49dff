"""``swarm.check`` from pillar: the swarm as pillar wants it, seen through the members
that answer.

The bootstrap plan refuses while any member is silent or its dockerd is down: it is
about to change things. A check changes nothing, so it goes on with what it can see:
a member that cannot answer for itself is a difference of its own, and its node, found
in the node list through the record of which minion runs which node, is compared like
the others (down, not ready, its role and labels).
"""

from __future__ import annotations

from types import SimpleNamespace

from salt_swarm.core import conformance
from salt_swarm.core import plan as plan_logic
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.minion_ids import shown_id
from salt_swarm.core.quorum import manager_count_warnings
from salt_swarm.master import planning
from salt_swarm.master.fleet import Fleet, active_managers
from salt_swarm.master.members import role_members


def check(fleet: Fleet, managers, workers, labels, drain_managers) -> dict:
    """``{result, differences, warnings, manager}``; raises SwarmError only when
    nothing can be compared (bad targets, no pillar manager answers as an active one)."""
    named = role_members(fleet, managers, workers)
    wanted_managers, wanted_workers, everyone = named.managers, named.workers, named.everyone
    pre = named.preflight
    unseen = _unseen(everyone, pre)
    seen_managers = [m for m in wanted_managers if m not in unseen]
    seen_workers = [w for w in wanted_workers if w not in unseen]
    if seen_managers or not wanted_managers:  # else: no manager to look through
        found = plan_logic.problems(seen_managers, seen_workers, pre.live, pre.infos, named.missing)
        if found:
            raise SwarmError("; ".join(found))
    active = active_managers(pre.infos, wanted_managers)
    if not active:
        raise SwarmError(
            "no manager pillar names is active in a swarm: run swarm.bootstrap"
            + "".join(f"; {shown_id(m)}: {why}" for m, why in sorted(unseen.items()))
        )
    asked, nodes = fleet.nodes_from(active)
    infos = {m: i for m, i in pre.infos.items() if i}
    for minion in unseen:
        infos[minion] = {"hostname": _recorded_hostname(fleet, minion, nodes) or minion}
    doubts = fleet.check_reports({m: pre.infos[m] for m in everyone if pre.infos.get(m)}, nodes)
    members = SimpleNamespace(
        first_manager=active[0],
        managers=[m for m in sorted(wanted_managers) if m != active[0]],
        workers=sorted(wanted_workers),
    )
    settings = planning.node_settings(fleet, members, infos, labels or [], drain_managers)
    want = conformance.Wanted(
        managers=sorted(wanted_managers),
        workers=sorted(wanted_workers),
        hostnames={m: infos[m]["hostname"] for m in everyone},
        nodes=settings,
    )
    differences = [f"{shown_id(m)}: {why}" for m, why in sorted(unseen.items())]
    differences += [
        f"{shown_id(m)}: its report about its node does not hold up: {why}"
        for m, why in sorted(doubts.items())
    ]
    differences += conformance.differences(want, nodes)
    return {
        "result": not differences,
        "differences": differences,
        "warnings": manager_count_warnings(len(wanted_managers)),
        "manager": asked,
    }


def _unseen(everyone, pre) -> dict[str, str]:
    """minion -> why it cannot answer for its node (silent minion, dockerd down)."""
    out = {}
    for minion in everyone:
        if minion not in pre.live:
            out[minion] = "its minion does not answer"
        elif not pre.infos.get(minion):
            why = "; ".join(pre.problems.get(minion) or []) or "swarm.info failed"
            out[minion] = f"cannot tell its node's state ({why})"
    return out


def _recorded_hostname(fleet: Fleet, minion: str, nodes) -> str | None:
    """The hostname of the node the record gives ``minion`` (its newest, when several)."""
    ids = {node_id for node_id, owner in fleet.record().items() if owner == minion}
    mine = [n for n in nodes if n.id in ids]
    return mine[-1].hostname if mine else None
