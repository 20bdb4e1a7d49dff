"""Faults during and between orchestrate runs, on the lab's real daemons. Each test
ends with the swarm as pillar says (or, for refusals, with nothing changed)."""

import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from lab import swarms
from lab.wait import wait_for
from tests.integration.conftest import (
    PILLARS,
    SECRET,
    orchestrate,
    pillar_variant,
    switch_pillar,
)
from tests.integration.daemon_state import in_background, managers_ready, watch
from tests.integration.test_secrets_stay_secret import hits

PILLAR = PILLARS / "bootstrap"
SHORT_CHECK = {"advertise_addr: eth0": "advertise_addr: eth0\n  check_wait: 5"}


def variant(tmp_path, name, **replacements):
    folder = tmp_path / name
    folder.mkdir()
    return pillar_variant(folder, PILLAR, **replacements)


def local(lab, host):
    try:
        return swarms.local_state(lab, host)["LocalNodeState"]
    except Exception:
        return "unanswered"


def quorum_sample(lab, manager):
    nodes = swarms.node_states(lab, manager).values()
    managers = [n for n in nodes if n["Spec"]["Role"] == "manager"]
    reachable = [
        n for n in managers if (n.get("ManagerStatus") or {}).get("Reachability") == "reachable"
    ]
    return len(managers), len(reachable)


def host_gone(lab, host):
    node = swarms.node_states(lab, "host1")[host]
    reach = (node.get("ManagerStatus") or {}).get("Reachability")
    return reach == "unreachable" and node["Status"]["State"] == "down"


def assert_built(lab, managers=("host1", "host2", "host3"), workers=("host4",), via="host1"):
    swarms.wait_ready(lab, via, [*managers, *workers], timeout=60)
    nodes = swarms.node_states(lab, via)
    assert {h: n["Spec"]["Role"] for h, n in nodes.items()} == {
        **{m: "manager" for m in managers},
        **{w: "worker" for w in workers},
    }
    for m in managers:
        assert nodes[m]["ManagerStatus"]["Reachability"] == "reachable", m


@pytest.fixture
def built(lab, lab_hosts, bare_hosts, use_pillar):
    use_pillar(PILLAR)
    run = orchestrate(lab)
    assert run.ok, run.out


def test_first_manager_dies_after_the_managers_joined_workers_join_through_another(
    lab, lab_hosts, bare_hosts, use_pillar, tmp_path
):
    use_pillar(variant(tmp_path, "short", **SHORT_CHECK))

    def three_managers():
        try:
            return managers_ready(lab, "host1") == 3
        except Exception:
            return False

    run = in_background(lab)
    wait_for(lambda: local(lab, "host1") == "active" or run.done(), 120, "host1 initialized")
    # The plan is done; host4's minion is paused so its join cannot start before host1
    # is down, however quickly the workers' step follows the last manager.
    lab.signal_daemon("host4", "minion", signal.SIGSTOP)
    try:
        wait_for(lambda: three_managers() or run.done(), 180, "three managers in the swarm")
        assert not run.done(), run.result().out
        worker_before = local(lab, "host4")
        lab.stop_daemon("host1", "dockerd", timeout=5)
    finally:
        lab.signal_daemon("host4", "minion", signal.SIGCONT)
    try:
        result = run.result(timeout=300)
        assert worker_before == "inactive"  # the workers' step had not started
        assert local(lab, "host4") == "active", result.out  # it joined through host2/host3
        assert result.code != 0 and "host1: status" in result.out, result.out
        assert "unreachable managers host1" in result.out
        assert not SECRET.search(result.out)
    finally:
        lab.start_daemon("host1", "dockerd")
    swarms.wait_ready(lab, "host2", ["host1", "host4"], timeout=60)
    rerun = orchestrate(lab)
    assert rerun.ok, rerun.out
    assert_built(lab)


def test_a_manager_dockerd_stopped_mid_run_fails_naming_it_and_a_rerun_completes(
    lab, lab_hosts, bare_hosts, use_pillar
):
    use_pillar(PILLAR)
    run = in_background(lab)
    wait_for(lambda: local(lab, "host1") == "active" or run.done(), 120, "host1 initialized")
    assert not run.done(), run.result().out
    assert local(lab, "host3") == "inactive"
    lab.stop_daemon("host3", "dockerd", timeout=5)
    try:
        result = run.result(timeout=300)
        assert result.code != 0 and result.failed >= 1, result.out
        assert "ID: swarm manager 2" in result.out and "Name: host3" in result.out
        assert "cannot reach the Docker daemon" in result.out, result.out
    finally:
        lab.start_daemon("host3", "dockerd")
    rerun = orchestrate(lab)
    assert rerun.ok, rerun.out
    assert_built(lab)


def test_pillar_promotes_a_worker_then_demotes_it_and_quorum_holds_throughout(
    lab, lab_hosts, built, tmp_path
):
    promoted = variant(
        tmp_path,
        "promoted",
        **{
            "managers: {tgt: 'host[1-3]'}": "managers: {tgt: 'host[1-4]'}",
            "workers: {tgt: host4}": "workers: {}",
        },
    )
    for folder, managers, workers in (
        (promoted, ("host1", "host2", "host3", "host4"), ()),
        (PILLAR, ("host1", "host2", "host3"), ("host4",)),
    ):
        switch_pillar(lab, folder)
        run = in_background(lab)
        samples = watch(lambda: quorum_sample(lab, "host1"), run.done, interval=0.1)
        result = run.result()
        assert result.ok, result.out
        assert samples and all(
            not isinstance(s, Exception) and s[1] >= s[0] // 2 + 1 for s in samples
        ), samples
        assert_built(lab, managers, workers)
        nodes = swarms.node_states(lab, "host1")
        want = "drain" if "host4" in managers else "active"
        assert nodes["host4"]["Spec"]["Availability"] == want
    assert "4 managers: an even count" not in result.out  # the second run had 3


def test_a_pillar_change_that_would_break_quorum_is_refused_with_the_numbers(
    lab, lab_hosts, built, tmp_path
):
    lab.stop_daemon("host3", "dockerd", timeout=5)
    try:
        # Unreachable, then Down: Docker writes both into host3's node object, which
        # would change the fingerprint if it happened during the check below.
        wait_for(lambda: host_gone(lab, "host3"), 90, "host3 unreachable and down")
        demote_host2 = variant(
            tmp_path,
            "demote",
            **{
                "managers: {tgt: 'host[1-3]'}": "managers: {tgt: 'host[13]'}",
                "workers: {tgt: host4}": "workers: {tgt: 'host[24]'}",
            },
        )
        switch_pillar(lab, demote_host2)
        live = ["host1", "host2", "host4"]
        before = swarms.fingerprint(lab, live)
        run = orchestrate(lab)
        assert run.code != 0 and run.changed == 0, run.out
        assert "refused before any change" in run.out
        assert "host3: swarm:docker_url: cannot reach the Docker daemon" in run.out, run.out
        assert "demote host2: it would leave 1 of 2 managers reachable, below the quorum of 2" in (
            run.out
        ), run.out
        assert swarms.fingerprint(lab, live) == before
    finally:
        lab.start_daemon("host3", "dockerd")


def test_autolock_a_restarted_manager_is_unlocked_from_pillar_and_the_key_rotates(
    lab, lab_hosts, bare_hosts, use_pillar, tmp_path
):
    autolock = {"subnet_size: 24": "subnet_size: 24\n    autolock: true"}
    use_pillar(variant(tmp_path, "autolock", **autolock))
    outputs = [orchestrate(lab)]
    assert outputs[0].ok, outputs[0].out

    def unlock_key():
        client = lab.docker_client("host1")
        try:
            return client.api.get_unlock_key()["UnlockKey"]
        finally:
            client.close()

    keys = [unlock_key()]
    for step, host in enumerate(("host2", "host3")):
        keyed = variant(
            tmp_path,
            f"key{step}",
            **autolock,
            **{"advertise_addr: eth0": f"advertise_addr: eth0\n  unlock_key: '{keys[-1]}'"},
        )
        switch_pillar(lab, keyed)
        lab.stop_daemon(host, "dockerd", timeout=10)
        lab.start_daemon(host, "dockerd")
        assert local(lab, host) == "locked"
        run = orchestrate(lab)
        outputs.append(run)
        assert run.ok, run.out
        assert local(lab, host) == "active"
        assert_built(lab)
        if step == 0:  # rotate: the next restart needs the new key
            res = lab.salt_json(
                "host1", "state.single", "swarm.settings", "name=swarm", "rotate_unlock_key=True"
            )
            assert res.retcode == 0, res.output
            outputs.append(res)
            keys.append(unlock_key())
            assert keys[1] != keys[0]
    for out in outputs:
        text = getattr(out, "out", None) or out.output
        assert not any(k in text for k in keys) and not SECRET.search(text)
    assert hits(lab.paths.root, keys) == []


def test_a_rotated_worker_token_is_what_the_next_join_reads_from_the_mine(lab, lab_hosts, built):
    def worker_token():
        client = lab.docker_client("host1")
        try:
            return client.api.inspect_swarm()["JoinTokens"]["Worker"]
        finally:
            client.close()

    old = worker_token()
    res = lab.salt_json(
        "host1", "state.single", "swarm.settings", "name=swarm", "rotate_worker_token=True"
    )
    assert res.retcode == 0 and not SECRET.search(res.output), res.output
    new = worker_token()
    assert new != old
    swarms.leave(lab, "host4")
    run = orchestrate(lab)  # Docker refuses the old token: a join proves the new one was read
    assert run.ok and not SECRET.search(run.out), run.out
    assert_built(lab)
    assert run.changed > 0, run.out  # host4 joined again (not a converged no-op)
    assert swarms.local_state(lab, "host4")["LocalNodeState"] == "active"
    mine = lab.salt_json("host4", "mine.get", "host1", "swarm.worker_token").data["host4"]
    assert mine["host1"]["worker"] == new


def test_a_rotated_manager_token_is_what_the_next_manager_join_reads(lab, lab_hosts, built):
    """The manager token rotated (state swarm.settings): host3, taken out of the swarm,
    joins again as a manager through the orchestrate, which Docker allows with the new
    token only; the mine entry the managers read holds the new one."""

    def manager_token():
        client = lab.docker_client("host1")
        try:
            return client.api.inspect_swarm()["JoinTokens"]["Manager"]
        finally:
            client.close()

    old = manager_token()
    res = lab.salt_json(
        "host1", "state.single", "swarm.settings", "name=swarm", "rotate_manager_token=True"
    )
    assert res.retcode == 0 and not SECRET.search(res.output), res.output
    new = manager_token()
    assert new != old
    lab.docker("host1", "node", "demote", "host3").check_returncode()
    swarms.leave(lab, "host3")
    wait_for(
        lambda: swarms.node_states(lab, "host1")["host3"]["Status"]["State"] == "down",
        90,
        "host3's node down",
    )
    lab.docker("host1", "node", "rm", "host3").check_returncode()
    run = orchestrate(lab)
    assert run.ok and run.changed > 0 and not SECRET.search(run.out), run.out
    assert_built(lab)
    mine = lab.salt_json("host2", "mine.get", "host1", "swarm.manager_token").data["host2"]
    assert mine["host1"]["manager"] == new


def test_the_master_restarted_mid_bootstrap_then_a_rerun_completes(
    lab, lab_hosts, bare_hosts, use_pillar
):
    use_pillar(PILLAR)
    run = in_background(lab, timeout=180)
    wait_for(lambda: local(lab, "host1") == "active" or run.done(), 120, "host1 initialized")
    assert not run.done(), run.result().out
    lab.restart_master()
    wait_for(lambda: lab.ping(lab_hosts) == set(lab_hosts), 120, "minions back on the master")
    # The interrupted salt-run waits out its publishes' timeouts (about 90 s here) before
    # it fails; an operator would stop it, and so does the test, before the re-run.
    running = not run.done()
    run.stop()
    print(
        f"\nthe interrupted run: {'stopped' if running else f'ended, code {run.proc.returncode}'}"
    )
    rerun = orchestrate(lab)
    assert rerun.ok, rerun.out
    assert_built(lab)


def test_a_manager_join_docker_finishes_in_the_background_counts_as_joined(
    lab, lab_hosts, bare_hosts, use_pillar
):
    use_pillar(PILLAR)
    swarms.build(lab, ["host1"])
    assert lab.salt_json("host1", "swarm.mine_refresh").retcode == 0
    log = lab.paths.host("host2").docker_log
    seen = len(log.read_bytes())
    timed_out = b"continue in the background"
    # host1's dockerd frozen: host2's join reaches its port (the kernel accepts) and
    # Docker gives up waiting after its own 20 s, going on in the background.
    lab.signal_daemon("host1", "dockerd", signal.SIGSTOP)
    try:
        pool = ThreadPoolExecutor(max_workers=1)
        joining = pool.submit(lab.salt_json, "host2", "swarm.join", "role=manager", timeout=240)
        wait_for(lambda: timed_out in log.read_bytes()[seen:], 90, "Docker's join timeout on host2")
        assert not joining.done()
    finally:
        lab.signal_daemon("host1", "dockerd", signal.SIGCONT)
    res = joining.result(timeout=180)
    assert res.retcode == 0, res.output
    assert "Docker finished it in the background" in res.data["host2"]["comment"]
    assert swarms.local_state(lab, "host2")["ControlAvailable"] is True
    wait_for(lambda: managers_ready(lab, "host1") == 2, 60, "two managers ready")
