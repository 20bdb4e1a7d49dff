"""Unit tests for salt_swarm.core.quorum (Raft quorum arithmetic)."""

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.quorum import (
    RECOMMENDED_MAX_MANAGERS,
    ManagerCounts,
    check_manager_removal,
    failures_tolerated,
    manager_count_warnings,
    quorum,
)

# managers -> (quorum, failures tolerated)
TABLE = [
    (0, 1, 0),
    (1, 1, 0),
    (2, 2, 0),
    (3, 2, 1),
    (4, 3, 1),
    (5, 3, 2),
    (6, 4, 2),
    (7, 4, 3),
    (8, 5, 3),
    (9, 5, 4),
]


@pytest.mark.parametrize(("managers", "expected_quorum", "expected_failures"), TABLE)
def test_quorum_and_failures_tolerated(managers, expected_quorum, expected_failures):
    assert quorum(managers) == expected_quorum
    assert failures_tolerated(managers) == expected_failures


@pytest.mark.parametrize("managers", range(1, 10))
def test_tolerated_failures_leave_a_quorum(managers):
    # losing exactly failures_tolerated(n) managers keeps quorum, one more loses it
    left = managers - failures_tolerated(managers)
    assert left >= quorum(managers)
    assert left - 1 < quorum(managers)


# -- ManagerCounts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "reachable", "expected"),
    [
        (0, 0, False),
        (1, 1, True),
        (1, 0, False),
        (2, 2, True),
        (2, 1, False),
        (3, 3, True),
        (3, 2, True),
        (3, 1, False),
        (4, 3, True),
        (4, 2, False),
        (5, 3, True),
        (5, 2, False),
        (7, 4, True),
        (7, 3, False),
    ],
)
def test_has_quorum(total, reachable, expected):
    assert ManagerCounts(total, reachable).has_quorum() is expected


@pytest.mark.parametrize(
    ("total", "reachable", "expected"),
    [
        (
            3,
            2,
            "2 of 3 managers reachable, quorum is 2, survives 0 more manager failure(s) "
            "(1 with all reachable)",
        ),
        (5, 5, "5 of 5 managers reachable, quorum is 3, survives 2 more manager failure(s)"),
        (1, 1, "1 of 1 managers reachable, quorum is 1, survives 0 more manager failure(s)"),
        (
            5,
            4,
            "4 of 5 managers reachable, quorum is 3, survives 1 more manager failure(s) "
            "(2 with all reachable)",
        ),
        (
            4,
            1,
            "1 of 4 managers reachable, quorum is 3, survives 0 more manager failure(s) "
            "(1 with all reachable)",
        ),
    ],
)
def test_describe(total, reachable, expected):
    assert ManagerCounts(total, reachable).describe() == expected


def test_manager_counts_is_frozen():
    counts = ManagerCounts(3, 3)
    with pytest.raises(AttributeError):
        counts.total = 1  # type: ignore[misc]


# -- check_manager_removal: allowed --------------------------------------------------


@pytest.mark.parametrize(
    ("total", "reachable", "removed_reachable"),
    [
        (3, 3, True),  # 3 of 3 reachable, remove one -> 2 of 2
        (3, 2, False),  # remove the one that is down -> 2 of 2
        (5, 4, True),  # 5 with 1 down, remove a live one -> 3 of 4 (quorum 3)
        (5, 4, False),  # 5 with 1 down, remove the dead one -> 4 of 4
        (5, 5, True),
        (2, 2, True),  # -> 1 of 1
        (4, 3, False),
        (7, 5, True),  # -> 4 of 6 (quorum 4)
    ],
)
def test_removal_allowed(total, reachable, removed_reachable):
    assert (
        check_manager_removal(ManagerCounts(total, reachable), removed_reachable, "demote") is None
    )


# -- check_manager_removal: refused --------------------------------------------------


@pytest.mark.parametrize(("total", "reachable"), [(1, 1), (1, 0), (0, 0)])
def test_removing_the_last_manager_is_refused(total, reachable):
    with pytest.raises(SwarmError, match="refusing to leave: it is the last manager") as err:
        check_manager_removal(ManagerCounts(total, reachable), True, "leave")
    assert "force=True" in str(err.value)


@pytest.mark.parametrize(
    ("total", "reachable", "removed_reachable", "numbers"),
    [
        (3, 1, False, "1 of 3 managers reachable, quorum is 2"),
        (3, 1, True, "1 of 3 managers reachable, quorum is 2"),
        (2, 1, False, "1 of 2 managers reachable, quorum is 2"),
        (5, 2, False, "2 of 5 managers reachable, quorum is 3"),
    ],
)
def test_removal_without_quorum_now_is_refused(total, reachable, removed_reachable, numbers):
    with pytest.raises(SwarmError, match="refusing to remove: the swarm has no quorum now") as e:
        check_manager_removal(ManagerCounts(total, reachable), removed_reachable, "remove")
    assert numbers in str(e.value)


@pytest.mark.parametrize(
    ("total", "reachable", "after"),
    [
        # 3 with one down: removing a live one leaves 1 of 2, quorum 2
        (3, 2, "leave 1 of 2 managers reachable, below the quorum of 2"),
        # 5 with two down: removing a live one leaves 2 of 4, quorum 3
        (5, 3, "leave 2 of 4 managers reachable, below the quorum of 3"),
        # 7 with three down: removing a live one leaves 3 of 6, quorum 4
        (7, 4, "leave 3 of 6 managers reachable, below the quorum of 4"),
    ],
)
def test_removal_that_breaks_quorum_is_refused(total, reachable, after):
    counts = ManagerCounts(total, reachable)
    with pytest.raises(SwarmError, match="refusing to demote: it would") as err:
        check_manager_removal(counts, True, "demote")
    message = str(err.value)
    assert after in message
    assert f"(now {counts.describe()})" in message
    assert "force=True" in message


@pytest.mark.parametrize(("total", "reachable"), [(3, 2), (5, 3), (7, 4)])
def test_same_counts_allow_removing_an_unreachable_manager(total, reachable):
    # the counterpart of the refusals above: the removed manager was already down
    check_manager_removal(ManagerCounts(total, reachable), False, "demote")


# -- manager_count_warnings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, []),
        (1, []),
        (2, ["2 managers: an even count tolerates no more failures than 1 (0); use an odd number"]),
        (3, []),
        (4, ["4 managers: an even count tolerates no more failures than 3 (1); use an odd number"]),
        (5, []),
        (7, []),
        (
            8,
            [
                "8 managers: an even count tolerates no more failures than 7 (3); "
                "use an odd number",
                "8 managers: more than 7 slows every Raft write; Docker advises at most 7",
            ],
        ),
        (9, ["9 managers: more than 7 slows every Raft write; Docker advises at most 7"]),
    ],
)
def test_manager_count_warnings(count, expected):
    assert manager_count_warnings(count) == expected


def test_recommended_max_is_seven():
    assert RECOMMENDED_MAX_MANAGERS == 7
