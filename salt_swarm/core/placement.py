"""Where the swarm's tasks are, as one manager sees it: the nodes and their
resources, each service's mode, labels, constraints and reservations, and its tasks
meant to run. The rolling maintenance
reads this (through ``swarm.placement`` on a manager) before and after each node.

The shapes are Docker's, trimmed to what ``core.maintenance`` reads, so the master
gets a small JSON-safe answer.
"""

from __future__ import annotations

from salt_swarm.core.capacity import reservation
from salt_swarm.core.cluster import node_view
from salt_swarm.core.nodes import require_manager


def _service(svc: dict) -> dict:
    spec = svc.get("Spec") or {}
    placement = ((spec.get("TaskTemplate") or {}).get("Placement") or {}).get("Constraints")
    return {
        "ID": svc["ID"],
        "Spec": {
            "Name": spec.get("Name"),
            "Labels": dict(spec.get("Labels") or {}),
            "Mode": spec.get("Mode") or {},
            "TaskTemplate": {
                "Placement": {"Constraints": list(placement or [])},
                "Resources": {"Reservations": reservation(svc)},
            },
        },
    }


def _task(task: dict) -> dict:
    return {
        "NodeID": task.get("NodeID"),
        "DesiredState": task.get("DesiredState"),
        "Status": {"State": (task.get("Status") or {}).get("State")},
    }


def read(client) -> dict:
    """``{nodes: [swarm.nodes rows], capacity: {node id: resources}, services: [...],
    tasks: {service id: [...]}}``; tasks are those Docker means to run (desired
    state running)."""
    require_manager(client)
    listed = client.api.nodes()
    nodes = [node_view(n).as_dict() for n in listed]
    capacity = {n["ID"]: dict((n.get("Description") or {}).get("Resources") or {}) for n in listed}
    services = [_service(s) for s in client.api.services()]
    tasks: dict[str, list[dict]] = {s["ID"]: [] for s in services}
    for task in client.api.tasks(filters={"desired-state": "running"}):
        if task.get("ServiceID") in tasks:
            tasks[task["ServiceID"]].append(_task(task))
    return {"nodes": nodes, "capacity": capacity, "services": services, "tasks": tasks}
