"""Drills a new user ran with pillars written from the docs alone (issue 24): input the
plan must refuse before any daemon changes, what swarm.check and swarm.status say with
a manager's dockerd down, and what the loser of two simultaneous runs says."""

import pytest

from lab import swarms
from lab.wait import wait_for
from tests.integration.conftest import PILLARS, SECRET, orchestrate, pillar_variant
from tests.integration.daemon_state import in_background
from tests.integration.test_faults import assert_built, host_gone

PILLAR = PILLARS / "bootstrap"
POOL = "default_addr_pool: [198.19.0.0/17]"
MINE = PILLAR.joinpath("swarm.sls").read_text().split("mine_functions:")[1]


def variant(tmp_path, **replacements):
    return pillar_variant(tmp_path, PILLAR, **replacements)


@pytest.mark.parametrize(
    "replacements, expect",
    [
        (
            {POOL: "default_addr_pool: [198.19.0.0]"},
            "swarm:init:default_addr_pool[0]: '198.19.0.0' has no prefix length",
        ),
        (
            {POOL: "default_addr_pool: [198.19.0.0/25]", "subnet_size: 24": ""},
            "swarm:init:default_addr_pool: pool 198.19.0.0/25 is smaller than one /24 subnet",
        ),
        (
            {"mine_functions:" + MINE: ""},
            "host1: mine_functions has no entry for swarm.manager_addr",
        ),
    ],
    ids=["pool without prefix", "pool smaller than a subnet", "no mine_functions"],
)
def test_the_plan_refuses_naming_the_key_on_bare_nodes_and_no_dockerd_changes(
    lab, lab_hosts, bare_hosts, use_pillar, tmp_path, replacements, expect
):
    use_pillar(variant(tmp_path, **replacements))
    before = swarms.fingerprint(lab, lab_hosts)
    run = orchestrate(lab)
    assert not run.ok and run.changed == 0, run.out
    comments = [line.strip() for line in run.out.splitlines() if "Comment:" in line]
    assert any(expect in line for line in comments), run.out  # the reason, not "Failure!"
    assert swarms.fingerprint(lab, lab_hosts) == before
    for host in lab_hosts:
        assert swarms.local_state(lab, host)["LocalNodeState"] == "inactive", host


def test_check_with_a_managers_dockerd_down_lists_what_it_sees_and_status_tells_the_margin(
    lab, lab_hosts, bare_hosts, use_pillar
):
    use_pillar(PILLAR)
    run = orchestrate(lab)
    assert run.ok, run.out
    lab.docker("host1", "node", "update", "--label-rm", "zone", "host4").check_returncode()
    lab.stop_daemon("host3", "dockerd", timeout=5)
    try:
        wait_for(lambda: host_gone(lab, "host3"), 90, "host3 unreachable and down")
        res = lab.salt_run("swarm.check", "--out=json")
        assert res.returncode == 1, res.stdout + res.stderr
        out = res.stdout + res.stderr
        for line in (
            "host3: cannot tell its node's state (",
            "host3: status down, not ready",
            "host4: label zone missing, pillar says 'a'",
            "quorum at risk: unreachable managers host3; survives 0 more manager failure(s) "
            "(1 with all reachable)",
        ):
            assert line in out, out
        status = lab.salt_run("swarm.status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert (
            "quorum ok: 3 managers, 2 reachable, 2 needed, survives 0 more manager failure(s) "
            "(1 with all reachable)"
        ) in status.stdout, status.stdout
    finally:
        lab.start_daemon("host3", "dockerd")
    swarms.wait_ready(lab, "host1", ["host3"], timeout=90)


def test_two_orchestrates_at_once_make_one_swarm_and_a_loser_says_what_happened(
    lab, lab_hosts, bare_hosts, use_pillar
):
    use_pillar(PILLAR)
    runs = [in_background(lab), in_background(lab)]
    results = [r.result(timeout=600) for r in runs]
    outs = "\n".join(r.out for r in results)
    assert not SECRET.search(outs)
    assert "swarm leave" not in outs, outs
    for result in results:
        if not result.ok:
            assert "another run made this node" in result.out, result.out
            assert "run it again and it converges" in result.out, result.out
    clusters = {swarms.local_state(lab, h)["Cluster"]["ID"] for h in ("host1", "host2", "host3")}
    assert len(clusters) == 1
    rerun = orchestrate(lab)
    assert rerun.ok and rerun.changed == 0, rerun.out
    assert_built(lab)
