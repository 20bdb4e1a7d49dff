"""Lost minions leave the swarm: what the reactor runs on a deleted key or a lost
presence (runner ``swarm.retire``), checked before anything changes.

An event's fields are what its sender wrote: a minion may fire
``salt/presence/change`` with any ``lost`` list. A minion is retired only when the
master itself sees it gone: no accepted key, or not connected and not answering a
ping. Its nodes are found through the master's record of which minion runs which
node (kept from reports that held up, core.claims), never by a hostname alone. One
retire per minion at a time: a repeated event returns at once instead of holding a
reactor thread for the grace period again. When a node was removed, the join tokens
are rotated: the departed host knew them.

``prune`` (runner ``swarm.prune``, by hand) removes Down nodes gone for good: a
rebuilt host's old twin, or a node whose minion has no key any more; it is the one
place a manager's node is removed (demoted first, quorum kept).
"""

from __future__ import annotations

import logging
import re
import time

import salt.cache

from salt_swarm import salt_internals
from salt_swarm.core import prune as prune_logic
from salt_swarm.core.errors import SwarmError
from salt_swarm.master.fleet import BANK, Fleet, active_managers
from salt_swarm.master.targets import pillar_managers

log = logging.getLogger(__name__)

RETIRING = "retiring"  # master cache key: minion -> when its retire began (epoch seconds)
RETIRING_NODES = "retiring_nodes"  # the same for node ids (retire_nodes)
NODE_ID = re.compile(r"^[a-z0-9]{25}$")  # Docker's node ids
PING_TIMEOUT = 3


def really_lost(fleet: Fleet, minions: list[str]) -> tuple[list[str], dict[str, str]]:
    """(minions the master sees gone, minion -> why it is not taken as lost)."""
    accepted = fleet.accepted()
    keyed = [m for m in minions if m in accepted]
    connected = salt_internals.connected_minions(fleet.opts, keyed) if keyed else set()
    asked = [m for m in keyed if m not in connected]
    answered = set()
    if asked:
        ret = fleet.client.cmd(asked, "test.ping", tgt_type="list", timeout=PING_TIMEOUT)
        answered = {m for m, v in (ret or {}).items() if v is True}
    alive = {m: "connected to the master" for m in connected}
    alive |= {m: "answers test.ping" for m in answered}
    return [m for m in minions if m not in alive], alive


def _claim(
    fleet: Fleet, minions: list[str], seconds: float, key: str = RETIRING
) -> tuple[list[str], list[str]]:
    """Mark ``minions`` (or node ids, under ``key``) as being retired: (those marked
    now, those already under way)."""
    cache = salt.cache.factory(fleet.opts)
    now = time.time()
    current = cache.fetch(BANK, key)
    current = current if isinstance(current, dict) else {}
    running = {m for m, at in current.items() if isinstance(at, int | float) and now - at < seconds}
    mine = [m for m in minions if m not in running]
    kept = {m: at for m, at in current.items() if m in running}
    cache.store(BANK, key, {**kept, **{m: now for m in mine}})
    return mine, sorted(set(minions) & running)


def _release(fleet: Fleet, minions: list[str], key: str = RETIRING) -> None:
    cache = salt.cache.factory(fleet.opts)
    current = cache.fetch(BANK, key)
    if isinstance(current, dict):
        cache.store(BANK, key, {m: at for m, at in current.items() if m not in minions})


def retire(fleet: Fleet, minions: list[str], conf: dict, grace: float, down_wait: float) -> dict:
    """Drain the lost minions' nodes now, remove those still not Ready after ``grace``
    (and up to ``down_wait`` more for Docker to mark them Down), then rotate the join
    tokens if any was removed. ``conf``: the ``swarm:`` pillar."""
    lost, alive = really_lost(fleet, minions)
    out = {"drained": [], "removed": [], "kept_ready": [], "refused": []}
    if alive:
        out["not_lost"] = alive
        log.warning("swarm.retire: not retiring %s: the master sees them up", sorted(alive))
    if not lost:
        out["comment"] = "none of these minions is gone: nothing to do"
        return out
    lost, under_way = _claim(fleet, lost, grace + down_wait + 120)
    if under_way:
        out["under_way"] = under_way
    if not lost:
        out["comment"] = "a retire of these minions is already under way"
        return out
    try:
        return _retire(fleet, lost, conf, grace, down_wait, out)
    finally:
        _release(fleet, lost)


def _retire(fleet, lost, conf, grace, down_wait, out) -> dict:
    managers = [m for m in pillar_managers(fleet) if m not in lost]
    infos, _ = fleet.infos(managers) if managers else ({}, set())
    manager, nodes = fleet.nodes_from(active_managers(infos, managers))
    fleet.remember(infos, nodes)
    record = fleet.record()
    theirs = {n.id: n for n in nodes if record.get(n.id) in lost}
    out["manager"] = manager
    if not theirs:
        out["comment"] = "no swarm node belongs to these minions (by the master's record)"
        return out
    return _drain_then_remove(fleet, manager, managers, theirs, grace, down_wait, out)


def retire_nodes(fleet: Fleet, node_ids: list, grace: float, down_wait: float) -> dict:
    """Worker nodes down in the managers' own list (the swarm beacon's ``node/changed``
    to ``down``): drained now, removed when still not Ready after ``grace``. Whoever
    fired the event, its word is not taken: the list is read here, from pillar's
    managers. A manager, a Ready node or a node not listed is left alone (under
    ``not_retired``, with why)."""
    bad = [n for n in node_ids if not isinstance(n, str) or not NODE_ID.match(n)]
    if bad or not node_ids:
        raise SwarmError(f"nodes: expected Docker node ids, got {bad or node_ids!r}")
    out = {"drained": [], "removed": [], "kept_ready": [], "refused": []}
    managers = pillar_managers(fleet)
    infos, _ = fleet.infos(managers) if managers else ({}, set())
    manager, nodes = fleet.nodes_from(active_managers(infos, managers))
    out["manager"] = manager
    listed = {n.id: n for n in nodes}
    skipped, down = {}, {}
    for node_id in dict.fromkeys(node_ids):
        node = listed.get(node_id)
        if node is None:
            skipped[node_id] = "not in the managers' list"
        elif node.is_manager:
            skipped[node_id] = f"{node.hostname} is a manager: never removed automatically"
        elif node.status == "ready":
            skipped[node_id] = f"{node.hostname} is Ready"
        else:
            down[node_id] = node
    if skipped:
        out["not_retired"] = skipped
    if not down:
        out["comment"] = "no listed worker node is down: nothing to do"
        return out
    mine, under_way = _claim(fleet, list(down), grace + down_wait + 120, RETIRING_NODES)
    if under_way:
        out["under_way"] = under_way
    if not mine:
        out["comment"] = "a retire of these nodes is already under way"
        return out
    try:
        theirs = {i: down[i] for i in mine}
        return _drain_then_remove(fleet, manager, managers, theirs, grace, down_wait, out)
    finally:
        _release(fleet, mine, RETIRING_NODES)


def _drain_then_remove(fleet, manager, managers, theirs, grace, down_wait, out) -> dict:
    """Drain ``theirs`` (node id -> NodeView) now; after ``grace`` remove those still
    not Ready (waiting up to ``down_wait`` for Docker to mark them Down); rotate the
    join tokens when any was removed."""
    for node in theirs.values():
        if node.availability != "drain":
            fleet.call(manager, "swarm.node_update", [node.id], availability="drain")
    out["drained"] = sorted(n.hostname for n in theirs.values())
    time.sleep(grace)  # the grace period itself, asked for by pillar
    deadline = time.monotonic() + float(down_wait)
    pending = dict(theirs)
    while pending:
        current = {n.id: n for n in fleet.nodes_from([manager])[1]}
        for node_id in list(pending):
            node = current.get(node_id)
            if node is None:
                pending.pop(node_id)
            elif node.status != "ready":
                try:
                    fleet.call(manager, "swarm.remove_node", [node_id])
                    out["removed"].append(node.hostname)
                except SwarmError as exc:  # quorum: keep going with the others
                    out["refused"].append(f"{node.hostname}: {exc}")
                pending.pop(node_id)
        if pending and time.monotonic() > deadline:
            out["kept_ready"] = sorted(n.hostname for n in pending.values())
            break
        if pending:
            time.sleep(1)
    if out["removed"]:
        out["tokens_rotated"] = rotate_tokens(fleet, manager, managers)
    return out


def rotate_tokens(fleet: Fleet, manager: str, managers: list[str]) -> bool:
    """New join tokens through ``manager`` (members are not affected), then every
    answering manager sends its mine entries again, so joiners get the new ones."""
    fleet.call(manager, "swarm.update", rotate_worker_token=True, rotate_manager_token=True)
    if managers:
        fleet.client.cmd(managers, "swarm.mine_refresh", tgt_type="list", timeout=fleet.timeout)
    return True


def cluster(fleet: Fleet):
    """(manager asked, nodes) from pillar's managers; every minion's report about its
    own node checked against them and, where it holds up, recorded."""
    infos, _ = fleet.infos(tgt="*")
    manager, nodes = fleet.nodes_from(active_managers(infos, pillar_managers(fleet)))
    fleet.remember(infos, nodes)
    return manager, nodes


def prune(fleet: Fleet, test: bool) -> dict:
    """``{manager, removed, refused, kept}`` (and ``tokens_rotated`` after a gone
    minion's node went); raises SwarmError when no manager can be asked."""
    manager, nodes = cluster(fleet)
    found, kept = prune_logic.candidates(nodes, fleet.record(), fleet.accepted())
    result = {"manager": manager, "removed": [], "refused": [], "kept": kept}
    for cand in found:
        entry = cand.as_dict()
        try:
            res = fleet.call(manager, "swarm.remove_node", [cand.node.id], test=test)
            entry["steps"] = res["steps"]
            result["removed"].append(entry)
        except SwarmError as exc:
            entry["error"] = str(exc)
            result["refused"].append(entry)
    gone = [e for e in result["removed"] if e["reason"].startswith("minion ")]
    if gone and not test:
        # The departed hosts knew the join tokens.
        result["tokens_rotated"] = rotate_tokens(fleet, manager, pillar_managers(fleet))
    return result
