"""The members the role targets name, and what each of them answered to preflight.

``swarm.plan`` and ``swarm.check`` both start here: pillar's (or the runner's)
``managers`` and ``workers`` targets resolved to minions, the ids they name that no
minion has, and one ``swarm.preflight`` publish to everyone they match.
"""

from __future__ import annotations

from dataclasses import dataclass

from salt_swarm.master import targets
from salt_swarm.master.fleet import Fleet, Preflight


@dataclass(frozen=True)
class RoleMembers:
    managers: list[str]  # the minions the managers target matches
    workers: list[str]  # the minions the workers target matches (none without one)
    missing: list[str]  # ids the targets name that no minion has: managers', then workers'
    everyone: list[str]  # managers and workers, sorted, each once
    preflight: Preflight  # what everyone answered


def role_members(fleet: Fleet, managers, workers, grain_rules=None) -> RoleMembers:
    """The members ``managers`` and ``workers`` (role targets as pillar writes them)
    name, preflighted in one publish (``grain_rules``: as for ``Fleet.preflight``).
    Raises SaltInvocationError on a bad target."""
    m_tgt, m_type = targets.target(managers, "managers")
    wanted_managers, m_missing = fleet.matched(m_tgt, m_type)
    wanted_workers, w_missing = [], []
    if workers:
        w_tgt, w_type = targets.target(workers, "workers")
        wanted_workers, w_missing = fleet.matched(w_tgt, w_type)
    everyone = sorted(set(wanted_managers) | set(wanted_workers))
    return RoleMembers(
        managers=wanted_managers,
        workers=wanted_workers,
        missing=m_missing + w_missing,
        everyone=everyone,
        preflight=fleet.preflight(everyone, grain_rules),
    )
