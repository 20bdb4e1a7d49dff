"""The orchestrate's steps (master/orchestrate.py) on a fake Fleet: what each step
asks of which minion, what test mode reports (and that it changes nothing), and what
a step leaves in the run's RunRecord for the next: the node ids the init and joins
returned (recorded by the final check), the node list the settings step read (the
final check's first look)."""

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from salt_swarm.core import sealed
from salt_swarm.master import joins, orchestrate
from salt_swarm.master.orchestrate import RunRecord
from tests.unit.master.fakes import (
    SILENT,
    TOKENS,
    Call,
    Clock,
    Fail,
    FakeFleet,
    manager_mine,
    row,
)

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUB = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
MINIONS = ["m1", "m2", "w1", "w2", "w3"]


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(orchestrate, "time", clock)
    return clock


@pytest.fixture
def master(monkeypatch, clock):
    """The master's mine (m1's entries) and the minions' accepted keys."""
    state = {"mine": {"m1": manager_mine()}, "keys": {m: PUB for m in MINIONS}}
    monkeypatch.setattr(
        joins.salt_internals,
        "cached_mine",
        lambda opts, ms: {m: state["mine"][m] for m in ms if m in state["mine"]},
    )
    monkeypatch.setattr(
        joins.salt_internals, "accepted_public_key", lambda opts, m: state["keys"].get(m)
    )
    return state


def fleet_of(rows=(), **kw):
    return FakeFleet(minions=MINIONS, pillar={"managers": "m*"}, rows=rows, **kw)


# ---- swarm.first_manager ---------------------------------------------------------------


def test_first_manager_in_test_mode_asks_the_minion_and_records_nothing(master):
    fleet = fleet_of()
    fleet.handlers["swarm.init"] = {"changed": True, "comment": "would initialize a swarm"}
    record = RunRecord()
    options = {"default_addr_pool": ["10.20.0.0/16"]}
    ret = orchestrate.first_manager(fleet, record, "first", "m1", options, "drain", True)
    assert ret == {
        "name": "first",
        "result": None,
        "comment": "m1: would initialize a swarm; its mine entries would be sent to the master",
        "changes": {"m1": {"old": "in no swarm", "new": {"state": "active manager"}}},
    }
    assert fleet.calls == [
        Call(
            "m1",
            "swarm.init",
            [],
            {
                "test": True,
                "unlock": True,
                "default_addr_pool": ["10.20.0.0/16"],
                "availability": "drain",
            },
        )
    ]
    assert record == RunRecord() and fleet.client.published == []


def test_first_manager_in_test_mode_on_a_manager_is_as_wanted(master):
    fleet = fleet_of()
    fleet.handlers["swarm.init"] = {"changed": False, "comment": "already a manager"}
    ret = orchestrate.first_manager(fleet, RunRecord(), "first", "m1", None, None, True)
    assert ret["result"] is True and ret["changes"] == {}
    assert fleet.calls[0].kwargs == {"test": True, "unlock": True}


def test_first_manager_inits_with_its_mine_entries_sent_and_records_its_node(master):
    fleet = fleet_of()
    fleet.handlers["swarm.init"] = {
        "changed": True,
        "comment": "initialized a swarm",
        "node_id": "n-m1",
        "cluster_id": "c1",
    }
    record = RunRecord()
    options = {"default_addr_pool": ["10.20.0.0/16"], "subnet_size": None}
    ret = orchestrate.first_manager(fleet, record, "first", "m1", options, "drain", False)
    (call,) = fleet.calls
    assert (call.minion, call.fun, call.timeout) == ("m1", "swarm.init", joins.JOIN_TIMEOUT)
    assert call.kwargs == {
        "mine_update": True,
        "unlock": True,
        "default_addr_pool": ["10.20.0.0/16"],
        "availability": "drain",
    }  # an option not set is not sent
    assert ret["result"] is True
    assert ret["changes"] == {
        "m1": {
            "old": "in no swarm",
            "new": {"state": "active manager", "node_id": "n-m1", "cluster_id": "c1"},
        }
    }
    assert ret["comment"] == "m1: initialized a swarm; its mine entries are on the master"
    assert record.joined == {"m1": "n-m1"}


def test_first_manager_unlocked_is_a_change_but_no_new_node(master):
    fleet = fleet_of()
    fleet.handlers["swarm.init"] = {"changed": False, "unlocked": True, "comment": "unlocked"}
    record = RunRecord()
    ret = orchestrate.first_manager(fleet, record, "first", "m1", None, None, False)
    assert ret["result"] is True and ret["changes"] == {"unlocked": "m1"}
    assert record.joined == {}


def test_first_manager_that_fails_is_a_failed_step(master):
    fleet = fleet_of()
    fleet.handlers["swarm.init"] = Fail("refusing to init: active in another swarm")
    record = RunRecord()
    ret = orchestrate.first_manager(fleet, record, "first", "m1", None, None, False)
    assert ret["result"] is False and ret["changes"] == {}
    assert ret["comment"] == (
        "swarm init on m1 failed: m1: swarm.init: refusing to init: active in another swarm"
    )
    assert record.joined == {}


# ---- swarm.members_joined --------------------------------------------------------------


def joined(fleet, answers):
    """swarm.join answers per member (a dict return, a Fail, or SILENT)."""
    fleet.handlers["swarm.join"] = lambda m, a, k: answers.get(m, SILENT)


def test_members_joined_with_no_member_does_nothing(master):
    fleet = fleet_of()
    ret = orchestrate.members_joined(fleet, RunRecord(), "w", [], "worker", ["m1"], False)
    assert ret == {"name": "w", "result": True, "comment": "no member to join", "changes": {}}
    assert fleet.client.published == []


@pytest.mark.parametrize(
    ("mine", "through"),
    [
        ({"m1": manager_mine()}, "through m1's mine entries"),
        ({}, "once a manager's mine entries are on the master"),
    ],
)
def test_members_joined_in_test_mode_publishes_nothing(master, mine, through):
    master["mine"] = mine
    fleet = fleet_of()
    record = RunRecord()
    ret = orchestrate.members_joined(
        fleet, record, "w", ["w1", "w2"], "worker", ["m1"], True, availability="active"
    )
    assert ret["result"] is None
    assert ret["changes"] == {"w1": {"new": "worker"}, "w2": {"new": "worker"}}
    assert ret["comment"] == f"would join w1, w2 as worker {through}"
    assert fleet.client.published == [] and fleet.calls == []
    assert record == RunRecord()


def test_members_joined_publishes_one_sealed_join_and_records_the_new_nodes(master):
    fleet = fleet_of()
    failure = f"could not join as worker through any manager: bad token {TOKENS['worker']}"
    joined(
        fleet,
        {
            "w1": {"changed": True, "node_id": "n-w1"},
            "w2": {"changed": False, "comment": "already a worker of this swarm"},
            "w3": Fail(failure),
        },
    )
    record = RunRecord(joined={"m1": "n-m1"})
    ret = orchestrate.members_joined(
        fleet, record, "w", ["w1", "w2", "w3"], "worker", ["m1"], False, availability="active"
    )
    (pub,) = fleet.client.published
    assert (pub.tgt, pub.fun, pub.tgt_type) == (["w1", "w2", "w3"], "swarm.join", "list")
    assert pub.kwarg["role"] == "worker" and pub.kwarg["availability"] == "active"
    assert pub.kwarg["managers"] == ["198.18.0.1:2377"]
    assert set(pub.kwarg["sealed_token"]) == {"w1", "w2", "w3"}
    assert "unlock" not in pub.kwarg and "mine_update" not in pub.kwarg
    assert TOKENS["worker"] not in repr(pub.kwarg)

    assert ret["result"] is False
    assert ret["changes"] == {"w1": {"new": "worker", "node_id": "n-w1"}}
    assert record.joined == {"m1": "n-m1", "w1": "n-w1"}
    assert ret["comment"].startswith(
        "joined as worker through m1's entries: w1; already workers: w2; FAILED: w3: "
    )
    assert TOKENS["worker"] not in ret["comment"] and "SWMTKN-1-****" in ret["comment"]


def test_managers_join_unlocked_with_their_mine_entries_sent(master):
    fleet = fleet_of()
    joined(fleet, {"m2": {"changed": False, "unlocked": True}})
    record = RunRecord()
    ret = orchestrate.members_joined(
        fleet, record, "m", "m2", "manager", ["m1"], False, availability="drain", mine_update=True
    )
    (pub,) = fleet.client.published
    assert pub.tgt == ["m2"]
    assert pub.kwarg["unlock"] is True and pub.kwarg["mine_update"] is True
    assert ret["result"] is True
    assert ret["changes"] == {"m2": {"unlocked": True}}
    assert ret["comment"] == "unlocked with swarm:unlock_key: m2; already managers: m2"
    assert record.joined == {}


def test_members_joined_without_join_data_fails_before_any_publish(master):
    master["mine"] = {}
    fleet = fleet_of()
    ret = orchestrate.members_joined(fleet, RunRecord(), "w", ["w1"], "worker", ["m1"], False)
    assert ret["result"] is False
    assert ret["comment"].startswith(
        "joining w1 as worker failed before any change: the master's mine holds no address"
    )
    assert fleet.client.published == []


def test_members_joined_without_a_key_to_seal_to_fails_before_any_publish(master):
    del master["keys"]["w2"]
    fleet = fleet_of()
    ret = orchestrate.members_joined(fleet, RunRecord(), "w", ["w1", "w2"], "worker", ["m1"], False)
    assert ret["result"] is False and "no accepted minion key" in ret["comment"]
    assert fleet.client.published == []


SETTINGS = {"w1": {"role": "worker", "availability": "active", "labels": {"zone": "a"}}}
LISTED = [row("n-m1", "m1", "manager", "ready", "drain", leader=True), row("n-w1", "w1")]


def test_settings_beside_the_joins_leave_their_node_list_for_the_check(master):
    fleet = fleet_of()
    joined(fleet, {"w1": {"changed": True, "node_id": "n-w1"}})
    fleet.handlers["swarm.settle"] = {
        "removed": [{"hostname": "w1", "id": "n-w1-old"}],
        "nodes": {"w1": {"labels": {"zone": "a"}}},
        "listed": LISTED,
        "missing": [],
    }
    record = RunRecord()
    settle = {"nodes": SETTINGS, "hostnames": {"w1": "w1"}, "known": {"w1": ["n-w1-old"]}}
    ret = orchestrate.members_joined(
        fleet, record, "w", ["w1"], "worker", ["m1"], False, settle=settle
    )
    settle_job, join = fleet.client.published
    assert (settle_job.tgt, settle_job.fun) == (["m1"], "swarm.settle")  # the tokens' source
    assert settle_job.kwarg["wait_for"] == {"w1": ["n-w1-old"]}
    assert settle_job.kwarg["list_after"] is True
    assert join.fun == "swarm.join"
    assert ret["result"] is True
    assert ret["changes"]["node settings"] == {
        "w1": {"labels": {"zone": "a"}},
        "removed": [{"hostname": "w1", "id": "n-w1-old"}],
    }
    assert ret["comment"].endswith("; node settings through m1: 1 node(s) changed")
    assert record.settled == {"manager": "m1", "rows": LISTED}
    assert record.joined == {"w1": "n-w1"}


def test_settings_that_failed_beside_the_joins_fail_the_step(master):
    fleet = fleet_of()
    joined(fleet, {"w1": {"changed": True, "node_id": "n-w1"}})
    fleet.handlers["swarm.settle"] = Fail("no leader")
    record = RunRecord()
    settle = {"nodes": SETTINGS, "hostnames": {"w1": "w1"}}
    ret = orchestrate.members_joined(
        fleet, record, "w", ["w1"], "worker", ["m1"], False, settle=settle
    )
    assert ret["result"] is False
    assert "node settings FAILED: no active manager could run swarm.settle" in ret["comment"]
    assert record.settled is None and record.joined == {"w1": "n-w1"}


# ---- swarm.settled ---------------------------------------------------------------------


def test_settled_runs_on_a_manager_and_leaves_its_node_list_for_the_check(master):
    fleet = fleet_of()
    fleet.handlers["swarm.settle"] = {
        "removed": [{"hostname": "w2", "ids": ["a", "b"]}],
        "nodes": {"w1": {"labels": {"old": {}, "new": {"zone": "a"}}}},
        "listed": LISTED,
    }
    record = RunRecord()
    ret = orchestrate.settled(fleet, record, "s", SETTINGS, ["m1", "m2"], 60, False)
    (call,) = fleet.calls
    assert (call.minion, call.fun, call.timeout) == ("m1", "swarm.settle", 60 + 10 + 30)
    assert call.kwargs == {"nodes": SETTINGS, "test": False, "wait": 60.0, "list_after": True}
    assert ret["result"] is True
    assert ret["changes"] == {
        "removed": [{"hostname": "w2", "id": ["a", "b"]}],
        "w1": {"labels": {"old": {}, "new": {"zone": "a"}}},
    }
    assert ret["comment"] == "changed removed, w1 (through m1)"
    assert record.settled == {"manager": "m1", "rows": LISTED}


def test_settled_goes_to_the_next_manager_but_a_refusal_is_final(master):
    fleet = fleet_of()
    fleet.handlers["swarm.settle"] = lambda m, a, k: (
        SILENT if m == "m1" else {"removed": [], "nodes": {}}
    )
    ret = orchestrate.settled(fleet, RunRecord(), "s", SETTINGS, ["m1", "m2"], 60, False)
    assert [c.minion for c in fleet.calls] == ["m1", "m2"]
    assert ret["result"] is True and ret["comment"] == "1 node(s) as wanted (through m2)"

    fleet = fleet_of()
    fleet.handlers["swarm.settle"] = Fail("refusing to demote m1: quorum")
    ret = orchestrate.settled(fleet, RunRecord(), "s", SETTINGS, ["m1", "m2"], 60, False)
    assert [c.minion for c in fleet.calls] == ["m1"]
    assert ret["result"] is False
    assert ret["comment"] == "node settings failed: m1: swarm.settle: refusing to demote m1: quorum"


def test_settled_in_test_mode_asks_for_a_test_and_leaves_no_node_list(master):
    fleet = fleet_of()
    fleet.handlers["swarm.settle"] = {"removed": [], "nodes": {"w1": {"labels": "would"}}}
    record = RunRecord()
    ret = orchestrate.settled(fleet, record, "s", SETTINGS, None, 5, True)
    (call,) = fleet.calls
    assert call.minion == "m1"  # pillar's managers, when none are given
    assert call.kwargs["test"] is True and call.kwargs["list_after"] is False
    assert ret["result"] is None and ret["comment"] == "would change w1 (through m1)"
    assert record.settled is None


def test_settled_that_cannot_run_is_a_note_in_test_mode_and_a_failure_otherwise(master):
    for test, result in ((True, None), (False, False)):
        fleet = fleet_of()
        fleet.handlers["swarm.settle"] = SILENT
        ret = orchestrate.settled(fleet, RunRecord(), "s", SETTINGS, ["m1"], 5, test)
        assert ret["result"] is result
        why = "no active manager could run swarm.settle: m1: no answer to swarm.settle"
        if test:
            assert ret["comment"] == f"would apply the settings of 1 node(s); now: {why}"
        else:
            assert ret["comment"] == f"node settings failed: {why}"


# ---- swarm.conforms --------------------------------------------------------------------

EXPECT = {
    "first_manager": "m1",
    "managers": [],
    "workers": ["w1"],
    "hostnames": {"m1": "m1", "w1": "w1"},
    "nodes": {"m1": {"availability": "drain"}, "w1": {"labels": {"zone": "a"}}},
}
GOOD = [
    row("n-m1", "m1", "manager", availability="drain", leader=True),
    row("n-w1", "w1", labels={"zone": "a"}),
]
UNLABELLED = [row("n-m1", "m1", "manager", availability="drain", leader=True), row("n-w1", "w1")]


def no_runner(args):
    raise AssertionError("the runner is not to be asked")


def test_conforms_passes_on_the_plans_look_and_asks_nothing(master):
    fleet = fleet_of()
    record = RunRecord(settled={"manager": "m1", "rows": UNLABELLED})
    seen = {"differences": [], "manager": "m1"}
    ret = orchestrate.conforms(fleet, record, "c", {"expect": EXPECT}, 30, seen, False, no_runner)
    assert ret["result"] is True and "seen by the plan through m1" in ret["comment"]
    assert fleet.calls == []


def test_conforms_starts_from_the_settings_list_and_records_the_joined_nodes(master, clock):
    fleet = fleet_of(rows=UNLABELLED)  # a fresh look would differ
    record = RunRecord(joined={"w1": "n-w1", "m1": "n-m1"}, settled={"manager": "m1", "rows": GOOD})
    ret = orchestrate.conforms(fleet, record, "c", {"expect": EXPECT}, 30, None, False, no_runner)
    assert ret["result"] is True
    assert ret["comment"] == (
        "the swarm is as pillar says (on the node list the settings step read through m1)"
    )
    assert fleet.calls == [] and clock.slept == []
    # The joins' node ids held up against that list: now in the master's record.
    assert fleet.node_record() == {"n-w1": "w1", "n-m1": "m1"}
    assert record == RunRecord() and fleet.listed == {}


def test_conforms_looks_again_until_the_swarm_conforms(master, clock):
    fleet = fleet_of(rows=UNLABELLED)
    record = RunRecord(settled={"manager": "m1", "rows": UNLABELLED})

    def labelled(clock):
        if len(clock.slept) == 2:
            fleet.row("n-w1")["labels"] = {"zone": "a"}

    clock.hooks.append(labelled)
    ret = orchestrate.conforms(fleet, record, "c", {"expect": EXPECT}, 30, None, False, no_runner)
    assert ret["result"] is True
    assert ret["comment"] == "the swarm is as pillar says (checked through m1)"
    assert clock.slept == [0.5, 0.5]
    assert [c.fun for c in fleet.calls] == ["swarm.nodes", "swarm.nodes"]  # settled list first


def test_conforms_fails_with_the_differences_once_wait_is_over(master, clock):
    fleet = fleet_of(rows=UNLABELLED)
    ret = orchestrate.conforms(
        fleet, RunRecord(), "c", {"expect": EXPECT}, 2, None, False, no_runner
    )
    assert ret["result"] is False
    assert ret["comment"] == (
        "the swarm differs from pillar:\nw1: label zone missing, pillar says 'a'"
    )
    assert clock.slept == [0.5] * 4


def test_conforms_in_test_mode_reports_the_differences_at_once(master, clock):
    fleet = fleet_of(rows=UNLABELLED)
    ret = orchestrate.conforms(
        fleet, RunRecord(), "c", {"expect": EXPECT}, 30, None, True, no_runner
    )
    assert ret["result"] is None
    assert ret["comment"] == (
        "differs from pillar now (earlier steps would change it):\n"
        "w1: label zone missing, pillar says 'a'"
    )
    assert clock.slept == [] and fleet.changes() == []


def test_conforms_without_a_manager_to_ask_fails_naming_why(master, clock):
    fleet = fleet_of()
    fleet.handlers["swarm.nodes"] = SILENT
    ret = orchestrate.conforms(
        fleet, RunRecord(), "c", {"expect": EXPECT}, 0, None, False, no_runner
    )
    assert ret["result"] is False
    assert "no active manager could list the nodes: m1: no answer to swarm.nodes" in ret["comment"]


def test_conforms_without_a_plan_asks_the_runner_and_leaves_the_record(master, clock):
    asked = []

    def runner(args):
        asked.append(args)
        return {"result": True, "differences": [], "manager": "m2"}

    record = RunRecord(joined={"w1": "n-w1"}, settled={"manager": "m1", "rows": GOOD})
    args = {"managers": "m*", "workers": "w*"}
    ret = orchestrate.conforms(None, record, "c", args, 30, None, False, runner)
    assert (
        ret["result"] is True
        and ret["comment"] == "the swarm is as pillar says (checked through m2)"
    )
    assert asked == [args]
    assert record.joined == {"w1": "n-w1"} and record.settled is not None


def test_conforms_fails_on_a_runner_answer_of_another_shape(master):
    ret = orchestrate.conforms(None, RunRecord(), "c", {}, 30, None, False, lambda a: "oops")
    assert ret["result"] is False and ret["comment"] == "swarm.check gave no answer: 'oops'"


def test_the_join_token_is_sealed_to_the_members_key_for_its_role_and_job(master, monkeypatch):
    fleet = fleet_of()
    joined(fleet, {"w1": {"changed": True, "node_id": "n-w1"}})
    monkeypatch.setattr(joins.salt.utils.jid, "gen_jid", lambda opts: "20260101000000000001")
    orchestrate.members_joined(fleet, RunRecord(), "w", ["w1"], "worker", ["m1"], False)
    (pub,) = fleet.client.published
    box = pub.kwarg["sealed_token"]["w1"]
    opened = sealed.unseal(KEY, box, "worker", "20260101000000000001", time.time())
    assert opened == TOKENS["worker"]


def test_a_bad_role_fails_the_step_in_test_mode_as_it_does_without(master):
    for test in (False, True):
        fleet = fleet_of()
        ret = orchestrate.members_joined(fleet, RunRecord(), "w", ["w1"], "leader", ["m1"], test)
        assert ret["result"] is False and "'leader' is not one of" in ret["comment"]
        assert fleet.client.published == []
