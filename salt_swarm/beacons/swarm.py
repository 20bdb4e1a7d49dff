"""Swarm beacon: events for the reactor when the swarm changes.

On every node: this node's own state (``salt/beacon/<id>/swarm/local``: locked,
inactive, error, a role change). On a manager, from its node list: a node's status,
availability, role or reachability changed (``.../swarm/node/changed``), a node
added or removed (``node/added``, ``node/removed``) and the leader moved
(``.../swarm/leader``). The first look records what it sees and fires
``.../swarm/watching`` once; events carry ids and hostnames, never a token. docs/operations.md has reactor examples.

.. code-block:: yaml

    beacons:
      swarm:
        - interval: 2
        - nodes: True      # manager only (default True)
        - local: True      # default True
"""

from __future__ import annotations

import logging
import time

from salt_swarm.core import watch_events

log = logging.getLogger(__name__)

__virtualname__ = "swarm"
KEYS = ("nodes", "local", "interval")
_LAST = {}  # what the previous look saw: "local", "nodes", and when ("at")
STALE_SECONDS = 10  # a longer gap between looks starts afresh


def __virtual__():
    return __virtualname__


def _options(config) -> dict:
    found = {}
    for item in config or []:
        if isinstance(item, dict):
            found.update(item)
    return found


def validate(config):
    if not isinstance(config, list):
        return False, "swarm beacon: the configuration is a list of mappings"
    options = _options(config)
    unknown = sorted(set(options) - set(KEYS))
    if unknown:
        return False, f"swarm beacon: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})"
    for key in ("nodes", "local"):
        if key in options and not isinstance(options[key], bool):
            return False, f"swarm beacon: {key}: expected true or false"
    return True, "valid"


def beacon(config):
    options = _options(config)
    idle = time.monotonic() - _LAST.get("ended", time.monotonic())
    if idle > max(STALE_SECONDS, 5 * float(options.get("interval", 1))):
        _LAST.clear()  # deleted and added again, or the minion was paused: start afresh
    try:
        return _look(options)
    finally:
        # Idle time counts from the end of a look: a look may itself take long (a
        # manager's calls wait while there is no leader to answer them).
        _LAST["ended"] = time.monotonic()


def _look(options) -> list[dict]:
    events = []
    first_look = "local" not in _LAST
    try:
        now = __salt__["swarm.info"]()
    except Exception as exc:  # dockerd down: that is news for the local watch
        now = {"state": "unreachable", "manager": None, "node_id": None, "error": str(exc)}
    if options.get("local", True):
        events += watch_events.local_events(_LAST.get("local"), now)
    _LAST["local"] = now
    if options.get("nodes", True):
        if now.get("state") == "active" and now.get("manager"):
            try:
                snapshot = watch_events.node_snapshot(__salt__["swarm.nodes"]())
            except Exception as exc:  # no quorum: the list cannot be read now
                log.debug("swarm beacon: node list unreadable: %s", exc)
                return events
            events += watch_events.node_events(_LAST.get("nodes"), snapshot)
            _LAST["nodes"] = snapshot
        else:
            _LAST.pop("nodes", None)  # not a manager now: start afresh when it is again
    if first_look:  # from now on changes are events: say so once
        events.append({"tag": "watching", "state": now.get("state"), "manager": now.get("manager")})
    return events
