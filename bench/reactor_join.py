#!/usr/bin/env python3
"""A new minion joining through the reactor: minion process start to its node Ready.

Usage (root): python bench/reactor_join.py [--runs 3] [--workers 20]

Brings up manager1-3 and worker1..N, builds the swarm with `swarm.bootstrap`, then,
per run, turns the last worker into a new host (minion stopped, out of the swarm,
its node removed) and starts its minion: the master's reactor (`salt/minion/*/start`
-> `swarm.join_minion`) joins it. The clock runs from the minion's process start to
its node Ready on a manager, then to its pillar labels being set. Prints each run
and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from lab import swarms
from lab.lab import Lab, repo_root
from lab.wait import wait_for

try:  # run as a script: bench/ is on sys.path
    from bootstrap import orchestrate, write_pillar
    from resources import quiet
except ImportError:  # imported as bench.reactor_join
    from bench.bootstrap import orchestrate, write_pillar
    from bench.resources import quiet


def node_of(lab: Lab, host: str) -> dict:
    return swarms.node_states(lab, "manager1").get(host) or {}


def one_run(lab: Lab, host: str) -> tuple[float, float]:
    lab.stop_daemon(host, "minion")
    swarms.leave(lab, host)
    wait_for(lambda: node_of(lab, host).get("Status", {}).get("State") != "ready", 60, "Down")
    lab.docker_client("manager1").api.remove_node(node_of(lab, host)["ID"], force=True)
    quiet()
    began = time.monotonic()
    lab.start_daemon(host, "minion", wait=False)  # the clock runs from the process start
    wait_for(lambda: node_of(lab, host).get("Status", {}).get("State") == "ready", 60, "Ready")
    ready = time.monotonic() - began
    wait_for(lambda: node_of(lab, host)["Spec"].get("Labels") == {"tier": "app"}, 60, "labels")
    return ready, time.monotonic() - began


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--workers", type=int, default=20)
    args = p.parse_args()
    lab = Lab()
    managers = [f"manager{i}" for i in range(1, 4)]
    workers = [f"worker{i}" for i in range(1, args.workers + 1)]
    report = lab.up(managers + workers, log=lambda *_: None)
    print(f"lab: {len(report.hosts)} hosts up in {report.seconds} s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            write_pillar(Path(tmp), managers, workers)
            lab.use_pillar(Path(tmp))
            lab.salt_json("*", "saltutil.refresh_pillar", "wait=True")
            swarms.leave_all(lab, lab.hosts)
            took, _ = orchestrate(lab)
            print(f"swarm built in {took:.2f} s (3+{args.workers})")
            runs = []
            for run in range(1, args.runs + 1):
                runs.append(one_run(lab, workers[-1]))
                print(f"run {run}: Ready {runs[-1][0]:.2f} s, labels {runs[-1][1]:.2f} s")
            ready = statistics.median(r[0] for r in runs)
            labels = statistics.median(r[1] for r in runs)
            print(
                f"median of {len(runs)}: minion start to Ready {ready:.2f} s, to labels {labels:.2f} s"
            )
    finally:
        swarms.leave_all(lab, lab.hosts)
        lab.salt_json("*", "mine.flush")
        lab.use_pillar(repo_root() / "pillar.example")


if __name__ == "__main__":
    main()
