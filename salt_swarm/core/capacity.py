"""Room for tasks: what a service reserves per task (CPU, memory) and how many more
of its tasks the nodes can take, from what they have and what their tasks reserve.
The rolling maintenance checks it before a drain: tasks with nowhere to fit would
stay pending."""

from __future__ import annotations

RESOURCES = ("NanoCPUs", "MemoryBytes")
UNBOUNDED = 10**9  # a service that reserves nothing fits anywhere


def reservation(service: dict) -> dict[str, int]:
    """What each task of ``service`` (Docker's object) reserves; empty when nothing."""
    template = (service.get("Spec") or {}).get("TaskTemplate") or {}
    wanted = (template.get("Resources") or {}).get("Reservations") or {}
    return {key: int(wanted[key]) for key in RESOURCES if wanted.get(key)}


def free(capacity: dict, services: list[dict], tasks: dict[str, list[dict]]) -> dict:
    """node id -> what it has left: its resources (``capacity``, Docker's
    Description.Resources) minus the reservations of the tasks meant to run there."""
    per_service = {s["ID"]: reservation(s) for s in services}
    left = {
        node: {key: int((have or {}).get(key) or 0) for key in RESOURCES}
        for node, have in capacity.items()
    }
    for service_id, found in tasks.items():
        for task in found:
            if task.get("DesiredState") == "running" and task.get("NodeID") in left:
                for key, amount in per_service.get(service_id, {}).items():
                    left[task["NodeID"]][key] -= amount
    return left


def fits(want: dict[str, int], left: dict[str, int]) -> int:
    """How many tasks reserving ``want`` fit into ``left``."""
    counts = [left.get(key, 0) // amount for key, amount in want.items() if amount > 0]
    return max(min(counts), 0) if counts else UNBOUNDED


def shown(want: dict[str, int]) -> str:
    parts = []
    if want.get("NanoCPUs"):
        parts.append(f"{want['NanoCPUs'] / 1e9:g} CPU")
    if want.get("MemoryBytes"):
        parts.append(f"{want['MemoryBytes'] / 2**20:g} MiB")
    return " and ".join(parts)
