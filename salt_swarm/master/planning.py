"""The bootstrap plan, made on the master: the runner ``swarm.plan`` and the
execution function the orchestrate's render calls in its own process share it."""

from __future__ import annotations

import logging

from salt.exceptions import SaltInvocationError

from salt_swarm.core import conformance, grain_labels, mine_acl, pillar_check
from salt_swarm.core import plan as plan_logic
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.minion_ids import shown_id
from salt_swarm.core.settings import default as setting_default
from salt_swarm.master import checks, targets
from salt_swarm.master.fleet import Fleet, active_managers
from salt_swarm.master.members import role_members
from salt_swarm.version import __version__

log = logging.getLogger(__name__)

# Plan keys that each make swarm.bootstrap change something when not empty.
NOTHING_TO_DO = ("to_join", "stale", "promote", "demote", "unsettled")


def from_settings(fleet: Fleet, settings: dict) -> dict:
    """The plan for the whole ``swarm:`` pillar ``settings``: every key checked
    first, the roles and label rules taken from it."""
    pillar_check.check(settings, fleet.opts.get("nodegroups"))
    formula_version = settings.get("formula_version")
    if formula_version is not None and formula_version != __version__:
        raise SwarmError(
            f"salt-swarm versions differ: the master runs the extension {__version__}, the "
            f"formula it serves is {formula_version} (an old copy in file_roots?): serve "
            "the packaged formula (fileserver_backend swarm_formula, docs/install.md)"
        )
    return plan(
        fleet,
        settings.get("managers"),
        settings.get("workers"),
        settings.get("labels") or [],
        settings.get("drain_managers", setting_default("drain_managers")),
        grain_rules=settings.get("grain_labels"),
        mine_check={
            "names": settings.get("mine") or {},
            "trust_grains": settings.get("trust_grains") is True,
        },
    )


def plan(
    fleet: Fleet,
    managers,
    workers,
    labels,
    drain_managers,
    grain_rules=None,
    mine_check=None,
) -> dict:
    """The plan, as ``swarm.plan`` returns it. Raises SwarmError (refused, every
    problem listed) or SaltInvocationError. ``mine_check`` (``{names, trust_grains}``,
    given when the roles come from pillar): the managers' mine entries are checked
    against the roles too."""
    named = role_members(fleet, managers, workers, grain_rules)
    wanted_managers, wanted_workers, pre = named.managers, named.workers, named.preflight
    infos = pre.infos
    args = (wanted_managers, wanted_workers, pre.live, infos, named.missing, pre.problems)
    found = plan_logic.problems(*args)
    asked, nodes = _node_list(fleet, infos, wanted_managers)
    doubts = fleet.remember(infos, nodes) if nodes is not None else fleet.check_reports(infos)
    found += [
        f"{shown_id(m)}: its report about its node does not hold up: {why}"
        for m, why in doubts.items()
    ]
    found += _version_problems(pre.versions)
    if mine_check is not None:
        found += _mine_problems(fleet, pre.mine, wanted_managers, wanted_workers, **mine_check)
    if found:
        found += role_change_problems(fleet, wanted_managers, wanted_workers, infos)
        raise SwarmError(plan_logic.REFUSED + "; ".join(found))
    result = plan_logic.bootstrap(*args)
    if result.existing_cluster and asked != result.first_manager:
        nodes = None  # the first manager could not list them: the orchestrate fails there
    if nodes is not None:
        result = plan_logic.with_stale(result, infos, {n.id for n in nodes})
        result = plan_logic.with_role_changes(result, infos, nodes)
    planned = result.as_dict()
    planned["nodes"] = node_settings(
        fleet, result, infos, labels or [], drain_managers, _grain_labels(pre.grains, grain_rules)
    )
    members = [result.first_manager, *result.managers, *result.workers]
    planned["hostnames"] = {m: infos[m]["hostname"] for m in members}
    planned["unsettled"] = (
        sorted(planned["nodes"]) if nodes is None else plan_logic.unsettled(planned["nodes"], nodes)
    )
    planned["known_nodes"] = plan_logic.known_nodes(
        [planned["hostnames"][m] for m in result.to_join], nodes or []
    )
    if nodes is not None and not any(planned[k] for k in NOTHING_TO_DO):
        # Nothing to change: the final check can be made on the node list just read.
        found = conformance.differences(checks.wanted(planned), nodes)
        planned["seen"] = {"differences": found, "manager": asked}
    for warning in result.warnings:
        log.warning("swarm.plan: %s", warning)
    return planned


def _node_list(fleet, infos, managers):
    """(manager asked, its node list) from the first of pillar's managers that is an
    active manager (its list came with the preflight), or (None, None)."""
    active = active_managers(infos, managers)
    if not active:
        return None, None
    try:
        return fleet.nodes_from(active[:1])
    except SwarmError as exc:  # no leader: the orchestrate fails at the first manager
        log.warning("swarm.plan: cannot list the nodes: %s", exc)
        return None, None


def _version_problems(versions: dict) -> list[str]:
    """Members that run another salt-swarm than the master's (and its formula)."""
    other = {m: v for m, v in sorted(versions.items()) if v != __version__}
    if not other:
        return []
    named = ", ".join(f"{m} ({v or 'older than 0.2'})" for m, v in other.items())
    return [
        f"salt-swarm versions differ: the master runs {__version__}, {named}: install "
        f"salt-swarm {__version__} on every member (docs/install.md)"
    ]


def _grain_labels(grains: dict, rules) -> dict:
    """minion -> ``{labels, owned}``: what the master's rules make of the grains each
    member sent (only the keys the rules own can come out)."""
    if not rules:
        return {}
    out = {}
    for minion, values in grains.items():
        found = grain_labels.taken(values or {}, rules)
        for why in found.warnings():
            log.warning("swarm:grain_labels: %s: %s", shown_id(minion), why)
        out[minion] = {"labels": found.labels, "owned": found.owned}
    return out


def _mine_problems(fleet, mine, managers, workers, names, trust_grains) -> list[str]:
    """The managers' mine entries: present, each token readable only by whom it is for."""
    nodegroups = fleet.opts.get("nodegroups")
    found = mine_acl.problems(mine, managers, workers, names or {}, trust_grains, nodegroups)
    for tgt, tgt_type, kind in mine_acl.acls(mine, managers):
        readers = set(fleet.matched(tgt, tgt_type)[0])
        found += mine_acl.reader_problems(kind, tgt, readers, managers, workers)
    return sorted(set(found))


def role_change_problems(fleet, managers, workers, infos) -> list[str]:
    """On a refused plan, also say whether the role changes pillar asks would break
    quorum: the operator then fixes both at once."""
    answering_managers = [m for m in managers if infos.get(m)]
    active = active_managers(infos, answering_managers)
    if not active:
        return []
    try:
        _, nodes = fleet.nodes_from(active)
        partial = plan_logic.BootstrapPlan(
            first_manager=active[0],
            managers=[m for m in answering_managers if m != active[0]],
            workers=[w for w in workers if infos.get(w)],
        )
        plan_logic.with_role_changes(partial, infos, nodes)
    except SwarmError as exc:
        return [str(exc).removeprefix(plan_logic.REFUSED)]
    return []


def node_settings(fleet, result, infos, labels, drain_managers, from_grains=None):
    """hostname -> {role, availability, labels, labels_owned} for every member, from
    the role and label targets; the labels each member's grains give come first
    (``swarm:grain_labels``), pillar's label rules override them."""
    members = [result.first_manager, *result.managers, *result.workers]
    managers = {result.first_manager, *result.managers}
    from_grains = from_grains or {}
    wanted = {m: {"labels": dict((from_grains.get(m) or {}).get("labels") or {})} for m in members}
    if not isinstance(labels, list):
        raise SaltInvocationError("labels: expected a list of {tgt, tgt_type, labels}")
    for rule in labels:
        tgt, tgt_type = targets.target(rule, "labels")
        if not isinstance(rule.get("labels"), dict):
            raise SaltInvocationError(f"labels: the rule for {tgt!r} has no labels mapping")
        for minion in fleet.matched(tgt, tgt_type)[0]:
            if minion in wanted:
                wanted[minion]["labels"].update(rule["labels"])
    nodes = {}
    for minion in members:
        node = {"labels": wanted[minion]["labels"]}
        owned = (from_grains.get(minion) or {}).get("owned")
        if owned:
            node["labels_owned"] = list(owned)
        node["role"] = "manager" if minion in managers else "worker"
        node["availability"] = "drain" if drain_managers and minion in managers else "active"
        nodes[infos[minion]["hostname"]] = node
    return nodes
