"""Rolling maintenance, decided: in which order nodes go (workers in batches, then
managers one at a time, the leader last), whether quorum survives a manager going
down, and whether every service keeps its disruption budget while a node drains.

Budgets come from pillar ``swarm:budget``: service name (or ``label:<key>=<value>``)
-> ``{min_running: N}`` or ``{max_unavailable: N or "P%"}`` of the service's
replicas. A service without a budget may lose the tasks of the node being drained
as long as some other node can run them. Global services count per node: draining
a node stops their task there, which a budget on them has to allow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from salt_swarm.core import capacity as room
from salt_swarm.core.cluster import NodeView, manager_counts
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.quorum import quorum
from salt_swarm.core.rebalance import eligible_nodes


@dataclass(frozen=True)
class Budget:
    min_running: int


def budget_for(conf: dict, replicas: int, where: str) -> Budget:
    if not isinstance(conf, dict) or len(conf) != 1:
        raise SwarmError(f"{where}: give one of min_running, max_unavailable")
    ((key, value),) = conf.items()
    if key == "min_running":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SwarmError(f"{where}:min_running: expected an integer >= 0, got {value!r}")
        return Budget(value)
    if key == "max_unavailable":
        if isinstance(value, str) and value.endswith("%"):
            try:
                share = float(value[:-1]) / 100
            except ValueError:
                raise SwarmError(
                    f"{where}:max_unavailable: {value!r} is not a percentage"
                ) from None
            return Budget(max(replicas - math.floor(replicas * share), 0))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SwarmError(f"{where}:max_unavailable: an integer or a percentage such as 20%")
        return Budget(max(replicas - value, 0))
    raise SwarmError(f"{where}: unknown key {key!r}; known: min_running, max_unavailable")


def service_budget(budgets: dict, service: dict, replicas: int) -> Budget | None:
    """The budget pillar gives ``service`` (Docker's object): by name, else by a label."""
    spec = service.get("Spec") or {}
    name = spec.get("Name")
    if name in (budgets or {}):
        return budget_for(budgets[name], replicas, f"swarm:budget:{name}")
    labels = spec.get("Labels") or {}
    for key, conf in (budgets or {}).items():
        if str(key).startswith("label:"):
            label, _, value = str(key)[len("label:") :].partition("=")
            if labels.get(label) == value:
                return budget_for(conf, replicas, f"swarm:budget:{key}")
    return None


def order(nodes: list[NodeView], chosen: set[str], batch: int = 1) -> list[list[NodeView]]:
    """``chosen`` node ids in steps: workers ``batch`` at a time (by hostname), then
    managers one at a time, the leader last."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SwarmError(f"batch: expected an integer >= 1, got {batch!r}")
    picked = sorted((n for n in nodes if n.id in chosen), key=lambda n: (n.hostname, n.id))
    workers = [n for n in picked if not n.is_manager]
    managers = sorted((n for n in picked if n.is_manager), key=lambda n: (n.leader, n.hostname))
    steps = [workers[i : i + batch] for i in range(0, len(workers), batch)]
    return steps + [[m] for m in managers]


def quorum_refusal(nodes: list[NodeView], going: list[NodeView]) -> str | None:
    """Why taking ``going`` down now would lose quorum, or None: the managers still
    reachable without them must be a majority."""
    managers_going = [n for n in going if n.is_manager]
    if not managers_going:
        return None
    counts = manager_counts(nodes)
    left = counts.reachable - sum(1 for n in managers_going if n.reachable)
    if left < quorum(counts.total):
        return (
            f"{', '.join(n.hostname for n in managers_going)}: {counts.reachable} of "
            f"{counts.total} managers reachable; with it down {left} would remain, fewer "
            f"than quorum ({quorum(counts.total)})"
        )
    return None


def budget_problems(
    services: list[dict],
    tasks: dict[str, list[dict]],
    nodes: list[NodeView],
    going: list[NodeView],
    budgets: dict,
    capacity: dict | None = None,
) -> list[str]:
    """Why draining ``going`` now would break a service's budget or strand its tasks
    (no other node may run them, or, with ``capacity`` (node id -> Docker's
    Description.Resources), none has room for what they reserve); empty when it
    may go."""
    going_ids = {n.id for n in going}
    staying = [n for n in nodes if n.id not in going_ids]
    left = room.free(capacity, services, tasks) if capacity else None
    problems = []
    for service in services:
        spec = service.get("Spec") or {}
        name = spec.get("Name", service["ID"])
        running = [t for t in tasks.get(service["ID"], []) if is_running(t)]
        on_going = [t for t in running if t.get("NodeID") in going_ids]
        if not on_going:
            continue
        mode = spec.get("Mode") or {}
        replicated = "Replicated" in mode
        replicas = (
            int((mode.get("Replicated") or {}).get("Replicas") or 0) if replicated else len(running)
        )
        budget = service_budget(budgets, service, replicas)
        after = len(running) - len(on_going)
        if budget is not None and after < budget.min_running:
            problems.append(
                f"service {name}: {len(running)} running, {len(on_going)} on "
                f"{', '.join(sorted(n.hostname for n in going))}; at least {budget.min_running} "
                f"must run, {after} would"
            )
            continue
        if replicated:
            constraints = ((spec.get("TaskTemplate") or {}).get("Placement") or {}).get(
                "Constraints"
            )
            others = eligible_nodes(staying, constraints or [])
            if isinstance(others, list) and not others:
                problems.append(
                    f"service {name}: no other node may run its {len(on_going)} task(s) "
                    f"(constraints {constraints or 'none'}, nodes ready and active)"
                )
                continue
            want = room.reservation(service)
            if left is not None and want and isinstance(others, list):
                fit = sum(room.fits(want, left.get(n.id, {})) for n in others)
                if fit < len(on_going):
                    problems.append(
                        f"service {name}: the other nodes have room for {fit} of its "
                        f"{len(on_going)} task(s) (each reserves {room.shown(want)})"
                    )
    return problems


def check_budgets(budgets) -> None:
    """Refuse a ``swarm:budget`` of the wrong shape before anything runs."""
    if budgets in (None, ""):
        return
    if not isinstance(budgets, dict):
        raise SwarmError(f"swarm:budget: expected a mapping, got {type(budgets).__name__}")
    for key, conf in budgets.items():
        where = f"swarm:budget:{key}"
        if str(key).startswith("label:") and "=" not in str(key):
            raise SwarmError(f"{where}: a label budget is written label:<key>=<value>")
        budget_for(conf, 1, where)


def is_running(task: dict) -> bool:
    return (
        task.get("DesiredState") == "running"
        and (task.get("Status") or {}).get("State") == "running"
    )


def running_counts(tasks: dict[str, list[dict]]) -> dict[str, int]:
    """service id -> its tasks running now."""
    return {sid: sum(1 for t in found if is_running(t)) for sid, found in tasks.items()}


def tasks_left_on(tasks: dict[str, list[dict]], node_ids: set[str]) -> int:
    """Tasks Docker still means to run on ``node_ids`` (a drain sets them to shutdown)."""
    return sum(
        1
        for found in tasks.values()
        for t in found
        if t.get("NodeID") in node_ids and t.get("DesiredState") == "running"
    )


def short_of(before: dict[str, int], services: list[dict], tasks: dict) -> list[str]:
    """Services running fewer tasks now than ``before`` (running_counts of an earlier
    look), as ``name (now/before)``; a service removed since is not waited for."""
    now = running_counts(tasks)
    names = {s["ID"]: (s.get("Spec") or {}).get("Name", s["ID"]) for s in services}
    return [
        f"{names[sid]} ({now[sid]}/{count})"
        for sid, count in sorted(before.items())
        if sid in now and now[sid] < count
    ]
