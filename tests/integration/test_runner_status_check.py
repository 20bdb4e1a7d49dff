"""salt-run swarm.status and swarm.check on a healthy swarm, then on a drifted one."""

import json

import pytest

from tests.integration.conftest import PILLARS, orchestrate, pillar_variant, swarm_for_the_module

PILLAR = PILLARS / "bootstrap"


pytestmark = pytest.mark.own_pillar  # one swarm, its pillar chosen for the module


@pytest.fixture(scope="module")
def built(lab, lab_hosts, tmp_path_factory):
    """Built once: the healthy-swarm test reads it, the drift test (last) changes it."""
    # The final check waits only 2 s here: the drift below is one no state fixes.
    quick = pillar_variant(
        tmp_path_factory.mktemp("status"),
        PILLAR,
        **{"advertise_addr: eth0": "advertise_addr: eth0\n  check_wait: 2"},
    )
    with swarm_for_the_module(lab, quick):
        yield
    # Every lab host, extra1 too, leaves the swarm afterwards.


def check(lab):
    res = lab.salt_run("swarm.check", "--out=json")
    return res.returncode, json.loads(res.stdout)


def test_status_table_and_json_on_a_healthy_swarm(lab, lab_hosts, built):
    res = lab.salt_run("swarm.status")
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].split() == [
        "MINION", "HOSTNAME", "ROLE", "MANAGER", "STATUS", "AVAILABILITY", "STATUS", "ADDRESS",
        "LABELS", "ENGINE",
    ]  # fmt: skip
    rows = {ln.split()[0]: ln.split() for ln in lines[1:5]}
    assert rows["host1"][1:6] == ["host1", "manager", "leader", "drain", "ready"]
    assert rows["host2"][1:6] == ["host2", "manager", "reachable", "drain", "ready"]
    assert rows["host4"][1:7] == ["host4", "worker", "-", "active", "ready", lab.addr("host4")]
    assert rows["host4"][7] == "lab=yes,tier=app,zone=a"
    assert lines[-1].startswith(
        "quorum ok: 3 managers, 3 reachable, 2 needed, survives 1 more manager failure(s); "
        "1 workers; leader host1"
    )

    res = lab.salt_run("swarm.status", "--out=json")
    data = json.loads(res.stdout)
    by_minion = {n["minion"]: n for n in data["nodes"]}
    assert sorted(by_minion) == lab_hosts
    assert by_minion["host3"]["manager_status"] == "reachable"
    assert by_minion["host4"]["labels"] == {"lab": "yes", "tier": "app", "zone": "a"}
    assert data["quorum"]["failures_tolerated"] == 1 and data["quorum"]["has_quorum"] is True

    code, data = check(lab)
    assert code == 0 and data["result"] is True and data["differences"] == [], data


def test_check_lists_every_drift_and_the_orchestrate_fails_on_what_it_cannot_fix(
    lab, lab_hosts, built
):
    lab.salt_json("host1", "swarm.node_update", "host2", "availability=active")
    lab.salt_json("host1", "swarm.node_update", "host4", "labels_remove=zone")
    lab.up([*lab_hosts, "extra1"])
    tokens = lab.docker_client("host1").api.inspect_swarm()["JoinTokens"]
    joiner = lab.docker_client("extra1")
    joiner.api.join_swarm(
        [f"{lab.addr('host1')}:2377"], tokens["Worker"], advertise_addr=lab.addr("extra1")
    )
    joiner.close()

    code, data = check(lab)
    assert code == 1 and data["result"] is False
    assert "host2: availability active, pillar says drain" in data["differences"]
    assert "host4: label zone missing, pillar says 'a'" in data["differences"]
    assert any(d.startswith("extra1: a worker node") for d in data["differences"])

    status = json.loads(lab.salt_run("swarm.status", "--out=json").stdout)
    assert {n["minion"] for n in status["nodes"]} == {*lab_hosts, "extra1"}

    run = orchestrate(lab)  # fixes drain and labels, cannot remove a node on its own
    assert run.code != 0 and run.failed == 1, run.out
    assert "extra1: a worker node" in run.out
    assert "host2: availability" not in run.out.split("swarm conforms to pillar")[-1]
    code, data = check(lab)
    assert [d.split(":")[0] for d in data["differences"]] == ["extra1"]
