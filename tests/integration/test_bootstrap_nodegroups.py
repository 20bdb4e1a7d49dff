"""3 managers + 3 workers whose roles are the master's nodegroups (swarmmanager/swarmworker)."""

import pytest

from lab import swarms
from lab.wait import wait_for
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


def test_a_member_reads_its_token_itself_under_a_nodegroup_acl(lab, nodegroup_hosts):
    """The highstate and ``swarm.join`` read the mine themselves: the managers target
    is a nodegroup and the token entries' allow_tgt are nodegroups (compound N@ and
    tgt_type nodegroup). The master expands them with its own nodegroups: a worker
    gets the worker token, and nothing in the master log says an expansion failed."""
    log = lab.paths.master_log
    start = log.stat().st_size
    run = orchestrate(lab)
    assert run.ok, run.out
    worker = WORKERS[-1]
    swarms.leave_all(lab, [worker])
    res = lab.salt_json(worker, "swarm.join")
    assert res.retcode == 0, res.output
    assert res.data[worker]["role"] == "worker"
    assert not SECRET.search(res.output)
    wait_for(
        lambda: swarms.node_states(lab, "manager1")[worker]["Status"]["State"] == "ready",
        60,
        f"{worker} ready again",
    )
    with log.open("rb") as f:
        f.seek(start)
        written = f.read().decode(errors="replace")
    failed = [line for line in written.splitlines() if "nodegroup expansion" in line]
    assert not failed, failed
