"""Role targets as pillar writes them, checked, and the managers pillar names."""

from __future__ import annotations

from salt.exceptions import SaltInvocationError

from salt_swarm.core import pillar_check

TARGET_TYPES = pillar_check.TARGET_TYPES


def target(spec, role) -> tuple[str, str]:
    """``{tgt, tgt_type}`` (or a plain glob string, or a list of ids) -> (tgt, tgt_type)."""
    if isinstance(spec, str):
        spec = {"tgt": spec}
    elif isinstance(spec, list):
        spec = {"tgt": ",".join(str(m) for m in spec), "tgt_type": "list"}
    if not isinstance(spec, dict) or not spec.get("tgt"):
        raise SaltInvocationError(
            f"{role}: expected a target such as {{tgt: 'manager*', tgt_type: glob}}, got {spec!r}"
        )
    tgt_type = spec.get("tgt_type", "glob")
    if tgt_type not in TARGET_TYPES:
        raise SaltInvocationError(
            f"{role}: tgt_type {tgt_type!r} is not one of {', '.join(TARGET_TYPES)}"
        )
    return spec["tgt"], tgt_type


def pillar_managers(fleet) -> list[str]:
    """The minions pillar ``swarm:managers`` matches (none when it is unset or bad)."""
    try:
        conf = fleet.swarm_pillar()
        if conf.get("managers"):
            return fleet.matched(*target(conf["managers"], "managers"))[0]
    except SaltInvocationError:
        pass
    return []
