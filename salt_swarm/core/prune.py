"""Which Down nodes may go: a rebuilt host's stale twin, or a node whose minion is gone."""

from __future__ import annotations

import time
from dataclasses import dataclass

from salt_swarm.core import nodes as node_ops
from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError


@dataclass(frozen=True)
class Candidate:
    node: NodeView
    reason: str

    def as_dict(self) -> dict:
        return {
            "id": self.node.id,
            "hostname": self.node.hostname,
            "role": self.node.role,
            "reason": self.reason,
        }


def candidates(
    nodes: list[NodeView], minion_of: dict[str, str], accepted: set[str]
) -> tuple[list[Candidate], list[str]]:
    """Down nodes to remove, workers first; and the Down nodes kept, with why.

    ``minion_of``: node id -> minion id where known (the master's record); a node
    without a record belongs to the minion of its hostname. ``accepted``: the
    master's accepted minion keys.
    """
    ready_hosts = {n.hostname for n in nodes if n.status == "ready"}
    found, kept = [], []
    for node in nodes:
        if node.status == "ready":
            continue
        minion = minion_of.get(node.id) or node.hostname
        if node.hostname in ready_hosts:
            found.append(Candidate(node, f"a Ready node named {node.hostname} replaced it"))
        elif minion not in accepted:
            found.append(Candidate(node, f"minion {minion} is gone (no accepted key)"))
        else:
            kept.append(
                f"{node.hostname} ({node.id}): {node.status}, but minion {minion} still has a key"
            )
    found.sort(key=lambda c: (c.node.is_manager, c.node.hostname, c.node.id))
    return found, kept


def stale_twins(nodes: list[NodeView], managers: bool = False) -> list[Candidate]:
    """Down nodes with a Ready node of the same hostname: what a rebuilt host leaves.
    A manager's node only with ``managers``: a hostname is what a node says about
    itself, so no manager is removed for sharing one unless an operator asks."""
    found = candidates(nodes, {}, {n.hostname for n in nodes})[0]
    return [c for c in found if managers or not c.node.is_manager]


def kept_manager_twins(nodes: list[NodeView]) -> list[dict]:
    """Down manager nodes with a Ready twin, which ``stale_twins`` leaves alone."""
    return [
        c.as_dict()
        for c in candidates(nodes, {}, {n.hostname for n in nodes})[0]
        if c.node.is_manager
    ]


def live_twins(nodes: list[NodeView]) -> dict[str, list[str]]:
    """hostname -> ids, where more than one node of that name is Ready."""
    ready: dict[str, list[str]] = {}
    for node in nodes:
        if node.status == "ready":
            ready.setdefault(node.hostname, []).append(node.id)
    return {host: ids for host, ids in ready.items() if len(ids) > 1}


def remove_stale_twins(
    client, test: bool = False, wait: float = 60, managers: bool = False
) -> list[dict]:
    """Remove Down twins of Ready nodes; a manager's only with ``managers`` (demoted
    first, quorum-checked), else it is listed as kept.

    Right after a rebuilt host joins again its old node still shows Ready until Docker
    misses its heartbeats: wait up to ``wait`` seconds for that, then fail naming the
    hostnames that keep two Ready nodes (two live hosts with one name).
    """
    deadline = time.monotonic() + float(wait)
    while True:
        nodes = node_ops.list_nodes(client)
        doubled = live_twins(nodes)
        if not doubled or test:
            break
        if time.monotonic() > deadline:
            named = "; ".join(f"{h}: {', '.join(ids)}" for h, ids in sorted(doubled.items()))
            raise SwarmError(
                f"more than one Ready node per hostname after {wait:g} s ({named}): "
                "a rebuilt host's old node should have gone Down by now; are two hosts "
                "running with one hostname?"
            )
        time.sleep(0.5)
    done = []
    for cand in stale_twins(nodes, managers):
        res = node_ops.remove(client, cand.node.id, test=test)
        done.append({**cand.as_dict(), "steps": res["steps"]})
    for host, ids in sorted(doubled.items()) if test else ():
        done.append({"hostname": host, "ids": ids, "steps": ["wait for the older node to go Down"]})
    return done
