"""salt-run swarm.recover: 3 managers, 2 of their dockerds killed, quorum lost."""

import json

import pytest

from lab import swarms
from lab.wait import wait_for
from tests.integration.conftest import PILLARS, orchestrate


@pytest.fixture
def three_managers(lab, lab_hosts, bare_hosts, use_pillar):
    use_pillar(PILLARS / "bootstrap")
    run = orchestrate(lab)
    assert run.ok, run.out
    yield
    for name in ("host2", "host3"):
        lab.start_daemon(name, "dockerd")


def recover(lab):
    res = lab.salt_run("swarm.recover", "--out=json", timeout=300)
    return res.returncode, json.loads(res.stdout), res.stdout + res.stderr


def test_recover_refuses_with_quorum_then_rebuilds_after_two_managers_die(lab, three_managers):
    code, data, out = recover(lab)
    assert code == 1 and "quorum is there (3 of 3 managers reachable" in data["error"], out
    worker_id = swarms.node_states(lab, "host1")["host4"]["ID"]

    for name in ("host2", "host3"):
        lab.stop_daemon(name, "dockerd", timeout=5)
    # Raft needs a moment to notice: then the survivor cannot list the nodes (no leader).
    wait_for(lambda: lab.salt_json("host1", "swarm.health").retcode != 0, 60, "quorum lost")

    code, data, out = recover(lab)
    assert code == 0, out
    assert data["survivor"] == "host1" and data["still_down"] == ["host2", "host3"]
    nodes = swarms.node_states(lab, "host1")
    assert sorted(nodes) == ["host1", "host4"]  # the dead managers are gone
    assert nodes["host1"]["ManagerStatus"]["Leader"] is True
    assert nodes["host4"]["ID"] == worker_id  # the worker stays, and reconnects:
    swarms.wait_ready(lab, "host1", ["host4"], timeout=60)

    # The dead managers come back (both at once: each one's start waits on their old
    # Raft) and the orchestrate makes them managers again.
    for name in ("host2", "host3"):
        lab.start_daemon(name, "dockerd", wait=False)
    for name in ("host2", "host3"):
        lab.start_daemon(name, "dockerd")
    run = orchestrate(lab)
    assert run.ok, run.out
    health = lab.salt_json("host1", "swarm.health").data["host1"]
    assert health["managers"] == 3 and health["reachable"] == 3, health
