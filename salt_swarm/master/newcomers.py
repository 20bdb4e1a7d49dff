"""A minion that starts joins the swarm by its pillar role: what the reactor runs on
``salt/minion/*/start`` (runner ``swarm.join_minion``), checked before anything changes.

The event's ``data["id"]`` is set by the master to the authenticated sender; its tag
is what the sender wrote, so a tag naming another minion is refused. A minion that
is already an active member with its role gets nothing: a start event never changes
a member's availability or labels (an operator's drain stays). A minion that joins
reports its new node id; the master applies availability and labels to that node
only when the report holds up (core.claims) and the node is new in the managers'
list. Its labels come from pillar's rules and, with ``swarm:grain_labels``, from the
grains the master has cached for it, limited to the keys the rules own.
"""

from __future__ import annotations

import logging
import time

from salt_swarm import salt_internals
from salt_swarm.core import claims, grain_labels, pillar_check, settings
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.minion_ids import check_minion_id, check_start_tag, shown_id
from salt_swarm.master import joins, targets
from salt_swarm.master.fleet import Fleet, active_managers

log = logging.getLogger(__name__)

NO_MANAGER_IN_MINE = (
    "no active manager yet (no manager's address and join token in the master's mine): "
    "swarm.bootstrap creates the swarm"
)
LISTED_WAIT = 20  # seconds for a new node to show in the managers' list with its hostname


def role_of(fleet: Fleet, minion: str, conf: dict) -> str | None:
    for role in ("managers", "workers"):
        if conf.get(role) and minion in fleet.matched(*targets.target(conf[role], role))[0]:
            return role[:-1]
    return None


def pillar_labels(fleet: Fleet, minion: str, rules) -> dict:
    labels = {}
    for rule in rules or []:
        if minion in fleet.matched(*targets.target(rule, "labels"))[0]:
            labels.update(rule.get("labels") or {})
    return labels


def join_minion(fleet: Fleet, minion: str, event_tag=None) -> dict:
    """Bring ``minion`` into the swarm by its pillar role; the runner's return."""
    check_minion_id(minion)
    if event_tag is not None:
        check_start_tag(event_tag, minion)
    result = {"minion": minion, "role": None, "joined": False, "node": {}}
    if minion not in fleet.accepted():
        raise SwarmError(f"{minion} has no accepted key")
    conf = fleet.swarm_pillar()
    found = pillar_check.grain_problems(conf, fleet.opts.get("nodegroups"))
    if found:
        raise SwarmError("; ".join(found))
    role = result["role"] = role_of(fleet, minion, conf)
    if role is None:
        result["comment"] = "in no swarm role"
        return result
    if not conf.get("managers"):
        result["comment"] = "pillar swarm:managers names no manager to join through"
        return result
    managers = fleet.matched(*targets.target(conf["managers"], "managers"))[0]
    others = [m for m in managers if m != minion]
    if not joins.join_data(fleet.opts, others, role):
        # The join goes through the mine: with no manager's entries there, nothing
        # to ask the minions (this is every minion start before the bootstrap).
        result["comment"] = NO_MANAGER_IN_MINE
        return result
    infos, _ = fleet.infos(sorted({*managers, minion}))
    active = active_managers(infos, others)
    if not active:
        result["comment"] = "no active manager yet: swarm.bootstrap creates the swarm"
        return result
    manager, before = fleet.nodes_from(active)
    doubts = fleet.remember(infos, before)
    if minion in doubts:
        raise SwarmError(f"its report about its own node does not hold up: {doubts[minion]}")
    info = infos.get(minion)
    if not info:
        raise SwarmError("swarm.info failed (is its dockerd running?)")
    if info["state"] == "active" and info["manager"] == (role == "manager"):
        result["comment"] = (
            f"already a {role} of the swarm: a start event changes nothing on a member"
        )
        return result
    # The module function, not the state: no state compiler on a minion that just
    # started; the address and mine settings come from its pillar alike.
    fleet.call(minion, "swarm.join", role=role, timeout=120)
    result["joined"] = True
    if role == "manager":
        fleet.call(minion, "swarm.mine_refresh")
    node_id, after = _new_node(fleet, manager, minion, role, {n.id for n in before})
    drain = role == "manager" and conf.get("drain_managers", settings.default("drain_managers"))
    labels, owned = _labels(fleet, minion, conf)
    result["node"] = fleet.call(
        manager,
        "swarm.node_update",
        [node_id],
        availability="drain" if drain else "active",
        labels=labels,
        labels_owned=owned or None,
    )
    result["stale_removed"] = _old_nodes_removed(fleet, manager, minion, node_id, after)
    return result


def _new_node(fleet, manager, minion, role, before_ids):
    """The node the minion reports after its join, once the managers list it with its
    hostname: new (not listed before), and the report holds up."""
    deadline = time.monotonic() + LISTED_WAIT
    while True:
        info = claims.well_formed(fleet.call(minion, "swarm.info"))
        _, nodes = fleet.nodes_from([manager])
        listed = {n.id: n for n in nodes}
        node = listed.get((info or {}).get("node_id"))
        if node is not None and node.hostname:
            break
        if time.monotonic() > deadline:
            raise SwarmError(
                f"joined as {role}, but the managers do not list the node it reports "
                f"({(info or {}).get('node_id')}) after {LISTED_WAIT} s: its settings "
                "are left to the orchestrate"
            )
        time.sleep(0.5)
    if node.id in before_ids:
        raise SwarmError(
            f"joined as {role}, but reports node {node.id}, which was in the swarm before "
            "its join: not its new node; its settings are left to the orchestrate"
        )
    doubts = fleet.remember({minion: info}, nodes)
    if minion in doubts:
        raise SwarmError(
            f"joined as {role}, but its report about its node does not hold up: "
            f"{doubts[minion]}; its settings are left to the orchestrate"
        )
    return node.id, nodes


def _labels(fleet, minion, conf):
    """(labels, owned patterns): pillar's rules over what the grain rules make of the
    grains the master has cached for the minion."""
    rules = conf.get("grain_labels")
    labels, owned = {}, []
    if rules:
        found = grain_labels.taken(salt_internals.cached_grains(fleet.opts, minion), rules)
        for why in found.warnings():
            log.warning("swarm:grain_labels: %s: %s", shown_id(minion), why)
        labels, owned = found.labels, found.owned
    labels.update(pillar_labels(fleet, minion, conf.get("labels")))
    return labels, owned


def _old_nodes_removed(fleet, manager, minion, node_id, nodes, wait=60) -> list[dict]:
    """Worker nodes the record gives to this minion besides its new one (a rebuilt
    host's old self), removed once Docker marks them Down (a few seconds after the
    new join; up to ``wait``). A manager's old node is never removed here: that is
    for ``salt-run swarm.prune``."""
    record = fleet.record()
    old = {
        n.id for n in nodes if n.id != node_id and record.get(n.id) == minion and not n.is_manager
    }
    removed = []
    deadline = time.monotonic() + wait
    while old:
        for node in fleet.nodes_from([manager])[1]:
            if node.id in old and node.status != "ready":
                res = fleet.call(manager, "swarm.remove_node", [node.id])
                removed.append(
                    {"id": node.id, "hostname": node.hostname, "steps": res.get("steps")}
                )
                old.discard(node.id)
        listed = {n.id for n in fleet.nodes_from([manager])[1]} if old else set()
        old &= listed
        if not old or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return removed
