"""State swarm.conforms with the plan's ``seen`` check: it passes without asking the
swarm again only when the plan saw no difference; otherwise it runs swarm.check."""

import pytest

from salt_swarm.states import swarm as states


@pytest.fixture
def master(monkeypatch):
    calls = []

    def runner(name, **kwargs):
        calls.append((name, kwargs))
        return {"result": False, "differences": ["extra1: a worker node pillar does not name"]}

    monkeypatch.setattr(states, "__opts__", {"__role": "master", "test": False}, raising=False)
    monkeypatch.setattr(states, "__salt__", {"saltutil.runner": runner}, raising=False)
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
