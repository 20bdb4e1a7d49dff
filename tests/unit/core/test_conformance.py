"""Unit tests for salt_swarm.core.conformance: the swarm compared with pillar."""

import pytest

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.conformance import Wanted, differences


def node(host, role="worker", status="ready", availability="active", labels=None, **kw):
    manager = role == "manager"
    return NodeView(
        id=kw.get("id", f"id-{host}"),
        hostname=host,
        role=role,
        availability=availability,
        status=status,
        addr="198.18.0.10",
        labels=labels or {},
        reachability=kw.get("reachability", "reachable") if manager else None,
        leader=kw.get("leader", False),
    )


WANTED = Wanted(
    managers=["m1", "m2", "m3"],
    workers=["w1"],
    hostnames={"m1": "m1", "m2": "m2", "m3": "m3", "w1": "w1"},
    nodes={
        "m1": {"availability": "drain", "labels": {}},
        "m2": {"availability": "drain", "labels": {}},
        "m3": {"availability": "drain", "labels": {}},
        "w1": {"availability": "active", "labels": {"zone": "a"}},
    },
)


def healthy():
    return [
        node("m1", "manager", availability="drain", leader=True),
        node("m2", "manager", availability="drain"),
        node("m3", "manager", availability="drain"),
        node("w1", labels={"zone": "a", "extra": "kept"}),
    ]


def test_a_swarm_as_pillar_says_has_no_differences():
    assert differences(WANTED, healthy()) == []


def replace(nodes, host, **changes):
    out = []
    for n in nodes:
        if n.hostname == host:
            fields = {**n.__dict__, **changes}
            n = NodeView(**fields)
        out.append(n)
    return out


@pytest.mark.parametrize(
    "nodes, expected",
    [
        (
            replace(healthy(), "m2", availability="active"),
            "m2: availability active, pillar says drain",
        ),
        (replace(healthy(), "w1", labels={}), "w1: label zone missing, pillar says 'a'"),
        (replace(healthy(), "w1", labels={"zone": "b"}), "w1: label zone='b', pillar says 'a'"),
        (replace(healthy(), "w1", status="down"), "w1: status down, not ready"),
        (
            replace(healthy(), "m3", role="worker", reachability=None),
            "m3: role worker, pillar says manager",
        ),
        ([n for n in healthy() if n.hostname != "w1"], "w1: not in the swarm (pillar: worker)"),
        (
            healthy() + [node("stray")],
            "stray: a worker node (id-stray, ready) that pillar does not name",
        ),
        (
            healthy() + [node("w1", status="down", id="old")],
            "w1: 2 nodes with this hostname; stale: old (down)",
        ),
        (
            replace(healthy(), "m1", leader=False),
            "no leader",
        ),
    ],
)
def test_each_difference_is_named(nodes, expected):
    assert expected in differences(WANTED, nodes)


def test_manager_count_and_quorum():
    nodes = replace(healthy(), "m3", role="worker", reachability=None)
    assert "managers: 2 in the swarm, pillar names 3" in differences(WANTED, nodes)
    down = replace(
        replace(healthy(), "m2", status="down", reachability="unreachable"),
        "m3",
        status="down",
        reachability="unreachable",
    )
    found = differences(WANTED, down)
    assert "quorum lost: 1 of 3 managers reachable, 2 needed" in found
    one_down = replace(healthy(), "m2", status="down", reachability="unreachable")
    assert any(
        line.startswith("quorum at risk: unreachable managers m2")
        for line in differences(WANTED, one_down)
    )


def test_minion_id_and_hostname_both_named_when_they_differ():
    wanted = Wanted(managers=["minion-a"], workers=[], hostnames={"minion-a": "host-a"})
    found = differences(wanted, [])
    assert "minion-a (host-a): not in the swarm (pillar: manager)" in found
