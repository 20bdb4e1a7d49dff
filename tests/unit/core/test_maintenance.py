"""Rolling maintenance, decided: order, quorum and disruption budgets."""

import pytest

from salt_swarm.core import maintenance as mt
from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError


def view(ident, role="worker", leader=False, reach="reachable", labels=None, status="ready"):
    return NodeView(
        id=ident,
        hostname=f"h-{ident}",
        role=role,
        availability="drain" if role == "manager" else "active",
        status=status,
        addr="",
        labels=labels or {},
        reachability=reach if role == "manager" else None,
        leader=leader,
    )


NODES = [
    view("m1", "manager", leader=True),
    view("m2", "manager"),
    view("m3", "manager"),
    view("w1", labels={"zone": "a"}),
    view("w2"),
    view("w3"),
    view("w4"),
]


def test_workers_in_batches_then_managers_one_by_one_the_leader_last():
    steps = mt.order(NODES, {n.id for n in NODES}, batch=3)
    assert [[n.id for n in step] for step in steps] == [
        ["w1", "w2", "w3"],
        ["w4"],
        ["m2"],
        ["m3"],
        ["m1"],
    ]
    with pytest.raises(SwarmError, match="batch"):
        mt.order(NODES, {"w1"}, batch=0)


def test_a_manager_goes_only_when_quorum_survives_it_going_down():
    assert mt.quorum_refusal(NODES, [NODES[1]]) is None  # 3 of 3: 2 left, quorum 2
    five = [*NODES[:3], view("m4", "manager"), view("m5", "manager")]
    assert mt.quorum_refusal(five, [five[1]]) is None
    down = [*NODES[:2], view("m3", "manager", reach="unreachable")]
    assert "fewer than quorum (2)" in mt.quorum_refusal(down, [down[1]])
    assert mt.quorum_refusal(NODES, [NODES[3]]) is None  # a worker


def service(ident, replicas=None, constraints=None, labels=None):
    mode = {"Replicated": {"Replicas": replicas}} if replicas is not None else {"Global": {}}
    placement = {"Constraints": constraints} if constraints else {}
    spec = {
        "Name": ident,
        "Mode": mode,
        "TaskTemplate": {"Placement": placement},
        "Labels": labels or {},
    }
    return {"ID": ident, "Spec": spec}


def tasks_on(*node_ids):
    return [
        {"NodeID": n, "DesiredState": "running", "Status": {"State": "running"}} for n in node_ids
    ]


def test_a_budget_that_would_be_broken_stops_the_drain_naming_the_numbers():
    web = service("web", 6)
    tasks = {"web": tasks_on("w1", "w1", "w2", "w3", "w4", "w4")}
    problems = mt.budget_problems([web], tasks, NODES, [NODES[3]], {"web": {"min_running": 5}})
    assert problems == ["service web: 6 running, 2 on h-w1; at least 5 must run, 4 would"]
    assert mt.budget_problems([web], tasks, NODES, [NODES[4]], {"web": {"min_running": 5}}) == []


def test_budgets_by_share_and_by_label():
    web = service("web", 10, labels={"tier": "front"})
    tasks = {"web": tasks_on(*(["w1"] * 3 + ["w2"] * 7))}
    budgets = {"label:tier=front": {"max_unavailable": "20%"}}
    assert mt.budget_problems([web], tasks, NODES, [NODES[3]], budgets)  # 3 > 2 may go
    assert (
        mt.budget_problems(
            [web], tasks, NODES, [NODES[3]], {"label:tier=back": {"min_running": 10}}
        )
        == []
    )


def test_tasks_pinned_to_the_node_have_nowhere_to_go():
    pinned = service("db", 1, constraints=["node.labels.zone==a"])
    problems = mt.budget_problems([pinned], {"db": tasks_on("w1")}, NODES, [NODES[3]], {})
    assert problems and "no other node may run its 1 task(s)" in problems[0]


def test_tasks_that_fit_nowhere_else_by_their_reservation_stop_the_drain():
    big = service("big", 3)
    big["Spec"]["TaskTemplate"]["Resources"] = {"Reservations": {"NanoCPUs": 10**9}}
    tasks = {"big": tasks_on("w1", "w1", "w2")}
    cpus = {n.id: {"NanoCPUs": 2 * 10**9, "MemoryBytes": 2**30} for n in NODES}
    managers_drained = NODES  # managers drain: only w2, w3, w4 may take tasks
    room = mt.budget_problems([big], tasks, managers_drained, [NODES[3]], {}, cpus)
    assert room == []  # w2 has 1 CPU left, w3 and w4 two each: 5 >= 2
    tight = {**cpus, "w3": {"NanoCPUs": 0}, "w4": {"NanoCPUs": 0}}
    problems = mt.budget_problems([big], tasks, NODES, [NODES[3]], {}, tight)
    assert problems == [
        "service big: the other nodes have room for 1 of its 2 task(s) (each reserves 1 CPU)"
    ]
    assert mt.budget_problems([big], tasks, NODES, [NODES[3]], {}) == []  # no capacity known


@pytest.mark.parametrize(
    "conf, message",
    [
        ({"min_running": -1}, "min_running"),
        ({"max_unavailable": "x%"}, "percentage"),
        ({"spare": 1}, "unknown key"),
    ],
)
def test_bad_budgets_are_refused(conf, message):
    with pytest.raises(SwarmError, match=message):
        mt.budget_for(conf, 3, "swarm:budget:web")
