"""What the local Docker daemon says about its own swarm membership."""

from __future__ import annotations

from typing import Any

# Docker's LocalNodeState values.
STATES = ("inactive", "pending", "active", "error", "locked")


def summarize(docker_info: dict[str, Any]) -> dict[str, Any]:
    """Reduce ``docker info`` output to the local node's swarm facts.

    ``manager`` is true only where the node holds a manager role (Docker reports
    ``ControlAvailable``); a locked manager reports state ``locked``.
    """
    swarm = docker_info.get("Swarm") or {}
    cluster = swarm.get("Cluster") or {}
    state = swarm.get("LocalNodeState") or "inactive"
    return {
        "state": state,
        "node_id": swarm.get("NodeID") or None,
        "address": swarm.get("NodeAddr") or None,
        "manager": bool(swarm.get("ControlAvailable")),
        "cluster_id": cluster.get("ID") or None,
        "managers": swarm.get("Managers") or 0,
        "nodes": swarm.get("Nodes") or 0,
        "error": swarm.get("Error") or None,
        "remote_managers": sorted(m["Addr"] for m in swarm.get("RemoteManagers") or []),
        "hostname": docker_info.get("Name"),
        "engine_version": docker_info.get("ServerVersion"),
    }


def manager_address(docker_info: dict[str, Any]) -> str | None:
    """This node's manager address (``addr:port``) as its peers know it; None unless
    it is an active manager."""
    now = summarize(docker_info)
    if now["state"] != "active" or not now["manager"]:
        return None
    for entry in docker_info["Swarm"].get("RemoteManagers") or []:
        if entry.get("NodeID") == now["node_id"]:
            return entry["Addr"]
    return f"{now['address']}:2377"
