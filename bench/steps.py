#!/usr/bin/env python3
"""Where a swarm.bootstrap's time goes: each orchestrate step's start and duration.

Usage (root): python bench/steps.py [WORKERS]   (default 20; managers are 3)

Brings up manager1-3 and worker1..N (the bench's hosts), takes every node out of any
swarm, runs `salt-run state.orchestrate swarm.bootstrap --out=json` from bare nodes
and again on the converged swarm, and prints every step with its duration. The time
before the first step is the render of bootstrap.sls (pillar checks and the plan).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from lab import swarms
from lab.lab import Lab, repo_root

try:
    from bootstrap import write_pillar  # run as a script: bench/ is on sys.path
except ImportError:  # imported as bench.steps
    from bench.bootstrap import write_pillar


def run(lab: Lab, label: str) -> None:
    began = time.monotonic()
    res = lab.salt_run("state.orchestrate", "swarm.bootstrap", "--out=json")
    took = time.monotonic() - began
    steps = next(iter(json.loads(res.stdout)["data"].values()))
    ordered = sorted(steps.values(), key=lambda s: s.get("__run_num__", 0))
    in_steps = sum(s.get("duration", 0) for s in ordered) / 1000
    print(
        f"== {label}: {took:.2f} s wall, {in_steps:.2f} s in steps, rest (render, plan) "
        f"{took - in_steps:.2f} s"
    )
    for step in ordered:
        changed = "changed" if step.get("changes") else ""
        print(
            f"  {step.get('duration', 0) / 1000:>7.2f} s  {step.get('__id__', '?')[:50]:<50} {changed}"
        )


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    lab = Lab()
    names = [f"manager{i}" for i in range(1, 4)] + [f"worker{i}" for i in range(1, workers + 1)]
    report = lab.up(names, log=lambda *_: None)
    print(f"lab: {len(report.hosts)} hosts up in {report.seconds} s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            write_pillar(Path(tmp), names[:3], names[3:])
            lab.use_pillar(Path(tmp))
            lab.salt_json("-L", ",".join(names), "saltutil.refresh_pillar", "wait=True")
            swarms.leave_all(lab, lab.hosts)
            run(lab, f"3+{workers} from bare nodes")
            run(lab, f"3+{workers} converged")
    finally:
        swarms.leave_all(lab, lab.hosts)
        lab.salt_json("*", "mine.flush")
        lab.use_pillar(repo_root() / "pillar.example")


if __name__ == "__main__":
    main()
