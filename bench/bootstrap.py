#!/usr/bin/env python3
"""swarm.bootstrap from bare nodes beside the raw Docker-API floor, on the same lab hosts.

Usage (root): python bench/bootstrap.py [--runs 3] [3+1 3+10 3+20 ...]

For each size (managers+workers) and each run, in this order:
- floor: straight to the daemons, init on manager1, the other managers joined one at a
  time, the workers in parallel, until every node is Ready (salt_swarm.lab.swarms.build);
- orchestrate: `salt-run state.orchestrate swarm.bootstrap`, pillar naming exactly
  these hosts, wall time of the salt-run process (it ends with its own check that
  every node is Ready with its role, drain and labels);
- re-run: the same orchestrate on the converged swarm (changes must be zero).
Every node leaves the swarm between runs (not timed). Prints one row per run and a
median row per size, with the ratio orchestrate / floor.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from salt_swarm.lab import swarms
from salt_swarm.lab.lab import Lab, repo_root

try:
    from resources import Usage  # run as a script: bench/ is on sys.path
except ImportError:  # imported as bench.bootstrap
    from bench.resources import Usage

SUMMARY = re.compile(r"Succeeded: (\d+)(?: \(changed=(\d+)\))?\s+Failed:\s+(\d+)")

PILLAR = """\
swarm:
  managers: {{tgt: '{managers}', tgt_type: list}}
  workers: {{tgt: '{workers}', tgt_type: list}}
  advertise_addr: 198.18.0.0/24
  init:
    default_addr_pool: [198.19.0.0/17]
    subnet_size: 24
  labels:
    - {{tgt: '{workers}', tgt_type: list, labels: {{tier: app}}}}
mine_functions:
  swarm.manager_addr: []
  swarm.join_tokens:
    - allow_tgt: '{everyone}'
    - allow_tgt_type: list
"""


def size(text: str) -> tuple[int, int]:
    managers, workers = text.split("+")
    return int(managers), int(workers)


def write_pillar(folder: Path, managers: list[str], workers: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "top.sls").write_text("base:\n  '*':\n    - swarm\n")
    (folder / "swarm.sls").write_text(
        PILLAR.format(
            managers=",".join(managers),
            workers=",".join(workers),
            everyone=",".join(managers + workers),
        )
    )


def floor(lab: Lab, managers: list[str], workers: list[str]) -> float:
    began = time.monotonic()
    swarms.build(lab, managers, workers)
    swarms.wait_ready(lab, managers[0], managers + workers, timeout=120)
    return time.monotonic() - began


def orchestrate(lab: Lab) -> tuple[float, int]:
    began = time.monotonic()
    res = lab.salt_run("state.orchestrate", "swarm.bootstrap")
    took = time.monotonic() - began
    found = SUMMARY.findall(res.stdout)
    if res.returncode != 0 or not found or found[-1][2] != "0":
        raise SystemExit(f"orchestrate failed:\n{res.stdout}{res.stderr}")
    return took, int(found[-1][1] or 0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sizes", nargs="*", default=["3+1", "3+10", "3+20"])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument(
        "--usage", action="store_true", help="print peak memory and CPU of each orchestrate"
    )
    args = p.parse_args()
    sizes = [size(s) for s in args.sizes]
    most_m = max(m for m, _ in sizes)
    most_w = max(w for _, w in sizes)
    lab = Lab()
    names = [f"manager{i}" for i in range(1, most_m + 1)]
    names += [f"worker{i}" for i in range(1, most_w + 1)]
    report = lab.up(names, log=lambda *_: None)
    print(f"lab: {len(report.hosts)} hosts up in {report.seconds} s")
    print(
        f"{'size':>5} {'run':>3} {'floor s':>8} {'orchestrate s':>14} {'ratio':>6} "
        f"{'re-run s':>9} {'re-run changes':>15}"
    )
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for m, w in sizes:
                managers, workers = names[:m], [f"worker{i}" for i in range(1, w + 1)]
                members = managers + workers
                write_pillar(Path(tmp) / f"{m}+{w}", managers, workers)
                lab.use_pillar(Path(tmp) / f"{m}+{w}")
                lab.salt_json("-L", ",".join(members), "saltutil.refresh_pillar", "wait=True")
                got = []
                for run in range(1, args.runs + 1):
                    swarms.leave_all(lab, lab.hosts)
                    fl = floor(lab, managers, workers)
                    swarms.leave_all(lab, lab.hosts)
                    if args.usage:
                        with Usage() as usage:
                            orch, _ = orchestrate(lab)
                        print(f"{m}+{w:<3} {run:>3} usage: {usage.report()}", flush=True)
                    else:
                        orch, _ = orchestrate(lab)
                    rerun, changes = orchestrate(lab)
                    got.append((fl, orch, rerun, changes))
                    print(
                        f"{m}+{w:<3} {run:>3} {fl:>8.2f} {orch:>14.2f} {orch / fl:>6.2f} "
                        f"{rerun:>9.2f} {changes:>15}",
                        flush=True,
                    )
                fl, orch, rerun = (statistics.median(g[i] for g in got) for i in range(3))
                rows.append((f"{m}+{w}", fl, orch, rerun, max(g[3] for g in got)))
                print(
                    f"{m}+{w:<3} {'med':>3} {fl:>8.2f} {orch:>14.2f} {orch / fl:>6.2f} "
                    f"{rerun:>9.2f} {max(g[3] for g in got):>15}",
                    flush=True,
                )
    finally:
        swarms.leave_all(lab, lab.hosts)
        lab.salt_json("*", "mine.flush")
        lab.use_pillar(repo_root() / "pillar.example")
    if len(rows) > 1:
        (s0, f0, o0, _, _), (s1, f1, o1, _, _) = rows[0], rows[-1]
        extra = size(s1)[1] - size(s0)[1]
        if extra:
            print(
                f"cost per extra worker ({s0} -> {s1}): orchestrate {(o1 - o0) / extra:.3f} s, "
                f"floor {(f1 - f0) / extra:.3f} s"
            )
    print("| size | floor s | orchestrate s | ratio | converged re-run s |")
    print("|---|---:|---:|---:|---:|")
    for s, fl, orch, rerun, _ in rows:
        print(f"| {s} | {fl:.2f} | {orch:.2f} | {orch / fl:.2f} | {rerun:.2f} |")


if __name__ == "__main__":
    main()
