"""The README's demo command, small: the example pillar and the orchestrate on fresh hosts."""

import subprocess
import sys

from lab import swarms


def test_demo_bootstraps_and_prints_the_nodes(lab, lab_hosts):
    names = ["manager1", "worker1"]
    lab.up([*lab_hosts, *names])
    # The example pillar targets manager* and worker*: none but these two may be in play.
    names = [h for h in lab.hosts if h.startswith(("manager", "worker"))]
    swarms.leave_all(lab, names)
    try:
        res = subprocess.run(
            [sys.executable, "-m", "lab.demo", "--managers", "1", "--workers", "1"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        lines = res.stdout.splitlines()
        rows = {ln.split()[0]: ln.split() for ln in lines if ln.startswith(("manager", "worker"))}
        # MINION HOSTNAME ROLE MANAGER-STATUS AVAILABILITY STATUS ADDRESS LABELS ENGINE
        assert rows["manager1"][1:6] == ["manager1", "manager", "leader", "drain", "ready"]
        assert rows["worker1"][1:6] == ["worker1", "worker", "-", "active", "ready"]
        assert rows["worker1"][7] == "tier=app,zone=a"
        managers = sum(1 for h in names if h.startswith("manager"))  # earlier tests add some
        assert any(ln.startswith(f"quorum ok: {managers} managers") for ln in lines), lines
    finally:
        swarms.leave_all(lab, names)
        lab.salt_json("-L", ",".join(names), "mine.flush")
