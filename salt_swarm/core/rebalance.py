"""Which replicated services sit unevenly on the nodes that could run them."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

from salt_swarm.core import docker_api
from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.nodes import list_nodes

# node.role == manager, node.labels.zone != a, node.hostname==worker1 ...
_CONSTRAINT = re.compile(r"^\s*(node\.(?:role|hostname|id|labels\.[^\s=!]+))\s*(==|!=)\s*(.+?)\s*$")


@dataclass(frozen=True)
class ServicePlan:
    id: str
    name: str
    replicas: int
    spread: dict[str, int]  # hostname -> running tasks, over the nodes it may use
    uneven: bool
    skipped: str | None = None  # why it is left alone
    eligible: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "replicas": self.replicas,
            "spread": dict(self.spread),
            "uneven": self.uneven,
            "skipped": self.skipped,
        }


def _node_value(node: NodeView, key: str) -> str | None:
    if key == "node.role":
        return node.role
    if key == "node.hostname":
        return node.hostname
    if key == "node.id":
        return node.id
    return node.labels.get(key[len("node.labels.") :])


def eligible_nodes(nodes: list[NodeView], constraints: list[str]) -> list[NodeView] | str:
    """Ready, active nodes meeting the placement constraints; or why we cannot tell."""
    parsed = []
    for text in constraints or []:
        match = _CONSTRAINT.match(text)
        if not match:
            return f"constraint {text!r} is not one rebalance evaluates"
        parsed.append(match.groups())
    out = []
    for node in nodes:
        if node.status != "ready" or node.availability != "active":
            continue
        ok = all((_node_value(node, key) == value) == (op == "==") for key, op, value in parsed)
        if ok:
            out.append(node)
    return out


def plan_service(service: dict, tasks: list[dict], nodes: list[NodeView]) -> ServicePlan:
    """``service``/``tasks``: Docker API objects (GET /services, GET /tasks?service=...)."""
    spec = service.get("Spec") or {}
    name = spec.get("Name", service["ID"])
    mode = spec.get("Mode") or {}
    if "Replicated" not in mode:
        return ServicePlan(service["ID"], name, 0, {}, False, skipped="global service")
    replicas = int(mode["Replicated"].get("Replicas") or 0)
    placement = (spec.get("TaskTemplate") or {}).get("Placement") or {}
    if placement.get("MaxReplicas"):
        return ServicePlan(
            service["ID"], name, replicas, {}, False, skipped="max replicas per node set"
        )
    eligible = eligible_nodes(nodes, placement.get("Constraints") or [])
    if isinstance(eligible, str):
        return ServicePlan(service["ID"], name, replicas, {}, False, skipped=eligible)
    host = {n.id: n.hostname for n in eligible}
    spread = {n.hostname: 0 for n in eligible}
    for task in tasks:
        state = (task.get("Status") or {}).get("State")
        if (
            task.get("DesiredState") == "running"
            and state == "running"
            and task.get("NodeID") in host
        ):
            spread[host[task["NodeID"]]] += 1
    if not eligible or replicas == 0:
        return ServicePlan(
            service["ID"], name, replicas, spread, False, skipped="no node to spread over"
        )
    fair = math.ceil(replicas / len(eligible))
    uneven = max(spread.values()) > fair
    return ServicePlan(service["ID"], name, replicas, spread, uneven, eligible=sorted(spread))


def plans(client) -> list[ServicePlan]:
    nodes = list_nodes(client)
    return [
        plan_service(s, client.api.tasks(filters={"service": s["ID"]}), nodes)
        for s in client.api.services()
    ]


def force_update(client, service_id: str) -> dict | None:
    """What ``docker service update --force`` does: bump ForceUpdate, keep the rest of the spec.

    Returns the update status from before, to tell this update's end from an older one.
    """
    current = client.api.inspect_service(service_id)
    spec = current["Spec"]
    template = spec.setdefault("TaskTemplate", {})
    template["ForceUpdate"] = int(template.get("ForceUpdate") or 0) + 1
    params = {"version": current["Version"]["Index"]}
    docker_api.post(client, "/services/{0}/update", spec, service_id, params=params)
    return current.get("UpdateStatus")


def update_done(client, service_id: str, before: dict | None) -> bool:
    status = client.api.inspect_service(service_id).get("UpdateStatus")
    if not status or status == before:
        return False  # this update has not started reporting yet
    if status.get("State") in ("paused", "rollback_completed", "rollback_paused"):
        raise SwarmError(f"service {service_id}: update {status['State']}: {status.get('Message')}")
    return status.get("State") == "completed"


def rebalance(client, test: bool = False, wait: float = 120) -> dict:
    """Force-update every uneven replicated service and wait for the updates to finish."""
    before = plans(client)
    uneven = [p for p in before if p.uneven]
    result = {
        "services": [p.as_dict() for p in before],
        "updated": [p.name for p in uneven],
    }
    if test or not uneven:
        return result
    before_status = {p.id: force_update(client, p.id) for p in uneven}
    deadline = time.monotonic() + float(wait)
    pending = set(before_status)
    while pending:
        pending = {sid for sid in pending if not update_done(client, sid, before_status[sid])}
        if pending and time.monotonic() > deadline:
            raise SwarmError(
                f"services still updating after {wait:g} s: {', '.join(sorted(pending))}"
            )
        if pending:
            time.sleep(0.5)
    result["after"] = {p.name: p.spread for p in plans(client) if p.id in {u.id for u in uneven}}
    return result
