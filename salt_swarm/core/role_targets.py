"""Role targets as pillar writes them, and whether a target trusts a minion's word.

A grain is what a minion says about itself: a target by grain (``grain``,
``grain_pcre``, ``ipcidr``, or ``G@``/``P@``/``S@`` inside a compound, a nodegroup
defined with them) lets any minion choose its own role or read the manager token.
With a salt-master such targets are refused unless pillar ``swarm:trust_grains`` is
true (docs/security.md); masterless nodes (``salt-call --local``) decide for
themselves anyway.
"""

from __future__ import annotations

import re

from salt_swarm.core.errors import SwarmError

TARGET_TYPES = ("glob", "pcre", "list", "grain", "grain_pcre", "pillar", "compound", "nodegroup")
GRAIN_TYPES = ("grain", "grain_pcre", "ipcidr")
_GRAIN_ENGINES = re.compile(r"(?:^|[\s(])(?:not\s+)?[GPS]@")
_NODEGROUP = re.compile(r"(?:^|[\s(])N@(\S+)")


def target(spec, role: str) -> tuple[str, str]:
    """``{tgt, tgt_type}`` (or a plain glob string, or a list of ids) -> (tgt, tgt_type)."""
    if isinstance(spec, str):
        spec = {"tgt": spec}
    elif isinstance(spec, list):
        spec = {"tgt": ",".join(str(m) for m in spec), "tgt_type": "list"}
    if not isinstance(spec, dict) or not spec.get("tgt"):
        raise SwarmError(
            f"{role}: expected a target such as {{tgt: 'manager*', tgt_type: glob}}, got {spec!r}"
        )
    tgt_type = spec.get("tgt_type", "glob")
    if tgt_type not in TARGET_TYPES:
        raise SwarmError(f"{role}: tgt_type {tgt_type!r} is not one of {', '.join(TARGET_TYPES)}")
    tgt = spec["tgt"]
    if isinstance(tgt, list):
        tgt = ",".join(str(m) for m in tgt)
    return tgt, tgt_type


def grain_based(tgt, tgt_type: str, nodegroups: dict | None = None, _seen=()) -> bool:
    """Whether the target matches on grains (what minions say about themselves)."""
    if tgt_type in GRAIN_TYPES:
        return True
    if tgt_type == "nodegroup":
        return _nodegroup_grain_based(str(tgt), nodegroups, _seen)
    if tgt_type != "compound":
        return False
    text = " ".join(tgt) if isinstance(tgt, list) else str(tgt)
    if _GRAIN_ENGINES.search(text):
        return True
    return any(_nodegroup_grain_based(n, nodegroups, _seen) for n in _NODEGROUP.findall(text))


def _nodegroup_grain_based(name: str, nodegroups, seen) -> bool:
    if name in seen:
        return False
    definition = (nodegroups or {}).get(name)
    if definition is None:
        return False  # unknown here (a minion): the master checks its own nodegroups
    return grain_based(definition, "compound", nodegroups, (*seen, name))


def refuse_grain_target(spec, field: str, trust_grains: bool, nodegroups=None) -> None:
    """SwarmError when ``spec`` matches on grains and grains are not trusted."""
    if trust_grains or spec in (None, "", {}, []):
        return
    tgt, tgt_type = target(spec, field)
    if grain_based(tgt, tgt_type, nodegroups):
        raise SwarmError(
            f"{field}: the target {tgt!r} ({tgt_type}) matches on grains, which every minion "
            "sets for itself: any minion could choose this role. Use a target the master "
            "decides (glob, pcre or list of minion ids, pillar, a nodegroup of those), or "
            "set swarm:trust_grains: true if every minion is trusted (docs/security.md)"
        )


def own_role(conf: dict, matches) -> str | None:
    """``managers``, ``workers`` or None: the first role whose target in ``conf`` (the
    ``swarm:`` settings) this minion matches, asked of ``matches(tgt_type, tgt)`` (the
    minion's own matchers: the highstate decides on the minion). Raises for targets a
    minion cannot or must not judge: nodegroups (the master's only; a minion's
    matcher would quietly give no role) and, with a master, targets by grain unless
    ``swarm:trust_grains``. Both roles' targets are checked before either is matched."""
    found = {}
    for key in ("managers", "workers"):
        spec = conf.get(key)
        if spec in (None, "", {}, []):
            continue
        field = f"swarm:{key}"
        tgt, tgt_type = target(spec, field)
        if tgt_type == "nodegroup" or (tgt_type == "compound" and _NODEGROUP.search(tgt)):
            raise SwarmError(
                f"{field}: nodegroups are known to the master only (a minion cannot expand "
                "N@ or a nodegroup target); highstate needs glob, list, pcre, pillar or a "
                "compound without N@"
            )
        if not conf.get("token_store"):  # masterless nodes decide for themselves anyway
            refuse_grain_target(spec, field, conf.get("trust_grains") is True)
        found[key] = (tgt, tgt_type)
    for key, (tgt, tgt_type) in found.items():
        if matches(tgt_type, tgt):
            return key
    return None
