"""The rolling maintenance workflow against a scripted swarm: order, the drain and
its wait, the action, the way back, a stop that keeps the progress, and resuming."""

import pytest

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError
from salt_swarm.master import maintenance as mt


def node(ident, role="worker", leader=False, availability="active"):
    return NodeView(
        id=ident,
        hostname=ident,
        role=role,
        availability=availability,
        status="ready",
        addr="",
        reachability="reachable" if role == "manager" else None,
        leader=leader,
    )


class Swarm:
    """One replicated service ``web`` spread one task per node; a drain moves a
    node's tasks to the active node with the fewest (Docker's spread)."""

    def __init__(self, replicas=4, fail_on=(), pinned=None):
        self.nodes = {
            n.id: n
            for n in [
                node("m1", "manager", leader=True),
                node("m2", "manager"),
                node("m3", "manager"),
                node("w1"),
                node("w2"),
                node("w3"),
            ]
        }
        self.placed = [n for n in ("w1", "w2", "w3", "m2", "m3", "m1")][:replicas]
        self.constraints = [f"node.hostname=={pinned}"] if pinned else []
        if pinned:
            self.placed = [pinned] * replicas
        self.fail_on = set(fail_on)
        self.acted, self.events, self.availability_calls = [], [], []

    def look(self, avoid):
        tasks = [
            {"NodeID": n, "DesiredState": "running", "Status": {"State": "running"}}
            for n in self.placed
        ]
        service = {
            "ID": "s1",
            "Spec": {
                "Name": "web",
                "Mode": {"Replicated": {"Replicas": len(self.placed)}},
                "TaskTemplate": {"Placement": {"Constraints": self.constraints}},
            },
        }
        return mt.Look(list(self.nodes.values()), [service], {"s1": tasks})

    def set_availability(self, node_id, availability, avoid):
        self.availability_calls.append((node_id, availability))
        old = self.nodes[node_id]
        self.nodes[node_id] = NodeView(**{**old.__dict__, "availability": availability})
        if availability == "drain":
            for i, where in enumerate(self.placed):
                if where == node_id:
                    active = [n for n in self.nodes.values() if n.availability == "active"]
                    self.placed[i] = min(active, key=lambda n: (self.placed.count(n.id), n.id)).id

    def act(self, minions):
        self.acted.append(list(minions))
        return {m: ("boom" if m in self.fail_on else None) for m in minions}

    def local_states(self, minions):
        return {m: {"state": "active"} for m in minions}

    def progress(self, stage, data):
        self.events.append(stage)


class Store:
    def __init__(self):
        self.record = None

    def load(self):
        return self.record

    def save(self, record):
        self.record = dict(record)

    def clear(self):
        self.record = None


def a_run(swarm, budgets=None, key="k", batch=1, wanted=None):
    minions = {i: f"minion-{i}" for i in swarm.nodes}
    limits = mt.Limits(batch=batch, budget_wait=0, drain_wait=0, up_wait=0, poll=0)
    return mt.Run(key, "state.apply patch", minions, wanted or {}, budgets or {}, limits)


def test_every_node_goes_workers_first_the_leader_last_and_is_active_again():
    swarm, store = Swarm(), Store()
    report = mt.maintain(swarm, a_run(swarm, {"web": {"min_running": 3}}), store)
    assert report["result"] is True, report
    assert [m for step in swarm.acted for m in step] == [
        "minion-w1", "minion-w2", "minion-w3", "minion-m2", "minion-m3", "minion-m1",
    ]  # fmt: skip
    assert all(n.availability == "active" for n in swarm.nodes.values())
    assert store.record is None  # done: nothing to resume
    assert swarm.events[0] == "start" and swarm.events[-1] == "done"
    assert set(report["maintained"][0]["stages"]) == {
        "checks",
        "drain",
        "action",
        "back",
        "tasks back",
    }


def test_availability_comes_back_from_pillar_else_as_it_was():
    swarm = Swarm()
    swarm.nodes["w3"] = node("w3", availability="pause")
    run = a_run(swarm, wanted={"minion-m1": "drain"})
    assert mt.maintain(swarm, run, Store())["result"] is True
    assert swarm.nodes["m1"].availability == "drain"  # pillar's drain_managers
    assert swarm.nodes["w3"].availability == "pause"  # no pillar word: as before


def test_workers_in_batches():
    swarm = Swarm()
    mt.maintain(swarm, a_run(swarm, batch=2), Store())
    assert swarm.acted[:2] == [["minion-w1", "minion-w2"], ["minion-w3"]]


def test_a_budget_that_cannot_be_met_stops_before_any_drain():
    swarm, store = Swarm(replicas=2, pinned="w1"), Store()
    report = mt.maintain(swarm, a_run(swarm, {"web": {"min_running": 1}}), store)
    assert report["result"] is False
    assert report["stopped"]["nodes"] == ["w1"] and report["stopped"]["stage"] == "checks"
    assert "service web" in report["comment"] and "stopped before its drain" in report["comment"]
    assert swarm.availability_calls == [] and swarm.acted == []


def test_a_failed_action_stops_there_the_node_drained_and_the_rerun_resumes_with_it():
    swarm, store = Swarm(fail_on={"minion-w3"}), Store()
    report = mt.maintain(swarm, a_run(swarm), store)
    assert report["result"] is False
    assert report["stopped"]["stage"] == "action" and "minion-w3" in report["stopped"]["reason"]
    assert swarm.nodes["w3"].availability == "drain"
    assert sorted(store.record["done"]) == ["w1", "w2"]

    swarm.fail_on.clear()
    swarm.acted.clear()
    again = mt.maintain(swarm, a_run(swarm), store)
    assert again["result"] is True
    assert again["resumed_after"] == ["minion-w1", "minion-w2"]
    assert swarm.acted[0] == ["minion-w3"]
    assert swarm.nodes["w3"].availability == "active"  # as before the first run drained it


def test_another_target_refuses_while_a_run_is_unfinished_unless_forgotten():
    swarm, store = Swarm(fail_on={"minion-w1"}), Store()
    mt.maintain(swarm, a_run(swarm), store)
    with pytest.raises(SwarmError, match="stopped at w1 .action.*fresh=True"):
        mt.maintain(swarm, a_run(swarm, key="other"), store)


def test_the_plan_lists_each_step_and_its_checks_changing_nothing():
    swarm = Swarm(replicas=2, pinned="w2")
    plan = mt.plan(swarm, a_run(swarm, {"web": {"min_running": 2}}), Store())
    assert plan["result"] is None
    steps = {tuple(s["nodes"]): s for s in plan["steps"]}
    assert "may go now" in steps[("w1",)]["checks"][0]
    assert "at least 2 must run, 0 would" in steps[("w2",)]["checks"][0]
    assert swarm.acted == [] and swarm.availability_calls == []


def test_a_manager_step_waits_for_quorum():
    swarm = Swarm()
    swarm.nodes["m3"] = NodeView(**{**swarm.nodes["m3"].__dict__, "reachability": "unreachable"})
    run = a_run(swarm)
    run.minions = {"m2": "minion-m2"}
    report = mt.maintain(swarm, run, Store())
    assert report["stopped"]["stage"] == "checks" and "fewer than quorum" in report["comment"]


def test_a_reboot_is_waited_for_going_down_before_coming_back():
    swarm = Swarm()
    answers = iter([{"state": "active"}, None, None, {"state": "active"}])
    asked = []

    def local_states(minions):
        asked.append(list(minions))
        return {m: next(answers, {"state": "active"}) for m in minions}

    swarm.local_states = local_states
    run = a_run(swarm)
    run.minions = {"w1": "minion-w1"}
    run.expect_down = True
    run.limits.up_wait = 5
    assert mt.maintain(swarm, run, Store())["result"] is True
    assert len(asked) >= 3  # up, then down, then back


def test_a_reboot_that_never_goes_down_stops_there():
    swarm = Swarm()
    run = a_run(swarm)
    run.minions = {"w1": "minion-w1"}
    run.expect_down = True
    report = mt.maintain(swarm, run, Store())
    assert report["stopped"]["stage"] == "down" and "still up" in report["comment"]


def test_a_manager_that_stops_answering_mid_run_stops_the_run_naming_the_node():
    swarm, store = Swarm(), Store()
    calls = []
    real = swarm.set_availability

    def refuse_after_drain(node_id, availability, avoid):
        calls.append((node_id, availability))
        if availability != "drain":
            raise SwarmError("no active manager could run swarm.node_update")
        real(node_id, availability, avoid)

    swarm.set_availability = refuse_after_drain
    report = mt.maintain(swarm, a_run(swarm), store)
    assert report["result"] is False and report["stopped"]["stage"] == "error"
    assert report["stopped"]["nodes"] == ["w1"]
    assert "no active manager" in report["comment"]
    assert store.record["stopped"]["nodes"] == ["w1"] and store.record["done"] == []
