"""Node operations, run on a manager: list, update (availability, role, labels), remove."""

from __future__ import annotations

import time
from dataclasses import replace

from salt_swarm.core import labels as label_logic
from salt_swarm.core import local_node
from salt_swarm.core.cluster import (
    NodeView,
    check_availability,
    find_node,
    health,
    manager_counts,
    node_view,
)
from salt_swarm.core.errors import Refused, SwarmError
from salt_swarm.core.grain_labels import stale_keys
from salt_swarm.core.quorum import check_manager_removal
from salt_swarm.core.secrets import check_role

# Writes at a fresh version after "update out of sequence", before giving up.
WRITE_ATTEMPTS = 5


def require_manager(client) -> dict:
    now = local_node.summarize(client.info())
    if now["state"] == "locked":
        raise SwarmError("this node is a locked manager: unlock it (swarm.unlock) first")
    if now["state"] != "active" or not now["manager"]:
        role = "worker" if now["state"] == "active" else f"not in a swarm ({now['state']})"
        raise SwarmError(f"this node is {role}: run this on a swarm manager")
    return now


def list_nodes(client) -> list[NodeView]:
    require_manager(client)
    return [node_view(n) for n in client.api.nodes()]


def cluster_health(client) -> dict:
    return health(list_nodes(client))


def update(
    client,
    ref: str,
    availability: str | None = None,
    role: str | None = None,
    labels: dict | None = None,
    labels_mode: str = "merge",
    labels_remove=None,
    labels_owned=None,
    force: bool = False,
    test: bool = False,
) -> dict:
    """Bring one node to the given settings; return Salt-style changes (empty if none).

    ``labels_owned``: globs of label keys managed elsewhere (grain labels); such keys
    on the node that ``labels`` lacks are removed."""
    check_settings(availability, role)
    nodes = list_nodes(client)
    node = find_node(nodes, ref)
    changes, spec = planned(
        nodes, node, availability, role, labels, labels_mode, labels_remove, labels_owned, force
    )
    if changes and not test:
        write(client, node, client.api.inspect_node(node.id)["Spec"], spec)
    return changes


def check_settings(availability: str | None, role: str | None) -> None:
    if availability is not None:
        check_availability(availability)
    if role is not None:
        check_role(role)


def planned(
    nodes: list[NodeView],
    node: NodeView,
    availability: str | None = None,
    role: str | None = None,
    labels: dict | None = None,
    labels_mode: str = "merge",
    labels_remove=None,
    labels_owned=None,
    force: bool = False,
) -> tuple[dict, dict]:
    """(Salt-style changes, the spec fields to write) for ``node``; ``nodes`` is the
    whole list, for the quorum check of a demotion."""
    if labels_owned:
        stale = stale_keys(node.labels, label_logic.validate(labels), labels_owned)
        if isinstance(labels_remove, str):
            labels_remove = [k.strip() for k in labels_remove.split(",") if k.strip()]
        labels_remove = sorted({*(labels_remove or []), *stale})
    new_labels = label_logic.desired(node.labels, labels, labels_mode, labels_remove)
    changes, spec = {}, {"Labels": new_labels}
    if availability and availability != node.availability:
        changes["availability"] = {"old": node.availability, "new": availability}
        spec["Availability"] = availability
    if role and role != node.role:
        if role == "worker":
            _check_demote(nodes, node, force)
        changes["role"] = {"old": node.role, "new": role}
        spec["Role"] = role
    label_changes = label_logic.diff(node.labels, new_labels)
    if label_changes:
        changes["labels"] = label_changes
    return changes, spec


def write(client, node: NodeView, current_spec: dict, fields: dict) -> None:
    """``current_spec`` with ``fields`` set, at the node version ``node`` was read at.

    A node's version also moves when only its status does (a joining node turning
    Ready, a leaving one going Down), and Docker then refuses the write as "update out
    of sequence". Read the node again and write at its new version, as long as its
    spec is still the one the plan was made from; a spec someone else changed meanwhile
    is not overwritten."""
    version = node.version
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            client.api.update_node(node.id, version, {**current_spec, **fields})
            return
        except Exception as exc:  # docker.errors.APIError; the SDK is imported lazily
            if "out of sequence" not in str(exc) or attempt == WRITE_ATTEMPTS:
                raise
        fresh = client.api.inspect_node(node.id)
        if fresh.get("Spec") != current_spec:
            raise SwarmError(
                f"{node.hostname} was changed by someone else since it was read; "
                "nothing was overwritten (run again to plan from its new settings)"
            )
        version = (fresh.get("Version") or {}).get("Index", version)


def _wait_out_of_raft(client, node: NodeView, timeout: float = 30) -> None:
    """After a demotion Docker drops the node from Raft a moment later; rm needs that done."""
    deadline = time.monotonic() + timeout
    while client.api.inspect_node(node.id).get("ManagerStatus"):
        if time.monotonic() > deadline:
            raise SwarmError(
                f"demoted {node.hostname}, but it is still a Raft member after {timeout:g} s; "
                "not removed (run again)"
            )
        time.sleep(0.2)


def _demote_member(client, node: NodeView) -> bool:
    """Demote a manager before removal; False when Raft no longer counts it (after a
    force-new-cluster the old managers are listed but are not Raft members)."""
    import docker.errors

    fresh = client.api.inspect_node(node.id)
    read_at = replace(node, version=(fresh.get("Version") or {}).get("Index", node.version))
    try:
        write(client, read_at, fresh["Spec"], {"Role": "worker"})
    except docker.errors.APIError as exc:
        if "raft memberlist" in str(exc) and node.status != "ready":
            return False
        raise
    return True


def _check_demote(nodes: list[NodeView], node: NodeView, force: bool) -> None:
    counts = manager_counts(nodes)
    if counts.total <= 1:
        raise Refused(f"demote {node.hostname}", "it is the last manager")
    if not force:
        check_manager_removal(counts, node.reachable, f"demote {node.hostname}")


def remove(client, ref: str, force: bool = False, test: bool = False) -> dict:
    """Remove a node from the swarm; a manager is demoted first (quorum-checked)."""
    me = require_manager(client)["node_id"]
    nodes = [node_view(n) for n in client.api.nodes()]
    node = find_node(nodes, ref)
    if node.id == me:
        raise Refused(f"remove {node.hostname}", "it is this node; use swarm.leave")
    if node.status == "ready" and not force:
        raise Refused(
            f"remove {node.hostname} ({node.id})",
            "it is up (status ready); make it leave first (swarm.leave on that node), or "
            "force=True to cut it off",
        )
    steps = []
    if node.is_manager:
        _check_demote(nodes, node, force)
        steps.append("demoted")
    steps.append("removed")
    if not test:
        if node.is_manager and _demote_member(client, node):
            _wait_out_of_raft(client, node)
        client.api.remove_node(node.id, force=force or node.is_manager)
    return {"id": node.id, "hostname": node.hostname, "steps": steps}
