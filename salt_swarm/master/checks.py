"""The orchestrate's node settings and conformance check, run on the master.

The runner (``swarm.settle``, ``swarm.check``) and the orchestrate states
(``swarm.settled``, ``swarm.conforms``) share these; the states call them in
their own process rather than through ``saltutil.runner``, which sets up a runner
client (master grains and loaders) on every call.
"""

from __future__ import annotations

import logging

from salt_swarm.core import conformance
from salt_swarm.core.errors import SwarmError
from salt_swarm.master.targets import pillar_managers

log = logging.getLogger(__name__)


def wanted(expect) -> conformance.Wanted:
    """What the check compares with, from a plan (or the ``expect`` it was given)."""
    return conformance.Wanted(
        managers=[expect["first_manager"], *expect["managers"]],
        workers=list(expect["workers"]),
        hostnames=dict(expect["hostnames"]),
        nodes=dict(expect["nodes"]),
    )


def check_expected(fleet, expect, joined=None) -> dict:
    """``{result, differences, warnings, manager}``: the swarm against ``expect``.
    ``joined`` (minion -> the node id its join returned, this run): recorded as that
    minion's node where the report holds up against the node list read here."""
    want = wanted(expect)
    manager, nodes = fleet.nodes_from(want.managers)
    if joined:
        fleet.remember(joined_reports(joined, want), nodes)
    found = conformance.differences(want, nodes)
    for line in found:
        log.warning("swarm.check: %s", line)
    return {"result": not found, "differences": found, "warnings": [], "manager": manager}


def joined_reports(joined: dict, want: conformance.Wanted) -> dict:
    """What the joins of this run reported, in ``swarm.info``'s shape."""
    managers = set(want.managers)
    return {
        m: {
            "state": "active",
            "node_id": node_id,
            "hostname": want.hostnames.get(m),
            "manager": m in managers,
        }
        for m, node_id in joined.items()
        if node_id and m in want.hostnames
    }


def settle(fleet, nodes, managers=None, test=False, wait=60, timeout=10, list_after=False) -> dict:
    """``swarm.settle`` (the execution function) through the first of ``managers`` (default: pillar's)
    that is an active manager: ``{manager, removed, nodes}`` (and ``listed``, the
    node list read after the changes, with ``list_after``)."""
    candidates = list(managers or pillar_managers(fleet))
    if not candidates:
        raise SwarmError("no managers given and pillar swarm:managers matches none")
    manager, result = fleet.on_manager(
        candidates,
        "swarm.settle",
        nodes=nodes,
        test=bool(test),
        wait=float(wait),
        list_after=bool(list_after),
        timeout=float(wait) + float(timeout) + 30,
    )
    return {"manager": manager, **result}
