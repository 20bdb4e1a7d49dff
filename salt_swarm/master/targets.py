"""Role targets as pillar writes them, checked, and the managers pillar names."""

from __future__ import annotations

from salt.exceptions import SaltInvocationError

from salt_swarm.core import role_targets
from salt_swarm.core.errors import SwarmError

TARGET_TYPES = role_targets.TARGET_TYPES


def target(spec, role) -> tuple[str, str]:
    """``{tgt, tgt_type}`` (or a plain glob string, or a list of ids) -> (tgt, tgt_type)."""
    try:
        return role_targets.target(spec, role)
    except SwarmError as exc:
        raise SaltInvocationError(str(exc)) from None


def pillar_managers(fleet) -> list[str]:
    """The minions pillar ``swarm:managers`` matches (none when it is unset or bad): the
    only minions whose node list and join data the master uses."""
    try:
        conf = fleet.swarm_pillar()
        if conf.get("managers"):
            return fleet.matched(*target(conf["managers"], "managers"))[0]
    except SaltInvocationError:
        pass
    return []
