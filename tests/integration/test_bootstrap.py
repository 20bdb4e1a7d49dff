"""salt-run state.orchestrate swarm.bootstrap on the lab: 3 managers + 1 worker from bare nodes."""

import os
import subprocess

import pytest

from lab import swarms
from tests.integration.conftest import PILLARS, SECRET, orchestrate, pillar_variant, switch_pillar

PILLAR = PILLARS / "bootstrap"


@pytest.fixture
def bootstrap_pillar(lab, lab_hosts, bare_hosts, use_pillar):
    use_pillar(PILLAR)


def test_bootstrap_from_bare_nodes_then_a_no_change_rerun(lab, lab_hosts, bootstrap_pillar):
    run = orchestrate(lab)
    assert run.ok, run.out
    assert run.changed > 0
    assert "the swarm is as pillar says" in run.out
    assert "seen by the plan" not in run.out  # things changed: not the plan's list
    # The check's first look is the node list the settings step read after its writes.
    assert "on the node list the settings step read through host1" in run.out, run.out
    assert not SECRET.search(run.out)

    nodes = swarms.node_states(lab, "host1")
    assert sorted(nodes) == ["host1", "host2", "host3", "host4"]
    leaders = [h for h, n in nodes.items() if (n.get("ManagerStatus") or {}).get("Leader")]
    assert leaders == ["host1"]
    for host in ("host2", "host3"):
        assert nodes[host]["ManagerStatus"]["Reachability"] == "reachable"
    for host in ("host1", "host2", "host3"):
        assert nodes[host]["Spec"]["Role"] == "manager"
        assert nodes[host]["Spec"]["Availability"] == "drain"
    assert nodes["host4"]["Spec"]["Role"] == "worker"
    assert nodes["host4"]["Spec"]["Availability"] == "active"
    assert nodes["host4"]["Spec"]["Labels"] == {"zone": "a", "tier": "app", "lab": "yes"}
    assert nodes["host2"]["Spec"]["Labels"] == {"lab": "yes"}
    assert all(n["Status"]["State"] == "ready" for n in nodes.values())
    assert nodes["host3"]["Status"]["Addr"] == lab.addr("host3")  # advertise_addr: eth0

    before = swarms.fingerprint(lab, lab_hosts)
    run = orchestrate(lab)
    assert run.ok and run.changed == 0, run.out
    # Nothing to change: the last step takes the plan's reading of the nodes.
    assert "seen by the plan through host1" in run.out, run.out

    run = orchestrate(lab, "swarm.bootstrap", "test=True")
    assert run.ok and run.changed == 0 and run.unchanged == 0, run.out
    assert swarms.fingerprint(lab, lab_hosts) == before  # the daemons say so too

    # Drift (a label gone, a manager made active): test=True tells it, changes nothing.
    lab.docker("host1", "node", "update", "--label-rm", "zone", "host4").check_returncode()
    lab.docker("host1", "node", "update", "--availability", "active", "host2").check_returncode()
    before = swarms.fingerprint(lab, lab_hosts)
    run = orchestrate(lab, "swarm.bootstrap", "test=True")
    assert run.ok and run.unchanged > 0, run.out
    assert "host4 (host4): label zone missing" in run.out or "host4: label zone missing" in run.out
    assert swarms.fingerprint(lab, lab_hosts) == before
    run = orchestrate(lab)
    assert run.ok and run.changed > 0, run.out
    nodes = swarms.node_states(lab, "host1")
    assert nodes["host4"]["Spec"]["Labels"]["zone"] == "a"
    assert nodes["host2"]["Spec"]["Availability"] == "drain"


def test_test_mode_on_bare_nodes_tells_each_step_and_changes_nothing(
    lab, lab_hosts, bootstrap_pillar
):
    run = orchestrate(lab, "swarm.bootstrap", "test=True")
    assert run.ok, run.out
    # first manager, host2, host3, the workers, and the check that sees the bare nodes
    assert run.unchanged == 5, run.out
    assert "a new swarm would be" in run.out, run.out
    for host in ("host2", "host3"):
        assert f"would join {host} as manager" in run.out, run.out
    assert "would join host4 as worker" in run.out, run.out
    assert "differs from pillar now (earlier steps would change it)" in run.out, run.out
    assert not SECRET.search(run.out)
    assert all(swarms.local_state(lab, h)["LocalNodeState"] == "inactive" for h in lab_hosts)


def test_bootstrap_refuses_bad_roles_before_any_change(lab, lab_hosts, bootstrap_pillar, tmp_path):
    bad = pillar_variant(
        tmp_path, PILLAR, **{"workers: {tgt: host4}": "workers: {tgt: 'host[3-4]'}"}
    )
    switch_pillar(lab, bad)
    run = orchestrate(lab)
    assert run.code != 0 and run.failed >= 1
    assert "in both roles: host3" in run.out
    assert all(swarms.local_state(lab, h)["LocalNodeState"] == "inactive" for h in lab_hosts)


def test_highstate_joins_a_new_worker_and_changes_nothing_on_members(
    lab, lab_hosts, bootstrap_pillar
):
    swarms.leave(lab, "host4")  # not yet in the swarm when the orchestrate runs
    run = orchestrate(lab)
    assert run.ok, run.out
    # Rebuilt host: out of the swarm again; its own state run brings it back.
    swarms.leave(lab, "host4")
    res = lab.salt_json("host4", "state.apply", "swarm")
    assert res.retcode == 0, res.output
    (joined,) = res.data["host4"].values()
    assert joined["result"] is True and joined["changes"]["swarm"]["new"] == "worker"
    assert not SECRET.search(res.output)
    assert swarms.local_state(lab, "host4")["LocalNodeState"] == "active"

    res = lab.salt_json("-L", ",".join(lab_hosts), "state.apply", "swarm")
    assert res.retcode == 0, res.output
    for minion, states in res.data.items():
        for state in states.values():
            assert state["result"] is True and state["changes"] == {}, (minion, state)


def test_highstate_on_a_minion_in_no_role_does_nothing(lab, lab_hosts, bootstrap_pillar):
    lab.up([*lab_hosts, "extra1"])
    res = lab.salt_json("extra1", "state.apply", "swarm")
    assert res.retcode == 0, res.output
    assert swarms.local_state(lab, "extra1")["LocalNodeState"] == "inactive"


def test_watch_follows_a_running_bootstrap_step_by_step_then_shows_the_table(
    lab, lab_hosts, bootstrap_pillar
):
    """salt-run swarm.watch in another process prints each step as the orchestrate
    fires its progress event, stops at the final check, then prints swarm.status."""
    watch = subprocess.Popen(
        lab.salt_run_argv("swarm.watch", "timeout=300"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        head = []  # until the line it prints once it listens on the master's bus
        while not (head and head[-1].startswith("following salt/swarm/progress/")):
            head.append(watch.stdout.readline())
            assert head[-1] and len(head) < 20, head
        run = orchestrate(lab)
        out, _ = watch.communicate(timeout=120)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert run.ok, run.out
    assert watch.returncode == 0, out
    # One line per step, in order (a manager step is named by its minion).
    steps = [line.split(":")[0] for line in out.splitlines() if line.startswith("[ok] ")]
    assert steps == [
        "[ok] swarm first manager, 1 joined",
        "[ok] host2, 1 joined",
        "[ok] host3, 1 joined",
        "[ok] swarm workers, 1 joined",
        "[ok] swarm conforms to pillar",
    ], out
    table = out[out.index("[ok] swarm conforms to pillar") :]
    assert all(h in table for h in lab_hosts), out  # the status table after the last step
    assert not SECRET.search(out)
