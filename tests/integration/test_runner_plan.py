"""salt-run swarm.plan: roles checked against live minions, first manager chosen, nothing changed."""

import json

import pytest

from lab import swarms


def plan(lab, *args):
    res = lab.salt_run("swarm.plan", *args, "--out=json")
    return res.returncode, json.loads(res.stdout or "{}"), res.stdout + res.stderr


def test_plan_on_bare_nodes(lab, lab_hosts, bare_hosts):
    code, data, out = plan(lab, 'managers={tgt: "host[1-3]"}', "workers={tgt: host4}")
    assert code == 0, out
    assert data["first_manager"] == "host1"
    assert data["managers"] == ["host2", "host3"] and data["workers"] == ["host4"]
    assert data["warnings"] == [] and data["existing_cluster"] is None
    assert all(swarms.local_state(lab, h)["LocalNodeState"] == "inactive" for h in lab_hosts)


def test_plan_keeps_the_existing_swarm(lab, lab_hosts, bare_hosts):
    swarms.build(lab, ["host2"])
    code, data, out = plan(lab, "managers={tgt: 'host1,host2', tgt_type: list}")
    assert code == 0, out
    assert data["first_manager"] == "host2" and data["managers"] == ["host1"]
    assert data["existing_cluster"] == swarms.local_state(lab, "host2")["Cluster"]["ID"]
    assert any("2 managers" in w for w in data["warnings"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["managers={tgt: 'host1,ghost', tgt_type: list}"], "unknown minions: ghost"),
        (
            ["managers={tgt: 'host1,host2', tgt_type: list}", "workers={tgt: host2}"],
            "in both roles: host2",
        ),
        (["managers={tgt: 'nomatch*'}"], "no minion matches the managers target"),
        (["managers={tgt: host1, tgt_type: bogus}"], "tgt_type 'bogus'"),
        (["managers={tgt: swarmmanager, tgt_type: nodegroup}"], "no minion matches"),
    ],
)
def test_bad_roles_are_refused_with_retcode_1(lab, lab_hosts, args, message):
    code, data, out = plan(lab, *args)
    assert code == 1, out
    assert message in data["error"]
