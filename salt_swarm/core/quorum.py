"""Raft quorum arithmetic for swarm managers, and the checks that refuse to break it.

N managers need floor(N/2)+1 reachable to keep quorum, so they survive (N-1)//2
failures. A change to the manager set is itself a Raft write: it needs quorum now,
and the set that results must still have quorum.
"""

from __future__ import annotations

from dataclasses import dataclass

from salt_swarm.core.errors import Refused

RECOMMENDED_MAX_MANAGERS = 7


def quorum(managers: int) -> int:
    return managers // 2 + 1


def failures_tolerated(managers: int) -> int:
    return max(managers - 1, 0) // 2


def more_failures_tolerated(managers: int, reachable: int) -> int:
    """How many more managers may fail now, with ``reachable`` of them up."""
    return max(reachable - quorum(managers), 0) if managers else 0


def tolerance_text(managers: int, reachable: int) -> str:
    """'survives 0 more manager failure(s) (1 with all reachable)'."""
    text = f"survives {more_failures_tolerated(managers, reachable)} more manager failure(s)"
    if reachable < managers:
        text += f" ({failures_tolerated(managers)} with all reachable)"
    return text


@dataclass(frozen=True)
class ManagerCounts:
    total: int
    reachable: int

    def has_quorum(self) -> bool:
        return self.total > 0 and self.reachable >= quorum(self.total)

    def describe(self) -> str:
        return (
            f"{self.reachable} of {self.total} managers reachable, quorum is "
            f"{quorum(self.total)}, {tolerance_text(self.total, self.reachable)}"
        )


def check_manager_removal(counts: ManagerCounts, removed_reachable: bool, action: str) -> None:
    """Raise unless removing one manager (demote, remove, leave) keeps quorum.

    ``removed_reachable`` says whether the manager going away is currently reachable.
    """
    if counts.total <= 1:
        raise Refused(
            action,
            "it is the last manager; the swarm would be lost (use force=True to do it anyway)",
        )
    if not counts.has_quorum():
        raise Refused(action, f"the swarm has no quorum now ({counts.describe()})")
    after = ManagerCounts(counts.total - 1, counts.reachable - (1 if removed_reachable else 0))
    if not after.has_quorum():
        raise Refused(
            action,
            f"it would leave {after.reachable} of {after.total} managers reachable, below the "
            f"quorum of {quorum(after.total)} (now {counts.describe()}); use force=True to do "
            "it anyway",
        )


def manager_count_warnings(count: int) -> list[str]:
    """Operator advice for a wanted number of managers (not errors)."""
    warnings = []
    if count > 0 and count % 2 == 0:
        warnings.append(
            f"{count} managers: an even count tolerates no more failures than {count - 1} "
            f"({failures_tolerated(count)}); use an odd number"
        )
    if count > RECOMMENDED_MAX_MANAGERS:
        warnings.append(
            f"{count} managers: more than {RECOMMENDED_MAX_MANAGERS} slows every Raft write; "
            "Docker advises at most 7"
        )
    return warnings
