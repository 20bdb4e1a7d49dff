"""The README's demo command, small: the example pillar and the orchestrate on fresh hosts."""

import subprocess
import sys

from salt_swarm.lab import swarms


def test_demo_bootstraps_and_prints_the_nodes(lab, lab_hosts):
    names = ["manager1", "worker1"]
    lab.up([*lab_hosts, *names])
    # The example pillar targets manager* and worker*: none but these two may be in play.
    names = [h for h in lab.hosts if h.startswith(("manager", "worker"))]
    swarms.leave_all(lab, names)
    try:
        res = subprocess.run(
            [sys.executable, "-m", "salt_swarm.lab.demo", "--managers", "1", "--workers", "1"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        lines = res.stdout.splitlines()
        rows = {ln.split()[0]: ln.split() for ln in lines if ln.startswith(("manager", "worker"))}
        assert rows["manager1"][1:5] == ["manager", "ready", "drain", "Leader"]
        assert rows["worker1"][1:4] == ["worker", "ready", "active"]
        assert rows["worker1"][-1] == "tier=app,zone=a"
    finally:
        swarms.leave_all(lab, names)
        lab.salt_json("-L", ",".join(names), "mine.flush")
