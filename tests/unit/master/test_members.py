"""The members the role targets name (master/members.py), where swarm.plan and
swarm.check start: matched minions, the ids no minion has, one preflight to everyone."""

import pytest
from salt.exceptions import SaltInvocationError

from salt_swarm.master.fleet import Preflight
from salt_swarm.master.members import role_members


class FakeFleet:
    minions = ("m1", "m2", "w1", "w2")

    def __init__(self):
        self.preflights = []

    def matched(self, tgt, tgt_type):
        if tgt_type == "list":
            ids = tgt.split(",") if isinstance(tgt, str) else list(tgt)
            return [i for i in ids if i in self.minions], [i for i in ids if i not in self.minions]
        return [m for m in self.minions if m.startswith(tgt.rstrip("*"))], []

    def preflight(self, minions, grain_rules=None):
        self.preflights.append((list(minions), grain_rules))
        return Preflight(live=set(minions))


def test_managers_and_workers_are_matched_and_everyone_preflighted_once():
    fleet = FakeFleet()
    rules = [{"grain": "zone"}]
    got = role_members(fleet, "m*", {"tgt": "w*"}, rules)
    assert (got.managers, got.workers, got.missing) == (["m1", "m2"], ["w1", "w2"], [])
    assert got.everyone == ["m1", "m2", "w1", "w2"]
    assert fleet.preflights == [(["m1", "m2", "w1", "w2"], rules)]
    assert got.preflight.live == {"m1", "m2", "w1", "w2"}


def test_missing_ids_come_managers_first_and_a_member_of_both_roles_is_asked_once():
    fleet = FakeFleet()
    got = role_members(fleet, ["m1", "ghost-m", "w1"], ["w1", "ghost-w"])
    assert got.missing == ["ghost-m", "ghost-w"]
    assert got.everyone == ["m1", "w1"]
    assert fleet.preflights == [(["m1", "w1"], None)]


def test_without_workers_only_the_managers_are_asked():
    fleet = FakeFleet()
    got = role_members(fleet, "m*", None)
    assert (got.workers, got.everyone) == ([], ["m1", "m2"])


def test_a_bad_target_is_refused_before_any_publish():
    fleet = FakeFleet()
    with pytest.raises(SaltInvocationError, match="managers"):
        role_members(fleet, {"tgt": "m*", "tgt_type": "nonsense"}, None)
    assert fleet.preflights == []
