"""Day-2 operations on a live swarm through the real master, minions and dockerds:
reactor joins and retirements, rebuilt hosts, prune, status of members."""

import json
import time

import pytest

from lab import swarms
from lab.wait import wait_for
from salt_swarm.core.cluster import node_view
from tests.integration.conftest import PILLARS, SECRET, orchestrate


@pytest.fixture
def day2(lab, lab_hosts, use_pillar):
    """host1-3 managers, host4-6 workers, built by the orchestrate."""
    lab.up([*lab_hosts, "host5", "host6"])
    swarms.leave_all(lab, lab.hosts)
    use_pillar(PILLARS / "day2")
    run = orchestrate(lab)
    assert run.ok, run.out
    yield
    for name in ("host5", "host6"):
        for daemon in ("dockerd", "minion"):
            lab.start_daemon(name, daemon)
    swarms.leave_all(lab, lab.hosts)


def by_host(lab, manager="host1"):
    return swarms.node_states(lab, manager)


def ready(lab, host, manager="host1"):
    node = by_host(lab, manager).get(host) or {}
    return (node.get("Status") or {}).get("State") == "ready"


def twins(lab, host, manager="host1"):
    return [n for n in swarms.node_list(lab, manager) if node_view(n).hostname == host]


def test_a_new_host_joins_by_itself_through_the_reactor(lab, day2):
    # host6 becomes a new host: out of the swarm, its node gone, its minion stopped.
    lab.stop_daemon("host6", "minion")
    swarms.leave(lab, "host6")
    wait_for(lambda: not ready(lab, "host6"), 60, "host6 Down")
    lab.docker_client("host1").api.remove_node(by_host(lab)["host6"]["ID"])
    assert "host6" not in by_host(lab)
    began = time.monotonic()
    lab.start_daemon("host6", "minion", wait=False)  # the clock runs from the process start
    wait_for(lambda: ready(lab, "host6"), 60, "host6 Ready through the reactor")
    took = time.monotonic() - began
    print(f"\nreactor join: minion start to node Ready in {took:.1f} s")
    node = by_host(lab)["host6"]
    assert node["Spec"]["Role"] == "worker"
    wait_for(lambda: by_host(lab)["host6"]["Spec"]["Labels"] == {"tier": "app"}, 30, "labels")

    # A member's start event changes nothing: same node, no join, no settings change.
    res = lab.salt_run("swarm.join_minion", "host6", "--out=json")
    data = json.loads(res.stdout)
    assert res.returncode == 0 and data["joined"] is False and data["node"] == {}, data
    assert not SECRET.search(res.stdout)
    lab.stop_daemon("host6", "minion")
    lab.start_daemon("host6", "minion")
    assert [n["ID"] for n in twins(lab, "host6")] == [node["ID"]]


def test_a_host_stopped_and_its_key_deleted_is_drained_and_removed(lab, day2):
    lab.stop_daemon("host5", "minion")
    lab.stop_daemon("host5", "dockerd")
    res = lab.salt_key("-y", "-d", "host5")
    assert res.returncode == 0, res.stdout + res.stderr
    wait_for(lambda: "host5" not in by_host(lab), 120, "host5 removed by the key reactor")
    health = lab.salt_json("host1", "swarm.health").data["host1"]
    assert health["managers"] == 3 and health["reachable"] == 3 and health["has_quorum"]
    lab.start_daemon("host5", "dockerd")
    swarms.leave(lab, "host5")


def test_a_rebuilt_worker_rejoins_with_no_down_twin(lab, day2):
    old = by_host(lab)["host4"]["ID"]
    lab.wipe_swarm_state("host4")  # dockerd's swarm data gone: a new node id on rejoin
    run = orchestrate(lab)
    assert run.ok, run.out
    (node,) = twins(lab, "host4")
    assert node["ID"] != old and node["Status"]["State"] == "ready"
    assert node["Spec"]["Labels"] == {"tier": "app"}


def test_prune_plans_then_removes_a_stale_twin_and_keeps_down_nodes_with_a_key(lab, day2):
    # A rebuilt host joined by hand (not through salt-swarm) leaves its old node Down.
    tokens = lab.docker_client("host1").api.inspect_swarm()["JoinTokens"]
    lab.wipe_swarm_state("host4")
    client = lab.docker_client("host4")
    client.api.join_swarm([f"{lab.addr('host1')}:2377"], tokens["Worker"])
    client.close()
    lab.stop_daemon("host5", "dockerd")  # Down, but its minion keeps its key
    wait_for(lambda: len(twins(lab, "host4")) == 2 and not ready(lab, "host5"), 60, "Down nodes")

    plan = json.loads(lab.salt_run("swarm.prune", "test=True", "--out=json").stdout)
    assert [(r["hostname"], r["steps"]) for r in plan["removed"]] == [("host4", ["removed"])]
    assert "a Ready node named host4 replaced it" in plan["removed"][0]["reason"]
    assert any(k.startswith("host5 ") for k in plan["kept"])
    assert len(twins(lab, "host4")) == 2  # test=True changed nothing

    res = lab.salt_run("swarm.prune", "--out=json")
    assert res.returncode == 0, res.stdout
    assert [n["Status"]["State"] for n in twins(lab, "host4")] == ["ready"]
    assert len(twins(lab, "host5")) == 1
    again = json.loads(lab.salt_run("swarm.prune", "--out=json").stdout)
    assert again["removed"] == []
