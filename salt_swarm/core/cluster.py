"""The swarm as a manager sees it: nodes, their roles and health, and the quorum."""

from __future__ import annotations

from dataclasses import dataclass, field

from salt_swarm.core.addresses import split_port
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.quorum import (
    ManagerCounts,
    failures_tolerated,
    more_failures_tolerated,
    quorum,
)

AVAILABILITIES = ("active", "pause", "drain")


@dataclass(frozen=True)
class NodeView:
    id: str
    hostname: str
    role: str  # manager | worker
    availability: str  # active | pause | drain
    status: str  # ready | down | unknown | disconnected
    addr: str
    labels: dict = field(default_factory=dict)
    reachability: str | None = None  # reachable | unreachable | unknown (managers only)
    leader: bool = False
    engine_version: str | None = None
    version: int = 0

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    @property
    def reachable(self) -> bool:
        return self.reachability == "reachable"

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "hostname": self.hostname,
            "role": self.role,
            "availability": self.availability,
            "status": self.status,
            "addr": self.addr,
            "labels": dict(self.labels),
            "reachability": self.reachability,
            "leader": self.leader,
            "engine_version": self.engine_version,
        }


def node_view(attrs: dict) -> NodeView:
    """From the Docker API's node object (``GET /nodes``)."""
    spec = attrs.get("Spec") or {}
    status = attrs.get("Status") or {}
    manager = attrs.get("ManagerStatus") or {}
    desc = attrs.get("Description") or {}
    addr = status.get("Addr") or ""
    if manager.get("Addr") and addr in ("", "0.0.0.0"):
        addr = split_port(manager["Addr"])[0]
    return NodeView(
        id=attrs["ID"],
        hostname=desc.get("Hostname", ""),
        role=spec.get("Role", "worker"),
        availability=spec.get("Availability", "active"),
        status=status.get("State", "unknown"),
        addr=addr,
        labels=dict(spec.get("Labels") or {}),
        reachability=manager.get("Reachability") if manager else None,
        leader=bool(manager.get("Leader")),
        engine_version=(desc.get("Engine") or {}).get("EngineVersion"),
        version=(attrs.get("Version") or {}).get("Index", 0),
    )


def manager_counts(nodes: list[NodeView]) -> ManagerCounts:
    managers = [n for n in nodes if n.is_manager]
    return ManagerCounts(len(managers), sum(1 for n in managers if n.reachable))


def health(nodes: list[NodeView]) -> dict:
    counts = manager_counts(nodes)
    managers = [n for n in nodes if n.is_manager]
    leader = next((n.hostname for n in managers if n.leader), None)
    return {
        "managers": counts.total,
        "reachable": counts.reachable,
        "unreachable": sorted(n.hostname for n in managers if not n.reachable),
        "leader": leader,
        "quorum": quorum(counts.total) if counts.total else 0,
        "has_quorum": counts.has_quorum(),
        "failures_tolerated": failures_tolerated(counts.total),
        "more_failures_tolerated": more_failures_tolerated(counts.total, counts.reachable),
        "workers": sum(1 for n in nodes if not n.is_manager),
        "nodes_ready": sum(1 for n in nodes if n.status == "ready"),
        "nodes_down": sorted(n.hostname for n in nodes if n.status != "ready"),
    }


def find_node(nodes: list[NodeView], ref: str) -> NodeView:
    """A node by id, id prefix or hostname; a Ready node wins over Down twins."""
    if not isinstance(ref, str) or not ref:
        raise SwarmError(f"node: expected a node id or hostname, got {ref!r}")
    for node in nodes:
        if node.id == ref:
            return node
    named = [n for n in nodes if n.hostname == ref]
    if len(named) > 1:
        ready = [n for n in named if n.status == "ready"]
        if len(ready) == 1:
            return ready[0]
        ids = ", ".join(f"{n.id} ({n.status})" for n in named)
        raise SwarmError(f"node: hostname {ref!r} is ambiguous: {ids}; give the node id")
    if named:
        return named[0]
    prefixed = [n for n in nodes if n.id.startswith(ref)]
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1:
        raise SwarmError(f"node: id prefix {ref!r} matches {len(prefixed)} nodes; give more of it")
    raise SwarmError(f"node: no node {ref!r} in this swarm")


def check_availability(value, field: str = "availability") -> str:
    if value not in AVAILABILITIES:
        raise SwarmError(f"{field}: {value!r} is not one of {', '.join(AVAILABILITIES)}")
    return value
