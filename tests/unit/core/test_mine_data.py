"""Unit tests for salt_swarm.core.mine_data: join data from the managers' mine entries."""

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.mine_data import join_data, usable


def tokens(cluster="c1", digest="a", role="worker"):
    """A manager's mine entry of ``role``'s token."""
    return {"cluster_id": cluster, role: f"SWMTKN-1-{digest * 50}-{role[0] * 25}"}


ADDRS = {"m1": "10.0.0.1:2377", "m2": "10.0.0.2:2377", "m3": "10.0.0.3:2377"}


def test_error_texts_and_none_are_never_used():
    got = usable(
        {"m1": "Error: docker down", "m2": None, "m3": "10.0.0.3:2377"},
        {"m1": "Error: no swarm", "m2": None, "m3": tokens()},
        "worker",
    )
    assert got == {"managers": ["10.0.0.3:2377"], "tokens": tokens(), "source": "m3"}


def test_nothing_usable_is_none():
    assert usable({"m1": None}, {"m1": None}, "worker") is None
    assert (
        usable({"m1": "10.0.0.1:2377"}, {"m1": {"cluster_id": "c", "worker": "y"}}, "worker")
        is None
    )
    assert usable({}, {"m1": tokens()}, "worker") is None


def test_an_entry_gives_only_the_token_of_the_role_asked():
    entry = {**tokens(), **tokens(role="manager")}  # an entry holding both (0.1's shape)
    got = usable(ADDRS, {"m1": entry}, "worker")
    assert got["tokens"] == tokens()
    assert usable(ADDRS, {"m1": tokens()}, "manager") is None  # a worker entry: no manager token


def test_two_swarms_without_a_preference_is_an_error_naming_both():
    with pytest.raises(SwarmError, match="2 different swarms.*c1, c2"):
        usable(ADDRS, {"m1": tokens("c1"), "m2": tokens("c2", "b")}, "worker")


def test_with_a_preference_the_preferred_swarm_wins_and_stale_entries_drop_out():
    got = usable(
        ADDRS,
        {"m1": tokens("c1"), "m2": tokens("c2", "b"), "m3": tokens("c1")},
        "worker",
        prefer=["m3", "m1"],
    )
    assert got["source"] == "m3"
    assert got["tokens"]["cluster_id"] == "c1"
    assert got["managers"] == ["10.0.0.3:2377", "10.0.0.1:2377"]  # m2 serves another swarm


def test_own_address_is_left_out_and_managers_with_tokens_come_first():
    got = usable(ADDRS, {"m2": tokens()}, "worker", exclude="10.0.0.1")
    assert got["managers"] == ["10.0.0.2:2377", "10.0.0.3:2377"]


def test_a_preferred_manager_without_tokens_falls_back_to_the_next():
    got = usable(ADDRS, {"m1": None, "m2": tokens()}, "worker", prefer=["m1", "m2"])
    assert got["source"] == "m2" and got["managers"][0] == "10.0.0.2:2377"


def test_join_data_with_a_given_token_reads_whatever_role_the_joiner_may_read():
    worker, manager = tokens(), tokens(role="manager")
    # A worker asking to join as manager with a token: it reads only the worker entry.
    got = join_data(ADDRS, {"worker": {"m1": worker}, "manager": {}}, "manager", need_token=False)
    assert got["tokens"] == worker and got["managers"][0] == "10.0.0.1:2377"
    assert join_data(ADDRS, {"worker": {"m1": worker}}, "manager") is None  # token needed
    # A manager reads both: the tokens of one swarm, merged.
    both = join_data(ADDRS, {"worker": {"m1": worker}, "manager": {"m1": manager}}, "worker")
    assert both["tokens"] == {**worker, **manager}
    other = tokens("c2", "b", role="manager")
    mixed = join_data(ADDRS, {"worker": {"m1": worker}, "manager": {"m1": other}}, "worker")
    assert mixed["tokens"] == worker  # another swarm's entry is not merged in
