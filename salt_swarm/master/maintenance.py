"""Rolling maintenance (runner ``swarm.maintain``): each chosen node in turn is
drained, its tasks wait to run elsewhere, the maintenance runs on its minion, the
node comes back Ready, gets its availability back and its share of tasks again.

The order and the checks are ``core.maintenance``'s: workers in batches, managers
one at a time and the leader last; a step starts only when quorum survives it and
every service keeps its disruption budget (pillar ``swarm:budget``), waiting up to
``budget_wait`` seconds for that. A step that fails stops the run and leaves its
nodes as they are (drained, once the drain began), naming the node, the stage and
why. The run's progress is kept on the master (``Progress``): a re-run with the same
target and action resumes with the first node not done.

Everything the workflow asks of the swarm goes through a ``Cluster`` (the real one,
over the fleet, is in ``maintenance_fleet``), so the workflow runs in unit tests
against a scripted swarm.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from salt_swarm.core import maintenance as logic
from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError


@dataclass
class Look:
    """One reading of the swarm from a manager (``core.placement.read``)."""

    nodes: list[NodeView]
    services: list[dict]
    tasks: dict[str, list[dict]]
    capacity: dict = field(default_factory=dict)  # node id -> Docker's Description.Resources

    def node(self, node_id: str) -> NodeView | None:
        return next((n for n in self.nodes if n.id == node_id), None)


class Cluster(Protocol):
    def look(self, avoid: set[str]) -> Look: ...
    def set_availability(self, node_id: str, availability: str, avoid: set[str]) -> None: ...
    def act(self, minions: list[str]) -> dict[str, str | None]: ...
    def local_states(self, minions: list[str]) -> dict[str, dict | None]: ...
    def progress(self, stage: str, data: dict) -> None: ...


class Progress(Protocol):
    def load(self) -> dict | None: ...
    def save(self, record: dict) -> None: ...
    def clear(self) -> None: ...


@dataclass
class Limits:
    batch: int = 1
    budget_wait: float = 60.0  # for quorum and budgets to allow a step
    drain_wait: float = 120.0  # for a drained node's tasks to run elsewhere
    up_wait: float = 300.0  # for the node to be back, and again for its tasks
    poll: float = 1.0


@dataclass
class Run:
    """What the runner decided before the workflow starts."""

    key: str  # the target and action, as one text: a re-run of the same resumes
    action: str  # for the report: "state.apply patch", "cmd.run ..."
    minions: dict[str, str]  # node id -> minion, for the chosen nodes
    wanted: dict[str, str]  # minion -> availability pillar gives it (members only)
    budgets: dict = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    expect_down: bool = False  # the action takes the node down (a reboot): wait for that first


class Stopped(SwarmError):
    def __init__(self, stage: str, nodes: list[NodeView], reason: str):
        super().__init__(f"{stage}: {', '.join(n.hostname for n in nodes)}: {reason}")
        self.stage, self.nodes, self.reason = stage, nodes, reason


def _wait(cluster: Cluster, run: Run, seconds: float, check):
    """``check()`` every ``poll`` seconds until it returns (ok, value) with ok, or the
    deadline passes: then the last (False, value)."""
    deadline = time.monotonic() + seconds
    while True:
        ok, value = check()
        if ok or time.monotonic() >= deadline:
            return ok, value
        time.sleep(run.limits.poll)


def _hostnames(nodes) -> list[str]:
    return [n.hostname for n in nodes]


def _remaining(cluster: Cluster, run: Run, done: set[str]) -> tuple[Look, list[list[NodeView]]]:
    look = cluster.look(set())
    chosen = {i for i in run.minions if i not in done}
    missing = sorted(chosen - {n.id for n in look.nodes})
    if missing:
        names = ", ".join(run.minions[i] for i in missing)
        raise SwarmError(f"the swarm no longer lists the nodes of {names}")
    return look, logic.order(look.nodes, chosen, run.limits.batch)


def plan(cluster: Cluster, run: Run, progress: Progress) -> dict:
    """``test=True``: the order and, for each step, what the checks find now."""
    done = _resumed(run, progress)
    look, steps = _remaining(cluster, run, done)
    out = []
    for step in steps:
        problems = _problems(look, step, run)
        out.append(
            {
                "nodes": _hostnames(step),
                "checks": problems or ["quorum kept and every budget met: may go now"],
                "then": (
                    f"drain; wait for its tasks elsewhere; {run.action}; wait Ready; "
                    + ", ".join(
                        f"{n.hostname} back to {_availability_after(run, n, {})}" for n in step
                    )
                    + "; wait for its tasks again"
                ),
            }
        )
    return {
        "result": None,
        "action": run.action,
        "steps": out,
        "resumes_after": sorted(run.minions[i] for i in done),
    }


def _resumed(run: Run, progress: Progress) -> set[str]:
    record = progress.load()
    if record and record.get("key") != run.key:
        stopped = record.get("stopped") or {}
        raise SwarmError(
            f"an unfinished maintenance ({record.get('action')}) stopped at "
            f"{', '.join(stopped.get('nodes') or []) or 'a node'}"
            f" ({stopped.get('stage', 'unknown stage')}): re-run it to resume, or pass "
            "fresh=True to forget it (its nodes stay as they are)"
        )
    return set(record.get("done") or []) if record else set()


def _problems(look: Look, step: list[NodeView], run: Run) -> list[str]:
    problems = [logic.quorum_refusal(look.nodes, step)] if any(n.is_manager for n in step) else []
    problems = [p for p in problems if p]
    return problems + logic.budget_problems(
        look.services, look.tasks, look.nodes, step, run.budgets, look.capacity
    )


def _availability_after(run: Run, node: NodeView, before: dict) -> str:
    minion = run.minions[node.id]
    return run.wanted.get(minion) or before.get(node.id) or node.availability


def maintain(cluster: Cluster, run: Run, progress: Progress) -> dict:
    """Run the maintenance over every chosen node not done yet; the report."""
    done = _resumed(run, progress)
    record = progress.load() or {"key": run.key, "action": run.action, "done": [], "before": {}}
    record.pop("stopped", None)
    look, steps = _remaining(cluster, run, done)
    for node in look.nodes:  # the availability each had before this run first touched it
        if node.id in run.minions:
            record["before"].setdefault(node.id, node.availability)
    progress.save(record)
    report = {
        "result": True,
        "action": run.action,
        "order": [_hostnames(s) for s in steps],
        "resumed_after": sorted(run.minions[i] for i in done),
        "maintained": [],
    }
    cluster.progress("start", {"steps": len(steps), "done": len(done)})
    step: list[NodeView] = []
    try:
        for index, step in enumerate(_ordered_again(cluster, run, steps)):
            started = time.monotonic()
            try:
                stages = _one_step(cluster, run, step, record)
            except Stopped:
                raise
            except SwarmError as exc:  # a manager gone, a change refused: stop right here
                raise Stopped("error", step, str(exc)) from None
            for node in step:
                report["maintained"].append(
                    {
                        "minion": run.minions[node.id],
                        "hostname": node.hostname,
                        "role": node.role,
                        "seconds": round(time.monotonic() - started, 1),
                        "stages": stages,
                    }
                )
            record["done"] = [*record["done"], *(n.id for n in step)]
            progress.save(record)
            cluster.progress("step", {"nodes": _hostnames(step), "index": index + 1})
    except Stopped as stop:
        record["stopped"] = {
            "nodes": _hostnames(stop.nodes),
            "stage": stop.stage,
            "reason": stop.reason,
        }
        progress.save(record)
        report["result"] = False
        report["stopped"] = {**record["stopped"], "drained": stop.stage != "checks"}
        report["comment"] = (
            f"stopped at {', '.join(_hostnames(stop.nodes))} ({stop.stage}): {stop.reason}"
            + (
                "; stopped before its drain: a re-run resumes with it"
                if stop.stage == "checks"
                else "; the node stays as it is (drained once its drain began): a re-run "
                "resumes with it"
            )
        )
        cluster.progress("stopped", report["stopped"])
        return report
    progress.clear()
    report["comment"] = f"{len(report['maintained'])} node(s) maintained"
    cluster.progress("done", {"maintained": len(report["maintained"])})
    return report


def _ordered_again(cluster: Cluster, run: Run, steps: list[list[NodeView]]):
    """The planned steps; the managers' order is taken afresh before each of them,
    so the node leading at that moment still goes last."""
    workers = [s for s in steps if not any(n.is_manager for n in s)]
    yield from workers
    left = {n.id for s in steps if s not in workers for n in s}
    while left:
        look = cluster.look(set())
        managers = logic.order(look.nodes, left, 1)
        if not managers:
            raise SwarmError("the swarm no longer lists the managers left to maintain")
        left.discard(managers[0][0].id)
        yield managers[0]


def _one_step(cluster: Cluster, run: Run, step: list[NodeView], record) -> dict:
    ids = {n.id for n in step}
    minions = [run.minions[n.id] for n in step]
    avoid = set(minions)
    stages: dict[str, float] = {}
    clock = time.monotonic()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.monotonic()
        stages[stage] = round(now - clock, 1)
        clock = now

    def may_go():
        look = cluster.look(avoid)
        return not (found := _problems(look, step, run)), (look, found)

    ok, (look, problems) = _wait(cluster, run, run.limits.budget_wait, may_go)
    if not ok:
        raise Stopped("checks", step, "; ".join(problems))
    before = logic.running_counts(look.tasks)
    expected = dict(before)
    for service in look.services:  # a global service's task on the node is not replaced
        if "Global" in ((service.get("Spec") or {}).get("Mode") or {}):
            here = sum(
                1
                for t in look.tasks.get(service["ID"], [])
                if t.get("NodeID") in ids and logic.is_running(t)
            )
            expected[service["ID"]] = before.get(service["ID"], 0) - here
    lap("checks")

    for node in step:
        current = look.node(node.id)
        if current is None or current.availability != "drain":
            cluster.set_availability(node.id, "drain", avoid)

    def drained():
        now = cluster.look(avoid)
        left = logic.tasks_left_on(now.tasks, ids)
        short = logic.short_of(expected, now.services, now.tasks)
        return not left and not short, (left, short)

    ok, (left, short) = _wait(cluster, run, run.limits.drain_wait, drained)
    if not ok:
        why = f"{left} task(s) still meant to run there" if left else ""
        why += ("; " if why else "") + (
            f"not running elsewhere yet: {', '.join(short)}" if short else ""
        )
        raise Stopped("drain", step, f"after {run.limits.drain_wait:.0f} s: {why}")
    lap("drain")

    failures = {m: e for m, e in cluster.act(minions).items() if e}
    if failures:
        raise Stopped(
            "action", step, "; ".join(f"{m}: {run.action} failed: {e}" for m, e in failures.items())
        )
    if run.expect_down:

        def gone():
            states = cluster.local_states(minions)
            up = [m for m in minions if (states.get(m) or {}).get("state") == "active"]
            return not up, f"still up after the action: {', '.join(up)}"

        ok, why = _wait(cluster, run, run.limits.up_wait, gone)
        if not ok:
            raise Stopped("down", step, f"after {run.limits.up_wait:.0f} s: {why}")
    lap("action")

    def back():
        states = cluster.local_states(minions)
        local = [m for m in minions if (states.get(m) or {}).get("state") != "active"]
        if local:
            return False, f"not an active swarm member yet: {', '.join(local)}"
        now = cluster.look(set())
        late = [
            n.hostname
            for n in step
            if (v := now.node(n.id)) is None
            or v.status != "ready"
            or (v.is_manager and v.reachability != "reachable")
        ]
        return not late, f"not Ready (and reachable) in the managers' list: {', '.join(late)}"

    ok, why = _wait(cluster, run, run.limits.up_wait, back)
    if not ok:
        raise Stopped("back", step, f"after {run.limits.up_wait:.0f} s: {why}")
    lap("back")

    for node in step:
        cluster.set_availability(node.id, _availability_after(run, node, record["before"]), set())

    def settled():
        now = cluster.look(set())
        return not (short := logic.short_of(before, now.services, now.tasks)), short

    ok, short = _wait(cluster, run, run.limits.up_wait, settled)
    if not ok:
        raise Stopped(
            "tasks back",
            step,
            f"after {run.limits.up_wait:.0f} s still short of running tasks: {', '.join(short)}",
        )
    lap("tasks back")
    return stages
