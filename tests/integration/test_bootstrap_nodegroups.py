"""3 managers + 3 workers whose roles are the master's nodegroups (swarmmanager/swarmworker)."""

import pytest

from lab import swarms
from tests.integration.conftest import PILLARS, SECRET, orchestrate

MANAGERS = ["manager1", "manager2", "manager3"]
WORKERS = ["worker1", "worker2", "worker3"]


@pytest.fixture
def nodegroup_hosts(lab, lab_hosts, use_pillar):
    lab.up([*lab_hosts, *MANAGERS, *WORKERS])
    swarms.leave_all(lab, MANAGERS + WORKERS)
    use_pillar(PILLARS / "nodegroups")
    yield
    swarms.leave_all(lab, MANAGERS + WORKERS)


def test_three_plus_three_by_nodegroups_then_a_no_change_rerun(lab, nodegroup_hosts):
    run = orchestrate(lab)
    assert run.ok, run.out
    assert "the swarm is as pillar says" in run.out
    assert not SECRET.search(run.out)

    nodes = swarms.node_states(lab, "manager1")
    assert sorted(nodes) == MANAGERS + WORKERS
    status = {
        h: "Leader" if n["ManagerStatus"].get("Leader") else n["ManagerStatus"]["Reachability"]
        for h, n in nodes.items()
        if n.get("ManagerStatus")
    }
    assert status == {"manager1": "Leader", "manager2": "reachable", "manager3": "reachable"}
    for host in MANAGERS:
        assert nodes[host]["Spec"]["Availability"] == "drain"
    for host in WORKERS:
        assert nodes[host]["Spec"]["Role"] == "worker"
        assert nodes[host]["Spec"]["Availability"] == "active"
        assert nodes[host]["Status"]["State"] == "ready"
    labels = {h: nodes[h]["Spec"]["Labels"] for h in WORKERS}
    assert labels == {
        "worker1": {"tier": "app", "zone": "a"},
        "worker2": {"tier": "app", "zone": "a"},
        "worker3": {"tier": "app", "zone": "b"},
    }
    assert all(nodes[h]["Spec"]["Labels"] == {} for h in MANAGERS)

    run = orchestrate(lab)
    assert run.ok and run.changed == 0, run.out
