"""The node settings and the check against a plan (master/checks.py), shared by the
runner and the orchestrate's states: the check reads the node list from the plan's
managers (first manager first), records a join's node only where the report holds
up, and the settings run through the first active manager, a refusal being final."""

import pytest

from salt_swarm.core.conformance import Wanted
from salt_swarm.core.errors import SwarmError
from salt_swarm.master import checks
from tests.unit.master.fakes import SILENT, Fail, FakeFleet, row

EXPECT = {
    "first_manager": "m2",
    "managers": ["m1"],
    "workers": ["w1"],
    "hostnames": {"m1": "host-m1", "m2": "host-m2", "w1": "host-w1"},
    "nodes": {"host-w1": {"availability": "active", "labels": {"zone": "a"}}},
}


def rows(w1_labels=None):
    return [
        row("n-m1", "host-m1", "manager", availability="drain"),
        row("n-m2", "host-m2", "manager", availability="drain", leader=True),
        row("n-w1", "host-w1", labels={"zone": "a"} if w1_labels is None else w1_labels),
    ]


def fleet_of(**kw):
    return FakeFleet(minions=["m1", "m2", "w1"], pillar={"managers": "m*"}, **kw)


def test_wanted_puts_the_first_manager_first():
    want = checks.wanted(EXPECT)
    assert want == Wanted(
        managers=["m2", "m1"],
        workers=["w1"],
        hostnames={"m1": "host-m1", "m2": "host-m2", "w1": "host-w1"},
        nodes={"host-w1": {"availability": "active", "labels": {"zone": "a"}}},
    )


def test_a_swarm_as_the_plan_says_passes_through_the_first_manager():
    fleet = fleet_of(rows=rows())
    got = checks.check_expected(fleet, EXPECT)
    assert got == {"result": True, "differences": [], "warnings": [], "manager": "m2"}
    assert [(c.minion, c.fun) for c in fleet.calls] == [("m2", "swarm.nodes")]
    assert fleet.node_record() == {}  # nothing joined this run: nothing recorded


def test_the_check_reads_the_next_manager_when_the_first_does_not_answer():
    fleet = fleet_of(rows=rows(w1_labels={}))
    fleet.handlers["swarm.nodes"] = lambda m, a, k: SILENT if m == "m2" else rows({})
    got = checks.check_expected(fleet, EXPECT)
    assert got["manager"] == "m1" and got["result"] is False
    assert got["differences"] == ["w1 (host-w1): label zone missing, pillar says 'a'"]
    assert [c.minion for c in fleet.calls] == ["m2", "m1"]


def test_no_manager_of_the_plan_answering_is_an_error():
    fleet = fleet_of()
    fleet.handlers["swarm.nodes"] = Fail("This node is not a swarm manager.")
    with pytest.raises(SwarmError, match="no active manager could list the nodes: m2: .*; m1: "):
        checks.check_expected(fleet, EXPECT)


def test_a_node_list_left_by_the_settings_is_read_without_asking():
    fleet = fleet_of(rows=rows(w1_labels={}))
    fleet.listed["m2"] = rows()
    got = checks.check_expected(fleet, EXPECT)
    assert got["result"] is True and fleet.calls == []


def test_the_joins_node_ids_are_recorded_where_the_report_holds_up():
    fleet = fleet_of(rows=rows())
    joined = {"w1": "n-w1", "m1": "n-m1"}
    checks.check_expected(fleet, EXPECT, joined)
    assert fleet.node_record() == {"n-w1": "w1", "n-m1": "m1"}
    assert fleet.doubts == {}


def test_a_joins_node_id_that_does_not_hold_up_is_not_recorded():
    """w1's join returned m1's node id: listed as host-m1, a manager; not w1's."""
    fleet = fleet_of(rows=rows())
    checks.check_expected(fleet, EXPECT, {"w1": "n-m1"})
    assert fleet.node_record() == {}
    assert "the swarm lists it as" in fleet.doubts["w1"]


def test_a_joins_node_id_not_in_the_list_is_not_recorded():
    fleet = fleet_of(rows=rows())
    checks.check_expected(fleet, EXPECT, {"w1": "n-gone"})
    assert fleet.node_record() == {}


def test_joined_reports_take_the_plans_hostnames_and_roles():
    want = checks.wanted(EXPECT)
    got = checks.joined_reports({"m1": "n-m1", "w1": "n-w1", "w9": "n-w9", "m2": None}, want)
    assert got == {
        "m1": {"state": "active", "node_id": "n-m1", "hostname": "host-m1", "manager": True},
        "w1": {"state": "active", "node_id": "n-w1", "hostname": "host-w1", "manager": False},
    }  # w9 is no member of the plan; m2's join returned no node id


SETTINGS = {"host-w1": {"role": "worker", "availability": "active", "labels": {"zone": "a"}}}


def test_settle_runs_on_the_first_given_manager_with_its_arguments():
    fleet = fleet_of()
    fleet.handlers["swarm.settle"] = {"removed": [], "nodes": {"host-w1": {"labels": "set"}}}
    got = checks.settle(fleet, SETTINGS, ["m2", "m1"], test=1, wait=30, timeout=5)
    (call,) = fleet.calls
    assert (call.minion, call.fun, call.timeout) == ("m2", "swarm.settle", 30 + 5 + 30)
    assert call.kwargs == {"nodes": SETTINGS, "test": True, "wait": 30.0, "list_after": False}
    assert got == {"manager": "m2", "removed": [], "nodes": {"host-w1": {"labels": "set"}}}


def test_settle_defaults_to_pillars_managers_and_moves_on_past_one_that_fails():
    fleet = fleet_of()
    fleet.handlers["swarm.settle"] = lambda m, a, k: (
        Fail("This node is not a swarm manager.") if m == "m1" else {"removed": [], "nodes": {}}
    )
    got = checks.settle(fleet, SETTINGS, list_after=True)
    assert [c.minion for c in fleet.calls] == ["m1", "m2"]
    assert fleet.calls[-1].kwargs["list_after"] is True
    assert got["manager"] == "m2"


def test_settle_stops_at_a_refusal():
    fleet = fleet_of()
    fleet.handlers["swarm.settle"] = Fail("refusing to demote host-m1: quorum would be lost")
    with pytest.raises(SwarmError, match="^m1: swarm.settle: refusing to demote"):
        checks.settle(fleet, SETTINGS, ["m1", "m2"])
    assert [c.minion for c in fleet.calls] == ["m1"]


def test_settle_with_no_manager_anywhere_is_refused_before_any_call():
    for pillar in ({}, {"managers": "nomatch*"}, {"managers": {"tgt": "m*", "tgt_type": "bad"}}):
        fleet = FakeFleet(minions=["m1"], pillar=pillar)
        with pytest.raises(SwarmError, match="no managers given and pillar swarm:managers"):
            checks.settle(fleet, SETTINGS)
        assert fleet.calls == []
