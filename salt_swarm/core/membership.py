"""The local node's membership as its dockerd shows it, and what init, join and leave
(core/swarm_init.py, swarm_join.py, swarm_leave.py) share: waiting out a "pending"
node and refusing a locked one.
"""

from __future__ import annotations

import socket
import time

from salt_swarm.core import local_node
from salt_swarm.core.addresses import split_port
from salt_swarm.core.errors import SwarmError

# A node is "pending" while an init or join is under way, maybe another run's: wait
# this long for it to settle before treating it as a stuck join to clean up (leaving
# would destroy the swarm the other run is making).
PENDING_SETTLE_SECONDS = 30
# How long a node may take to act on a role change (a join, a demotion).
ROLE_SETTLE_SECONDS = 3


def info(client) -> dict:
    return local_node.summarize(client.info())


def tcp_reachable(addr: str, timeout: float = 2.0) -> bool:
    host, port = split_port(addr)
    try:
        with socket.create_connection((host, port or 2377), timeout=timeout):
            return True
    except OSError:
        return False


def settled_info(client, seconds: float = PENDING_SETTLE_SECONDS) -> dict:
    """``info``, once the node is no longer "pending" (or ``seconds`` have passed)."""
    deadline = time.monotonic() + seconds
    now = info(client)
    while now["state"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.5)
        now = info(client)
    return now


def refuse_locked(now: dict) -> None:
    if now["state"] == "locked":
        raise SwarmError("this node is a locked swarm manager: unlock it (swarm.unlock) first")


def explain(exc) -> str:
    """Docker's own words for an SDK error."""
    detail = getattr(exc, "explanation", None) or str(exc)
    return detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
