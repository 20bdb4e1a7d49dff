"""salt-run swarm.rebalance: 6 replicas piled on 2 workers spread over 4 after 2 join."""

import json

import docker.types
import pytest

from lab import images, swarms
from lab.wait import wait_for
from salt_swarm.core.cluster import node_view
from tests.integration.conftest import PILLARS

WORKERS = ["host4", "host5"]
NEW = ["host6", "host7"]


@pytest.fixture
def piled_up(lab, lab_hosts, use_pillar):
    lab.up([*lab_hosts, "host5", "host6", "host7"])
    # The runner asks pillar's managers only (host1-3 here): not any minion that says so.
    use_pillar(PILLARS / "day2")
    swarms.leave_all(lab, lab.hosts)
    images.ensure_image(lab, WORKERS + NEW)
    swarms.build(lab, ["host1"], WORKERS)
    client = lab.docker_client("host1")
    for node in client.api.nodes():
        if node["Spec"]["Role"] == "manager":
            spec = dict(node["Spec"], Availability="drain")
            client.api.update_node(node["ID"], node["Version"]["Index"], spec)
    template = docker.types.TaskTemplate(
        container_spec=docker.types.ContainerSpec(
            images.IMAGE,
            command=["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
            stop_grace_period=1_000_000_000,
        ),
        restart_policy=docker.types.RestartPolicy(condition="any"),
    )
    client.api.create_service(template, name="web", mode=docker.types.ServiceMode("replicated", 6))
    client.api.create_service(template, name="agent", mode=docker.types.ServiceMode("global"))
    wait_for(
        lambda: running(client, "web") == {"host4": 3, "host5": 3}, 120, "6 tasks on 2 workers"
    )
    tokens = client.api.inspect_swarm()["JoinTokens"]
    for name in NEW:
        joiner = lab.docker_client(name)
        joiner.api.join_swarm([f"{lab.addr('host1')}:2377"], tokens["Worker"])
        joiner.close()
    swarms.wait_ready(lab, "host1", NEW)
    wait_for(lambda: sum(running(client, "agent").values()) == 4, 120, "global on 4 workers")
    yield client
    client.close()
    swarms.leave_all(lab, lab.hosts)


def running(client, service):
    # node_view: a node that just joined may be listed before its description.
    hosts = {n["ID"]: node_view(n).hostname for n in client.api.nodes()}
    spread = {}
    for task in client.api.tasks(filters={"service": service, "desired-state": "running"}):
        if task["Status"]["State"] == "running":
            host = hosts.get(task["NodeID"])
            spread[host] = spread.get(host, 0) + 1
    return spread


def test_rebalance_plans_then_spreads_the_replicas_and_leaves_global_services(lab, piled_up):
    client = piled_up
    agent_version = client.api.inspect_service("agent")["Version"]["Index"]
    res = lab.salt_run("swarm.rebalance", "test=True", "--out=json")
    plan = json.loads(res.stdout)
    assert res.returncode == 0, res.stdout + res.stderr
    by_name = {s["name"]: s for s in plan["services"]}
    assert by_name["web"]["uneven"] is True
    assert by_name["web"]["spread"] == {"host4": 3, "host5": 3, "host6": 0, "host7": 0}
    assert by_name["agent"]["skipped"] == "global service"
    assert plan["updated"] == ["web"] and "after" not in plan
    assert running(client, "web") == {"host4": 3, "host5": 3}  # test=True moved nothing

    res = lab.salt_run("swarm.rebalance", "--out=json")
    assert res.returncode == 0, res.stdout + res.stderr
    spread = running(client, "web")
    assert sorted(spread) == ["host4", "host5", "host6", "host7"], spread
    assert max(spread.values()) == 2 and sum(spread.values()) == 6
    assert client.api.inspect_service("agent")["Version"]["Index"] == agent_version

    again = json.loads(lab.salt_run("swarm.rebalance", "test=True", "--out=json").stdout)
    assert again["updated"] == []
