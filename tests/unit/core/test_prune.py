"""Unit tests for salt_swarm.core.prune: which Down nodes may be removed."""

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.prune import candidates, stale_twins
from tests.unit.fake_clock import Clock


def node(nid, host, status="ready", role="worker"):
    return NodeView(
        nid,
        host,
        role,
        "active",
        status,
        "198.18.0.1",
        {},
        "unreachable" if role == "manager" else None,
    )


def test_a_down_twin_of_a_ready_node_goes():
    nodes = [node("new", "w1"), node("old", "w1", "down"), node("w2", "w2")]
    found, kept = candidates(nodes, {}, {"w1", "w2"})
    assert [(c.node.id, c.reason) for c in found] == [("old", "a Ready node named w1 replaced it")]
    assert kept == []
    assert [c.node.id for c in stale_twins(nodes)] == ["old"]


def test_a_down_node_whose_minion_is_gone_goes_and_one_with_a_key_stays():
    nodes = [node("a", "host-a", "down"), node("b", "host-b", "down")]
    found, kept = candidates(nodes, {"a": "minion-a", "b": "minion-b"}, {"minion-b"})
    assert [(c.node.id, c.reason) for c in found] == [
        ("a", "minion minion-a is gone (no accepted key)")
    ]
    assert kept == ["host-b (b): down, but minion minion-b still has a key"]


def test_without_a_record_the_hostname_is_the_minion_and_workers_go_first():
    nodes = [node("m", "gone-m", "down", role="manager"), node("w", "gone-w", "down")]
    found, _ = candidates(nodes, {}, set())
    assert [c.node.id for c in found] == ["w", "m"]
    assert stale_twins(nodes) == []


def test_live_twins_are_hostnames_with_more_than_one_ready_node():
    from salt_swarm.core.prune import live_twins

    nodes = [
        node("new", "w1"),
        node("old", "w1"),  # the rebuilt host's old node, not yet Down
        node("gone", "w2", "down"),
        node("w2", "w2"),
        node("m1", "m1", role="manager"),
    ]
    assert live_twins(nodes) == {"w1": ["new", "old"]}
    assert live_twins([node("a", "w1"), node("b", "w1", "down")]) == {}


def test_removing_twins_waits_for_the_old_node_to_go_down_then_names_live_twins(monkeypatch):
    import pytest

    from salt_swarm.core import prune
    from salt_swarm.core.errors import SwarmError

    clock = Clock()
    monkeypatch.setattr(prune, "time", clock)
    lists = {"n": 0}

    def list_nodes(client):
        lists["n"] += 1
        old = "ready" if clock.now < 2 else "down"
        return [node("new", "w1"), node("old", "w1", old)]

    removed = []
    monkeypatch.setattr(prune.node_ops, "list_nodes", list_nodes)
    monkeypatch.setattr(
        prune.node_ops,
        "remove",
        lambda client, ref, test=False: removed.append(ref) or {"steps": ["removed"]},
    )
    done = prune.remove_stale_twins(object(), wait=10)
    assert removed == ["old"] and done[0]["steps"] == ["removed"]
    assert 2 <= clock.now < 10 and lists["n"] > 1

    # Two live hosts with one name: named after the wait, nothing removed.
    monkeypatch.setattr(prune.node_ops, "list_nodes", lambda c: [node("a", "w1"), node("b", "w1")])
    removed.clear()
    with pytest.raises(
        SwarmError, match=r"more than one Ready node per hostname after 5 s \(w1: a, b\)"
    ):
        prune.remove_stale_twins(object(), wait=5)
    assert removed == []

    # test=True does not wait: the doubled hostname is reported as a step to come.
    done = prune.remove_stale_twins(object(), test=True, wait=5)
    assert done == [
        {"hostname": "w1", "ids": ["a", "b"], "steps": ["wait for the older node to go Down"]}
    ]
