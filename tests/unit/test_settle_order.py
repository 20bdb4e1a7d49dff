"""Node settings: promotions before demotions, and a failure says what already changed."""

import pytest

from salt_swarm.core import settle
from salt_swarm.core.errors import SwarmError


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def update(
        client, host, role=None, availability=None, labels=None, labels_owned=None, test=False
    ):
        seen.append((host, role))
        if host == "boom":
            raise SwarmError("refusing to demote boom: it would leave 1 of 2 managers reachable")
        return {"role": {"old": "x", "new": role}} if role else {}

    monkeypatch.setattr(settle.node_ops, "update", update)
    monkeypatch.setattr(settle.prune, "remove_stale_twins", lambda client, test, wait: [])
    return seen


def test_managers_are_settled_before_workers(calls):
    wanted = {"a": {"role": "worker"}, "b": {"role": "manager"}, "c": {"role": "worker"}}
    result = settle.apply(None, wanted)
    assert calls == [("b", "manager"), ("a", "worker"), ("c", "worker")]
    assert sorted(result["nodes"]) == ["a", "b", "c"] and result["removed"] == []


def test_a_refused_demotion_names_the_nodes_already_changed(calls):
    with pytest.raises(SwarmError, match=r"boom: refusing .* \(nodes already changed: a\)"):
        settle.apply(None, {"a": {"role": "manager"}, "boom": {"role": "worker"}})


def test_nodes_must_be_a_mapping(calls):
    with pytest.raises(SwarmError, match="nodes: expected a mapping"):
        settle.apply(None, ["a"])
