"""salt-run swarm.maintain on real daemons: 3 managers and 4 workers, a service of 6
replicas with a budget of 5 running; each node's maintenance restarts its own dockerd
while a sampler on the managers counts running tasks and reachable managers every
0.2 s. Then a budget no drain can meet, and a run that fails on its third node and
resumes there."""

import json
import sys
import threading
import time
from pathlib import Path

import docker
import docker.types
import pytest

from lab import images, swarms
from lab.layout import lab_index
from lab.wait import wait_for
from salt_swarm.core.cluster import node_view
from tests.integration.conftest import PILLARS, orchestrate, switch_pillar

pytestmark = pytest.mark.own_pillar

MANAGERS = ["host1", "host2", "host3"]
WORKERS = ["host4", "host5", "host6", "host7"]
REPO = Path(__file__).resolve().parents[2]
LOOP = "trap 'exit 0' TERM; while true; do sleep 1; done"
BUDGET = """
  drain_managers: false
  budget:
    web: {min_running: 5}
    pinned: {min_running: 1}
"""


@pytest.fixture(scope="module")
def seven(lab, lab_hosts, tmp_path_factory):
    lab.up([*lab_hosts, "host5", "host6", "host7"])
    folder = tmp_path_factory.mktemp("pillar-maintain")
    (folder / "top.sls").write_text((PILLARS / "day2" / "top.sls").read_text())
    text = (PILLARS / "day2" / "swarm.sls").read_text()
    (folder / "swarm.sls").write_text(text.replace("  lost_grace: 2\n", BUDGET))
    swarms.leave_all(lab, lab.hosts)
    switch_pillar(lab, folder)
    images.ensure_image(lab, MANAGERS + WORKERS)
    swarms.build(lab, MANAGERS, WORKERS)
    swarms.wait_ready(lab, "host1", MANAGERS[1:] + WORKERS, timeout=90)
    client = lab.docker_client("host1")
    client.api.create_service(
        _template(), name="web", mode=docker.types.ServiceMode("replicated", 6)
    )
    wait_for(lambda: running(client, "web") == 6, 120, "6 web tasks running")
    yield client
    client.close()
    swarms.leave_all(lab, lab.hosts)


def _template(constraints=None):
    return docker.types.TaskTemplate(
        container_spec=docker.types.ContainerSpec(
            images.IMAGE, command=["sh", "-c", LOOP], stop_grace_period=1_000_000_000
        ),
        restart_policy=docker.types.RestartPolicy(condition="any", delay=1_000_000_000),
        placement=docker.types.Placement(constraints=constraints) if constraints else None,
    )


def running(client, service) -> int:
    tasks = client.api.tasks(filters={"service": service, "desired-state": "running"})
    return sum(1 for t in tasks if t["Status"]["State"] == "running")


def maintain(lab, tgt, *args):
    res = lab.salt_run("swarm.maintain", tgt, *args, "--out=json", timeout=1200)
    return res.returncode, json.loads(res.stdout), res.stdout + res.stderr


def cmd_run(command) -> list[str]:
    return ["fun=cmd.run", f"arg={json.dumps([command])}", 'kwarg={"python_shell": true}']


class Sampler(threading.Thread):
    """Every 0.2 s, from whichever manager answers: web's running tasks and the
    managers Docker calls reachable."""

    def __init__(self, lab):
        super().__init__(daemon=True)
        self.clients = [
            docker.DockerClient(base_url=lab.docker_url(m), timeout=3) for m in MANAGERS
        ]
        self.samples, self.failed = [], 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            for client in self.clients:
                try:
                    nodes = [node_view(n) for n in client.api.nodes()]
                    count = running(client, "web")
                except Exception:  # that manager's dockerd is restarting, or no leader yet
                    continue
                reachable = sum(1 for n in nodes if n.is_manager and n.reachable)
                self.samples.append((started, count, reachable))
                break
            else:
                self.failed += 1
            self.stop.wait(max(0.0, 0.2 - (time.monotonic() - started)))

    def close(self):
        self.stop.set()
        self.join(10)
        for client in self.clients:
            client.close()


def test_every_node_restarts_its_dockerd_keeping_the_budget_and_quorum(lab, seven):
    restart = f"{sys.executable} -m lab restart $(hostname) dockerd"
    action = [
        "fun=cmd.run",
        f"arg={json.dumps([restart])}",
        "kwarg="
        + json.dumps(
            {
                "python_shell": True,
                "cwd": str(REPO),
                "env": {"SALT_SWARM_LAB_INDEX": str(lab_index())},
            }
        ),
    ]
    code, plan, out = maintain(lab, "host*", *action, "test=True")
    assert code == 0, out
    assert [s["nodes"] for s in plan["steps"]] == [
        ["host4"], ["host5"], ["host6"], ["host7"], ["host2"], ["host3"], ["host1"],
    ], out  # fmt: skip
    ids_before = {n["Description"]["Hostname"]: n["ID"] for n in seven.api.nodes()}

    sampler = Sampler(lab)
    sampler.start()
    try:
        code, report, out = maintain(lab, "host*", *action)
    finally:
        sampler.close()
    assert code == 0 and report["result"] is True, out
    assert [m["hostname"] for m in report["maintained"]] == [*WORKERS, "host2", "host3", "host1"]
    counts = [c for _, c, _ in sampler.samples]
    gaps = [b[0] - a[0] for a, b in zip(sampler.samples, sampler.samples[1:], strict=False)]
    assert len(counts) >= 50, (len(counts), sampler.failed)
    assert min(counts) >= 5, counts
    assert min(r for _, _, r in sampler.samples) >= 2  # quorum of 3 held in every sample
    assert max(gaps) < 30, max(gaps)  # quorum lost would leave no leader to the end
    nodes = {n["Description"]["Hostname"]: n for n in seven.api.nodes()}
    assert {h: n["ID"] for h, n in nodes.items()} == ids_before  # same nodes, restarted
    assert all(n["Spec"]["Availability"] == "active" for n in nodes.values())  # pillar's
    # After the leader's restart a new leader lists nodes "unknown" until their next
    # heartbeat reaches it (Docker's doing): wait for that, bounded.
    wait_for(
        lambda: all(n["Status"]["State"] == "ready" for n in seven.api.nodes()),
        30,
        "every node Ready on the new leader",
    )
    assert running(seven, "web") == 6
    per_node = ", ".join(f"{m['hostname']} {m['seconds']} s" for m in report["maintained"])
    print(
        f"\nmaintain 3+4: {per_node}; running tasks min {min(counts)} over "
        f"{len(counts)} samples ({sampler.failed} unanswered), longest gap {max(gaps):.1f} s"
    )


def test_a_budget_no_drain_can_meet_stops_before_draining(lab, seven):
    seven.api.create_service(
        _template(["node.hostname==host5"]),
        name="pinned",
        mode=docker.types.ServiceMode("replicated", 1),
    )
    try:
        wait_for(lambda: running(seven, "pinned") == 1, 60, "the pinned task running")
        code, report, out = maintain(lab, "host5", "sls=nosuchstate", "budget_wait=2", "fresh=True")
        assert code == 1 and report["result"] is False, out
        assert report["stopped"]["stage"] == "checks", out
        assert "service pinned" in report["comment"] and "host5" in report["comment"], out
        assert "stopped before its drain" in report["comment"]
        host5 = next(n for n in seven.api.nodes() if n["Description"]["Hostname"] == "host5")
        assert host5["Spec"]["Availability"] == "active"
        assert running(seven, "pinned") == 1
    finally:
        seven.api.remove_service("pinned")
    # The stopped run is kept: another action is refused until it is resumed or forgotten.
    code, report, out = maintain(lab, "host4", "sls=other")
    assert code == 1 and "fresh=True" in report["error"], out


def test_a_failure_on_the_third_node_stops_there_and_the_rerun_resumes_from_it(
    lab, seven, tmp_path
):
    log, mark = tmp_path / "ran", tmp_path / "fail-host6"
    mark.write_text("")
    command = f"echo $(hostname) >> {log}; test ! -e {tmp_path}/fail-$(hostname)"
    code, report, out = maintain(lab, "host[4-7]", *cmd_run(command), "fresh=True")
    assert code == 1 and report["stopped"]["nodes"] == ["host6"], out
    assert report["stopped"]["stage"] == "action"
    assert log.read_text().split() == ["host4", "host5", "host6"]
    host6 = next(n for n in seven.api.nodes() if n["Description"]["Hostname"] == "host6")
    assert host6["Spec"]["Availability"] == "drain"  # left drained, as said

    mark.unlink()
    code, report, out = maintain(lab, "host[4-7]", *cmd_run(command))
    assert code == 0 and report["result"] is True, out
    assert report["resumed_after"] == ["host4", "host5"]
    assert log.read_text().split() == ["host4", "host5", "host6", "host6", "host7"]
    nodes = seven.api.nodes()
    assert all(n["Spec"]["Availability"] == "active" for n in nodes)
    wait_for(lambda: running(seven, "web") == 6, 60, "6 web tasks running")


def test_the_orchestrate_sls_runs_the_same_maintenance_and_its_test_mode_changes_nothing(
    lab, seven
):
    pillar = 'pillar={"maintain": {"tgt": "host4", "fun": "test.true", "fresh": true}}'
    plan = orchestrate(lab, "swarm.maintain", pillar, "test=True")
    assert plan.ok, plan.out
    assert "host4: quorum kept and every budget met: may go now" in plan.out, plan.out
    run = orchestrate(lab, "swarm.maintain", pillar)
    assert run.ok and run.changed == 1, run.out
    assert "1 node(s) maintained" in run.out, run.out
    host4 = next(n for n in seven.api.nodes() if n["Description"]["Hostname"] == "host4")
    assert host4["Spec"]["Availability"] == "active"
