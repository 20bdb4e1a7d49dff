"""``swarm.recover``: a swarm that lost quorum, rebuilt around one manager that still
runs (force-new-cluster), its dead managers removed, the other managers joined again."""

from __future__ import annotations

import time

from salt.exceptions import SaltInvocationError

from salt_swarm.core.cluster import health
from salt_swarm.core.errors import SwarmError
from salt_swarm.master import targets
from salt_swarm.master.fleet import Fleet, active_managers


def recover(fleet: Fleet, wait: float, steps: list[str]) -> dict:
    """``{survivor, steps, still_down}``; each step done is appended to ``steps`` as it
    happens, so a caller that gets a SwarmError still knows what was done."""
    conf = fleet.swarm_pillar()
    if not conf.get("managers"):
        raise SaltInvocationError("pillar swarm:managers is empty: who are the managers?")
    managers = fleet.matched(*targets.target(conf["managers"], "managers"))[0]
    infos, _ = fleet.infos(managers)
    standing = active_managers(infos, managers)
    _refuse_unless_quorum_lost(fleet, standing)
    survivor = standing[0]
    fleet.call(survivor, "swarm.init", force_new_cluster=True, timeout=wait)
    steps.append(f"{survivor}: force-new-cluster")
    me = infos[survivor]["node_id"]
    for node in _wait_nodes(fleet, survivor, wait):
        if node.is_manager and node.id != me and node.status != "ready":
            fleet.call(survivor, "swarm.remove_node", [node.id], force=True)
            steps.append(f"{node.hostname}: down manager demoted and removed")
    fleet.call(survivor, "swarm.mine_refresh")
    for minion in [m for m in managers if m != survivor and infos.get(m)]:
        fleet.call(minion, "swarm.leave", force=True)
        # swarm.manager sends the mine entries itself (mine_update)
        fleet.call(minion, "state.sls", ["swarm.manager"], timeout=120)
        steps.append(f"{minion}: left the broken swarm and joined again as a manager")
    still_down = sorted(m for m in managers if m != survivor and not infos.get(m))
    return {"survivor": survivor, "steps": steps, "still_down": still_down}


def _refuse_unless_quorum_lost(fleet: Fleet, standing: list[str]) -> None:
    try:
        _, nodes = fleet.nodes_from(standing)
    except SwarmError:
        nodes = None  # no leader to list them: quorum is lost, or no manager answers
    now = health(nodes) if nodes is not None else None
    if now and now["has_quorum"]:
        raise SwarmError(
            f"quorum is there ({now['reachable']} of {now['managers']} managers "
            f"reachable, leader {now['leader']}): nothing to recover"
        )
    if not standing:
        raise SwarmError(
            "no pillar manager's dockerd answers as a manager: nothing to recover from"
        )


def _wait_nodes(fleet: Fleet, manager: str, wait: float):
    deadline = time.monotonic() + float(wait)
    while True:
        try:
            return fleet.nodes_from([manager])[1]
        except SwarmError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
