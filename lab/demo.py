"""The README's demo: a lab of 3 managers and 3 workers, bootstrapped by the orchestrate."""

from __future__ import annotations

import argparse
import sys
import time

from lab.lab import Lab
from lab.layout import LAB_INDEX


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m lab.demo")
    p.add_argument("--managers", type=int, default=3)
    p.add_argument("--workers", type=int, default=3)
    # The example pillar targets manager* and worker*: host names follow it.
    args = p.parse_args(argv)
    names = [f"manager{i}" for i in range(1, args.managers + 1)]
    names += [f"worker{i}" for i in range(1, args.workers + 1)]
    lab = Lab()
    report = lab.up(names)
    print(f"lab: {len(report.hosts)} hosts up in {report.seconds} s")
    lab.salt_json("*", "saltutil.refresh_pillar", "wait=True")
    print("running: salt-run state.orchestrate swarm.bootstrap")
    began = time.monotonic()
    res = lab.salt_run("state.orchestrate", "swarm.bootstrap")
    took = time.monotonic() - began
    if res.returncode != 0:
        print(res.stdout + res.stderr, file=sys.stderr)
        return res.returncode
    print(f"orchestrate finished in {took:.1f} s\n")
    res = lab.salt_run("swarm.status")  # the runner's table: nodes, minions, quorum
    if res.returncode != 0:
        print(res.stdout + res.stderr, file=sys.stderr)
        return res.returncode
    print(res.stdout.rstrip())
    index = f"SALT_SWARM_LAB_INDEX={LAB_INDEX} " if LAB_INDEX else ""
    print(f"\nTake the lab down with: {index}.venv/bin/python -m lab down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
