"""Unit tests for salt_swarm.core.rebalance: which services sit unevenly."""

import pytest

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.rebalance import eligible_nodes, plan_service


def node(nid, role="worker", status="ready", availability="active", labels=None):
    return NodeView(nid, f"h{nid}", role, availability, status, "198.18.0.1", labels or {})


NODES = [
    node("1", role="manager", availability="drain"),
    node("2", labels={"zone": "a"}),
    node("3", labels={"zone": "a"}),
    node("4", labels={"zone": "b"}),
    node("5"),
    node("6", status="down"),
]


def service(replicas=6, constraints=None, mode=None, max_replicas=None):
    placement = {"Constraints": constraints or []}
    if max_replicas:
        placement["MaxReplicas"] = max_replicas
    return {
        "ID": "svc",
        "Spec": {
            "Name": "web",
            "Mode": mode or {"Replicated": {"Replicas": replicas}},
            "TaskTemplate": {"Placement": placement},
        },
    }


def tasks(*node_ids, state="running"):
    return [{"NodeID": n, "DesiredState": "running", "Status": {"State": state}} for n in node_ids]


def test_piled_up_replicas_are_uneven_over_the_nodes_they_may_use():
    plan = plan_service(service(6), tasks("2", "2", "2", "3", "3", "3"), NODES)
    assert plan.spread == {"h2": 3, "h3": 3, "h4": 0, "h5": 0}
    assert plan.uneven is True and plan.skipped is None


@pytest.mark.parametrize(
    "placed, uneven",
    [
        (("2", "2", "3", "3", "4", "5"), False),  # 2,2,1,1: the fairest 6 over 4
        (("2", "3", "4"), False),  # fewer replicas than nodes, one each
        (("2", "2", "3"), True),  # two on one node while another has none
    ],
)
def test_even_enough_is_at_most_ceil_replicas_over_nodes(placed, uneven):
    assert plan_service(service(len(placed)), tasks(*placed), NODES).uneven is uneven


def test_tasks_not_running_do_not_count():
    plan = plan_service(service(2), tasks("2", "2", state="pending"), NODES)
    assert plan.spread["h2"] == 0 and plan.uneven is False


def test_constraints_narrow_the_nodes():
    plan = plan_service(service(2, ["node.labels.zone == a"]), tasks("2", "3"), NODES)
    assert sorted(plan.spread) == ["h2", "h3"] and plan.uneven is False
    plan = plan_service(
        service(2, ["node.labels.zone!=a", "node.role==worker"]), tasks("4", "4"), NODES
    )
    assert sorted(plan.spread) == ["h4", "h5"] and plan.uneven is True


@pytest.mark.parametrize(
    "svc, reason",
    [
        (service(mode={"Global": {}}), "global service"),
        (service(constraints=["engine.labels.gpu == yes"]), "is not one rebalance evaluates"),
        (service(max_replicas=1), "max replicas per node set"),
        (service(constraints=["node.hostname == nowhere"]), "no node to spread over"),
    ],
)
def test_services_left_alone_say_why(svc, reason):
    plan = plan_service(svc, [], NODES)
    assert plan.uneven is False and reason in plan.skipped


def test_drained_and_down_nodes_are_not_eligible():
    assert [n.id for n in eligible_nodes(NODES, [])] == ["2", "3", "4", "5"]
