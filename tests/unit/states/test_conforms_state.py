"""State swarm.conforms with the plan's ``seen`` check: it passes without asking the
swarm again only when the plan saw no difference; otherwise it runs swarm.check."""

import pytest

from salt_swarm.master import orchestrate as steps
from salt_swarm.states import swarm as states


@pytest.fixture
def master(monkeypatch):
    calls = []

    def runner(name, **kwargs):
        calls.append((name, kwargs))
        return {"result": False, "differences": ["extra1: a worker node pillar does not name"]}

    monkeypatch.setattr(states, "__opts__", {"__role": "master", "test": False}, raising=False)
    monkeypatch.setattr(states, "__salt__", {"saltutil.runner": runner}, raising=False)
    monkeypatch.setattr(states, "__context__", {}, raising=False)
    return calls


def test_seen_without_differences_passes_and_asks_nothing(master):
    ret = states.conforms("check", seen={"differences": [], "manager": "manager1"})
    assert ret["result"] is True and ret["changes"] == {}
    assert "seen by the plan through manager1" in ret["comment"]
    assert master == []


def test_seen_with_differences_asks_the_swarm_and_fails_with_them(master):
    seen = {"differences": ["extra1: a worker node pillar does not name"], "manager": "m1"}
    ret = states.conforms("check", seen=seen, wait=0)
    assert ret["result"] is False
    assert "extra1: a worker node" in ret["comment"]
    assert [name for name, _ in master] == ["swarm.check"]


def test_without_seen_it_asks_the_swarm(master):
    ret = states.conforms("check", wait=0)
    assert ret["result"] is False and len(master) == 1


EXPECT = {
    "first_manager": "m1",
    "managers": [],
    "workers": ["w1"],
    "hostnames": {"m1": "m1", "w1": "w1"},
    "nodes": {"m1": {"availability": "drain", "labels": {}}, "w1": {"labels": {"zone": "a"}}},
}


def row(host, role="worker", availability="active", labels=None, status="ready"):
    return {
        "id": f"id-{host}",
        "hostname": host,
        "role": role,
        "availability": availability,
        "status": status,
        "addr": "10.0.0.1",
        "labels": labels or {},
        "reachability": "reachable" if role == "manager" else None,
        "leader": role == "manager",
        "engine_version": "20.10",
    }


GOOD = [row("m1", "manager", "drain"), row("w1", labels={"zone": "a"})]
UNLABELLED = [row("m1", "manager", "drain"), row("w1")]


class FakeFleet:
    """Fleet.nodes_from as the check uses it: the listed rows first, else a fresh call."""

    def __init__(self, fresh):
        self.opts = {}  # no event bus: the step's progress event is not sent
        self.listed = {}
        self.fresh = fresh
        self.calls = 0

    def nodes_from(self, candidates):
        from salt_swarm.core.cluster import node_view
        from salt_swarm.master.fleet import api_shape

        for manager in candidates:
            if manager in self.listed:
                return manager, [node_view(api_shape(r)) for r in self.listed[manager]]
        self.calls += 1
        return candidates[0], [node_view(api_shape(r)) for r in self.fresh]


@pytest.fixture
def orchestrate_run(monkeypatch):
    context = {}
    monkeypatch.setattr(states, "__opts__", {"__role": "master", "test": False}, raising=False)
    monkeypatch.setattr(states, "__context__", context, raising=False)
    monkeypatch.setattr(steps.time, "sleep", lambda s: None)
    return context


def settled(rows):
    """What the settings step left for the check in this run's record."""
    states._record().settled = {"manager": "m1", "rows": rows}


def test_the_settings_steps_node_list_is_the_first_look_and_nothing_is_asked(
    orchestrate_run, monkeypatch
):
    fleet = FakeFleet(fresh=UNLABELLED)
    monkeypatch.setattr(states, "_fleet", lambda: fleet)
    settled(GOOD)
    ret = states.conforms("check", expect=EXPECT, wait=0)
    assert ret["result"] is True, ret
    assert "on the node list the settings step read through m1" in ret["comment"]
    assert fleet.calls == 0 and states._record().settled is None


def test_a_settled_list_that_differs_is_checked_again_on_a_fresh_list(orchestrate_run, monkeypatch):
    fleet = FakeFleet(fresh=GOOD)
    monkeypatch.setattr(states, "_fleet", lambda: fleet)
    settled(UNLABELLED)
    ret = states.conforms("check", expect=EXPECT, wait=5)
    assert ret["result"] is True and fleet.calls == 1
    assert "(checked through m1)" in ret["comment"]


def test_without_a_settled_list_the_check_asks_a_manager(orchestrate_run, monkeypatch):
    fleet = FakeFleet(fresh=UNLABELLED)
    monkeypatch.setattr(states, "_fleet", lambda: fleet)
    ret = states.conforms("check", expect=EXPECT, wait=0)
    assert ret["result"] is False and "w1" in ret["comment"] and fleet.calls == 1
