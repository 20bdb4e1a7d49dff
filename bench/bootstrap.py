#!/usr/bin/env python3
"""swarm.bootstrap from bare nodes beside the raw Docker-API floor, on the same lab hosts.

Usage (root): python bench/bootstrap.py [--runs 3] [3+1 3+10 3+20 ...]

For each size (managers+workers) and each run, in this order:
- floor: straight to the daemons, init on manager1, the other managers joined one at a
  time, the workers in parallel, until every node is Ready (lab.swarms.build);
  and "floor until quiet": until the dockerds have also done the work a join sets off
  after Ready (on shared cores the orchestrate's later steps run inside it);
- orchestrate: `salt-run state.orchestrate swarm.bootstrap`, pillar naming exactly
  these hosts, wall time of the salt-run process (it ends with its own check that
  every node is Ready with its role, drain and labels);
- re-run: the same orchestrate on the converged swarm (changes must be zero);
- highstate: `salt -L <members> state.apply` on the converged swarm (top file: the
  formula `swarm` for every minion; changes must be zero), and the same highstate with
  a top file of one `test.nop` state: what any highstate costs on these minions;
- salt floor: an orchestrate with the bootstrap's publishes (every member, the first
  manager, each other manager, all workers, one more on the first manager) that
  only runs test.ping: what Salt itself costs for that shape, with no Docker.
Each orchestrate prints its steps' seconds, with ``before`` (salt-run's start, the
render and the plan) and ``after`` (from the last step's end until salt-run exits).
Every timed part also counts the CPU seconds it set off: the lab's daemons and the
command, until the lab is quiet again. A part and the work it set off cannot be
done sooner than that CPU spread over all the cores (``least``); the end table gives
wall / least beside the floors (below 1 where some of that work ran after the part
returned). Every node leaves the swarm between runs (not timed), and each timed part starts once
the lab's daemons are quiet (under half a core for a second; a leave or join keeps
dockerds busy for seconds after it returns). Prints one row per run and a median row
per size, with the ratio orchestrate / floor and the machine's speed measured just
before each run (2M Python additions, ms): on shared cores it can change several
times over within an hour. It is a coarse guard; compare two builds in turns.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import NamedTuple

from lab import swarms
from lab.lab import Lab, repo_root

try:  # run as a script: bench/ is on sys.path
    import resources
    import state_tree
    from highstate import highstate
except ImportError:  # imported as bench.bootstrap
    from bench import resources, state_tree
    from bench.highstate import highstate

PILLAR = """\
swarm:
  managers: {{tgt: '{managers}', tgt_type: list}}
  workers: {{tgt: '{workers}', tgt_type: list}}
  advertise_addr: 198.18.0.0/16  # every lab's hosts, no dockerd pool
  init:
    default_addr_pool: [198.19.0.0/17]
    subnet_size: 24
  labels:
    - {{tgt: '{workers}', tgt_type: list, labels: {{tier: app}}}}
mine_functions:
  swarm.manager_addr: []
  swarm.worker_token:
    - allow_tgt: '{everyone}'
    - allow_tgt_type: list
  swarm.manager_token:
    - allow_tgt: '{managers}'
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


class Floor(NamedTuple):
    ready: float  # seconds until every node is Ready
    quiet: float  # seconds until the dockerds' work after that is done too
    cpu_to_ready: float  # the dockerds' CPU seconds until Ready
    cpu_after: float  # ... and from Ready until quiet


def floor(lab: Lab, managers: list[str], workers: list[str]) -> Floor:
    """The raw Docker-API floor: until every node is Ready, and until the work a join
    sets off after Ready (ingress network, iptables, which the Ready clock does not
    wait for) is done: the lab under half a core again, less the quiet second that
    showed it."""
    resources.quiet()
    began = time.monotonic()
    before = resources.dockerd_cpu()
    swarms.build(lab, managers, workers)
    swarms.wait_ready(lab, managers[0], managers + workers, timeout=120)
    took = time.monotonic() - began
    at_ready = resources.dockerd_cpu()
    waited = resources.quiet(window=resources.QUIET_WINDOW, timeout=resources.QUIET_TIMEOUT)
    if waited >= resources.QUIET_TIMEOUT:
        print(f"floor: the dockerds were not quiet {resources.QUIET_TIMEOUT:.0f} s after Ready")
    settled = took + max(0.0, waited - resources.QUIET_WINDOW)
    return Floor(took, settled, at_ready - before, resources.dockerd_cpu() - at_ready)


class Timed(NamedTuple):
    """One timed part: wall seconds, states with changes, the CPU seconds it set off
    (lab daemons and the command, until the lab was quiet again) and ``least``, the
    shortest wall time that much CPU allows on this machine's cores."""

    wall: float
    changes: int
    cpu: float
    least: float
    steps: dict  # orchestrates: seconds before the first step, of each step, after the last


def orchestrate(lab: Lab, sls: str = "swarm.bootstrap") -> Timed:
    """``salt-run state.orchestrate sls`` from a quiet lab; fails on any failed state."""
    resources.quiet()
    began_at = datetime.now()
    with resources.CpuBound() as spent:
        began = time.monotonic()
        res = lab.salt_run("state.orchestrate", sls, "--out=json")
        took = time.monotonic() - began
    try:
        steps = next(iter(json.loads(res.stdout)["data"].values()))
    except (ValueError, KeyError, StopIteration):
        raise SystemExit(f"orchestrate gave no JSON:\n{res.stdout}{res.stderr}") from None
    failed = [s.get("__id__") for s in steps.values() if s.get("result") is False]
    if res.returncode != 0 or failed:
        raise SystemExit(f"orchestrate failed ({failed}):\n{res.stdout}{res.stderr}")
    changed = sum(1 for s in steps.values() if s.get("changes"))
    seconds = step_seconds(steps, began_at, took)
    return Timed(took, changed, spent.cpu, spent.least, seconds)


def step_seconds(steps: dict, began_at: datetime, took: float) -> dict:
    """Each step's seconds in run order, with ``before`` (salt-run's start, the
    render of the SLS and the plan, until the first step starts) and ``after`` (from
    the end of the last step until salt-run exits: saving the job, printing, exit).
    ``steps``: the orchestrate's state returns (``start_time`` is the master's local
    time of day, ``duration`` milliseconds); ``began_at``: when salt-run was started."""
    ordered = sorted(steps.values(), key=lambda s: s.get("__run_num__", 0))
    if not ordered:
        return {"before": took, "after": 0.0}

    def offset(state: dict) -> float:
        clock = time_of_day.fromisoformat(state["start_time"])
        at = datetime.combine(began_at.date(), clock)
        if at < began_at - timedelta(hours=12):  # the run went past midnight
            at += timedelta(days=1)
        return (at - began_at).total_seconds()

    seconds = {"before": offset(ordered[0])}
    seconds.update({s.get("__id__", "?"): s.get("duration", 0) / 1000 for s in ordered})
    last = ordered[-1]
    seconds["after"] = took - offset(last) - last.get("duration", 0) / 1000
    return seconds


def timed_highstate(lab: Lab, members: list[str]) -> Timed:
    resources.quiet()
    with resources.CpuBound() as spent:
        took, changes = highstate(lab, members)
    return Timed(took, changes, spent.cpu, spent.least, {})


class Run(NamedTuple):
    """One run's seconds and CPU seconds, and the states that reported changes where
    none should."""

    floor: float
    quiet_floor: float
    floor_cpu: float  # the dockerds' CPU until quiet
    salt_floor: float
    orchestrate: float
    orchestrate_cpu: float
    rerun: float
    rerun_changes: int
    rerun_cpu: float
    highstate: float
    highstate_changes: int
    highstate_cpu: float
    noop_highstate: float
    noop_cpu: float
    probe: float  # cpu_probe() before the run, ms: the machine's speed then


def median_run(runs: list[Run]) -> Run:
    """The median of each time; the most changes any run saw."""
    return Run(
        *(
            max(values) if field.endswith("_changes") else statistics.median(values)
            for field, values in zip(Run._fields, zip(*runs, strict=True), strict=True)
        )
    )


def one_run(lab: Lab, tree: Path, managers: list[str], workers: list[str], usage: bool) -> Run:
    """Floor, Salt floor, orchestrate from bare nodes, re-run and both highstates."""
    members = managers + workers
    swarms.leave_all(lab, lab.hosts)
    probe = resources.cpu_probe()
    times = resources.cpu_times()
    fl = floor(lab, managers, workers)
    print(
        f"floor: Ready in {fl.ready:.2f} s, quiet in {fl.quiet:.2f} s; dockerds' CPU "
        f"{fl.cpu_to_ready:.2f} s until Ready, {fl.cpu_after:.2f} s from Ready until quiet"
    )
    swarms.leave_all(lab, lab.hosts)
    salt_fl = orchestrate(lab, "salt_floor")
    if usage:
        with resources.Usage() as used:
            boot = orchestrate(lab)
        print(f"usage (until quiet): {used.report()}", flush=True)
    else:
        boot = orchestrate(lab)
    print("steps: " + ", ".join(f"{k} {v:.2f}" for k, v in boot.steps.items()), flush=True)
    rerun = orchestrate(lab)
    state_tree.point_top(tree, "swarm")
    high = timed_highstate(lab, members)
    state_tree.point_top(tree, "noop")
    noop = timed_highstate(lab, members)
    parts = {"orchestrate": boot, "re-run": rerun, "highstate": high, "no-op highstate": noop}
    print(
        "CPU s (least wall on these cores): "
        + ", ".join(f"{k} {t.cpu:.1f} ({t.least:.2f})" for k, t in parts.items())
    )
    print(
        f"steal: {resources.steal_share(times, resources.cpu_times()):.1f} % of the CPU time during the run"
    )
    return Run(
        fl.ready,
        fl.quiet,
        fl.cpu_to_ready + fl.cpu_after,
        salt_fl.wall,
        boot.wall,
        boot.cpu,
        rerun.wall,
        rerun.changes,
        rerun.cpu,
        high.wall,
        high.changes,
        high.cpu,
        noop.wall,
        noop.cpu,
        probe,
    )


HEAD = (
    f"{'size':>5} {'run':>3} {'floor':>6} {'fl q':>6} {'salt fl':>8} {'orch':>6} {'ratio':>6} "
    f"{'ratio q':>7} "
    f"{'re-run':>7} {'chg':>4} {'highst':>7} {'chg':>4} {'no-op hs':>9} {'cpu ms':>7}"
)


def row(label: str, run: str, r: Run) -> str:
    return (
        f"{label:>5} {run:>3} {r.floor:>6.2f} {r.quiet_floor:>6.2f} {r.salt_floor:>8.2f} "
        f"{r.orchestrate:>6.2f} {r.orchestrate / r.floor:>6.2f} "
        f"{r.orchestrate / r.quiet_floor:>7.2f} {r.rerun:>7.2f} {r.rerun_changes:>4} "
        f"{r.highstate:>7.2f} {r.highstate_changes:>4} {r.noop_highstate:>9.2f} {r.probe:>7.0f}"
    )


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
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tree = state_tree.make(Path(tmp) / "states", names[:most_m], names[most_m:])
        report = lab.up(names, states_dir=tree, log=lambda *_: None)
        print(f"lab: {len(report.hosts)} hosts up in {report.seconds} s")
        print(
            "seconds; ratio = orchestrate / floor; fl q = floor until the dockerds are "
            "quiet again, ratio q = orchestrate / fl q; chg = states with changes; "
            "cpu ms = 2M Python adds just before the run (the machine's speed then)"
        )
        print(HEAD)
        try:
            for m, w in sizes:
                managers, workers = names[:m], [f"worker{i}" for i in range(1, w + 1)]
                members = managers + workers
                state_tree.make(tree, managers, workers)
                write_pillar(Path(tmp) / f"{m}+{w}", managers, workers)
                lab.use_pillar(Path(tmp) / f"{m}+{w}")
                lab.salt_json("-L", ",".join(members), "saltutil.refresh_pillar", "wait=True")
                got = []
                for run in range(1, args.runs + 1):
                    got.append(one_run(lab, tree, managers, workers, args.usage))
                    print(row(f"{m}+{w}", str(run), got[-1]), flush=True)
                med = median_run(got)
                rows.append((f"{m}+{w}", med))
                print(row(f"{m}+{w}", "med", med), flush=True)
        finally:
            swarms.leave_all(lab, lab.hosts)
            lab.salt_json("*", "mine.flush")
            lab.use_pillar(repo_root() / "pillar.example")
    if len(rows) > 1:
        (s0, r0), (s1, r1) = rows[0], rows[-1]
        extra = size(s1)[1] - size(s0)[1]
        if extra:
            print(
                f"cost per extra worker ({s0} -> {s1}): "
                f"orchestrate {(r1.orchestrate - r0.orchestrate) / extra:.3f} s, "
                f"floor {(r1.floor - r0.floor) / extra:.3f} s, "
                f"salt floor {(r1.salt_floor - r0.salt_floor) / extra:.3f} s; CPU: "
                f"orchestrate {(r1.orchestrate_cpu - r0.orchestrate_cpu) / extra:.2f} s, "
                f"floor {(r1.floor_cpu - r0.floor_cpu) / extra:.2f} s"
            )
    print(
        "| size | floor | floor until quiet | salt floor | orchestrate | ratio | ratio to quiet "
        "| converged re-run | highstate | no-op highstate | CPU probe ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s, r in rows:
        print(
            f"| {s} | {r.floor:.2f} | {r.quiet_floor:.2f} | {r.salt_floor:.2f} "
            f"| {r.orchestrate:.2f} | {r.orchestrate / r.floor:.2f} "
            f"| {r.orchestrate / r.quiet_floor:.2f} | {r.rerun:.2f} | {r.highstate:.2f} "
            f"| {r.noop_highstate:.2f} | {r.probe:.0f} |"
        )
    n = resources.cores()
    print(
        f"\nCPU seconds each part set off (until the lab was quiet again), the least wall "
        f"time that allows on {n} cores (CPU / {n}), and wall / least:\n"
    )
    print("| size | part | wall | CPU | least | wall / least |")
    print("|---|---|---:|---:|---:|---:|")
    for s, r in rows:
        for part, wall, cpu in (
            ("floor until quiet (dockerds only)", r.quiet_floor, r.floor_cpu),
            ("orchestrate from bare nodes", r.orchestrate, r.orchestrate_cpu),
            ("converged re-run", r.rerun, r.rerun_cpu),
            ("highstate", r.highstate, r.highstate_cpu),
            ("no-op highstate", r.noop_highstate, r.noop_cpu),
        ):
            print(
                f"| {s} | {part} | {wall:.2f} | {cpu:.1f} | {cpu / n:.2f} | {wall * n / cpu:.2f} |"
            )


if __name__ == "__main__":
    main()
