"""Unit tests for salt_swarm.core.prune: which Down nodes may be removed."""

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.prune import candidates, stale_twins


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
