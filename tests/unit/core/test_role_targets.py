"""swarm.own_role (the highstate's role): matched on the minion, after refusing the
targets a minion cannot or must not judge."""

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.role_targets import own_role


def test_own_role_is_the_first_role_whose_target_this_minion_matches():
    asked = []

    def matches(kind, tgt):
        asked.append((kind, tgt))
        return tgt in ("w1", "host4")

    conf = {"managers": ["m1", "m2"], "workers": "w1"}  # a plain list, a plain glob
    assert own_role(conf, matches) == "workers"
    assert asked == [("list", "m1,m2"), ("glob", "w1")]
    assert own_role({"managers": {"tgt": "m*"}}, matches) is None
    assert own_role({}, matches) is None


def test_own_role_refuses_what_a_minion_cannot_judge_before_matching():
    def never(kind, tgt):
        raise AssertionError("no target is matched once one is refused")

    for workers in (
        {"tgt": "g", "tgt_type": "nodegroup"},
        {"tgt": "x or N@g", "tgt_type": "compound"},
    ):
        with pytest.raises(
            SwarmError, match="swarm:workers: nodegroups are known to the master only"
        ):
            own_role({"managers": "m*", "workers": workers}, never)
    by_grain = {"managers": {"tgt": "role:m", "tgt_type": "grain"}}
    with pytest.raises(SwarmError, match="matches on grains"):
        own_role(by_grain, never)
    assert own_role({**by_grain, "trust_grains": True}, lambda k, t: True) == "managers"
    assert own_role({**by_grain, "token_store": "sdb://s/p"}, lambda k, t: True) == "managers"
