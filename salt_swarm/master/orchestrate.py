"""The orchestrate's steps, run on the master: the first manager, the joins, the node
settings and the final check. The states of the same names (salt_swarm/states) only
hand their arguments over and return what these return (Salt's state return).

Steps of one run pass data on through a ``RunRecord`` (kept by the state module in
``__context__``, the one place an orchestrate's states share): the node ids the init
and joins returned, and the node list the settings step read after its changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from salt.exceptions import SaltInvocationError

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.state_returns import fail as _fail
from salt_swarm.core.state_returns import new as _ret
from salt_swarm.master import checks, joins, progress
from salt_swarm.master.fleet import Fleet


@dataclass
class RunRecord:
    """What the steps of one orchestrate run leave for the later ones."""

    joined: dict = field(default_factory=dict)  # minion -> node id its init or join returned
    settled: dict | None = None  # {manager, rows}: the node list read after the settings


@progress.reported("step")
def first_manager(fleet: Fleet, record: RunRecord, name, minion, options, availability, test):
    ret = _ret(name)
    kwargs = dict(options or {})
    if availability:
        kwargs["availability"] = availability
    try:
        if test:
            res = fleet.call(minion, "swarm.init", test=True, unlock=True, **kwargs)
        else:
            res = joins.init_first(fleet, minion, kwargs)
    except SwarmError as exc:
        return _fail(ret, f"swarm init on {minion} failed: {exc}")
    ret["comment"] = f"{minion}: {res['comment']}"
    if res.get("unlocked"):  # a manager already: unlocked, not made
        ret["changes"]["unlocked"] = minion
    elif res["changed"]:
        new = {"state": "active manager"}
        if not test:
            new.update(node_id=res["node_id"], cluster_id=res["cluster_id"])
            record.joined[minion] = res["node_id"]
        ret["changes"][minion] = {"old": "in no swarm", "new": new}
    if test:
        ret["comment"] += "; its mine entries would be sent to the master"
        if ret["changes"]:
            ret["result"] = None
    else:
        ret["comment"] += "; its mine entries are on the master"
    return ret


@progress.reported("step")
def members_joined(fleet: Fleet, record: RunRecord, name, members, role, managers, test, **how):
    """``how``: availability, mine_update, addr_function, token_function, settle."""
    ret = _ret(name)
    members = [members] if isinstance(members, str) else list(members or [])
    if not members:
        ret["comment"] = "no member to join"
        return ret
    names = {"addr_function": how.get("addr_function"), "token_function": how.get("token_function")}
    listed = ", ".join(members)
    if test:
        try:
            found = joins.join_data(fleet.opts, managers, role, **names)
        except SwarmError as exc:
            return _fail(ret, str(exc))
        ret["result"] = None
        ret["changes"] = {m: {"new": role} for m in members}
        through = (
            f"through {found['source']}'s mine entries"
            if found
            else "once a manager's mine entries are on the master"
        )
        ret["comment"] = f"would join {listed} as {role} {through}"
        return ret
    try:
        got = joins.join_members(
            fleet,
            members,
            role,
            managers,
            how.get("availability"),
            how.get("mine_update", False),
            **names,
            settle=how.get("settle"),
        )
    except SwarmError as exc:
        return _fail(ret, f"joining {listed} as {role} failed before any change: {exc}")
    for minion, res in sorted(got["done"].items()):
        if res.get("changed"):
            ret["changes"][minion] = {"new": role, "node_id": res.get("node_id")}
            record.joined[minion] = res.get("node_id")
        if res.get("unlocked"):  # locked since its daemon restarted
            ret["changes"].setdefault(minion, {})["unlocked"] = True
    parts = []
    joined = [m for m, change in ret["changes"].items() if "new" in change]
    if joined:
        parts.append(f"joined as {role} through {got['through']}'s entries: {', '.join(joined)}")
    unlocked = [m for m, change in ret["changes"].items() if change.get("unlocked")]
    if unlocked:
        parts.append(f"unlocked with swarm:unlock_key: {', '.join(unlocked)}")
    in_place = sorted(set(got["done"]) - set(joined))
    if in_place:
        parts.append(f"already {role}s: {', '.join(in_place)}")
    if got["failed"]:
        ret["result"] = False
        parts.append(
            "FAILED: " + "; ".join(f"{m}: {why}" for m, why in sorted(got["failed"].items()))
        )
    if "settled" in got:
        parts.append(_settled_note(ret, record, got["settled"]))
    ret["comment"] = "; ".join(parts)
    return ret


def _settled_note(ret, record: RunRecord, settled):
    """The node settings applied beside the joins, into ``ret``; a line for the comment."""
    if settled.get("error"):
        ret["result"] = False
        return f"node settings FAILED: {settled['error']}"
    changed = dict(settled.get("nodes") or {})
    if settled.get("removed"):
        changed["removed"] = [
            {"hostname": r["hostname"], "id": r.get("id") or r.get("ids")}
            for r in settled["removed"]
        ]
    if changed:
        ret["changes"]["node settings"] = changed
    if settled.get("listed") is not None:
        record.settled = {"manager": settled["manager"], "rows": settled["listed"]}
    if settled.get("missing"):
        return f"node settings through {settled['manager']}, not yet for {', '.join(settled['missing'])}"
    count = len(settled.get("nodes") or {})
    return f"node settings through {settled['manager']}: {count} node(s) changed"


@progress.reported("step")
def settled(fleet: Fleet, record: RunRecord, name, nodes, managers, wait, test):
    ret = _ret(name)
    try:
        found = checks.settle(fleet, nodes, managers, test=test, wait=wait, list_after=not test)
    except (SwarmError, SaltInvocationError) as exc:
        error = str(exc)
        if test:  # the joins before this step did not run either
            ret["result"] = None
            ret["comment"] = f"would apply the settings of {len(nodes)} node(s); now: {error}"
            return ret
        return _fail(ret, f"node settings failed: {error}")
    if found["removed"]:
        ret["changes"]["removed"] = [
            {"hostname": r["hostname"], "id": r.get("id") or r.get("ids")} for r in found["removed"]
        ]
    ret["changes"].update(found["nodes"])
    if found.get("listed") is not None:
        # The check that follows in this run starts from this list (swarm.conforms).
        record.settled = {"manager": found["manager"], "rows": found["listed"]}
    through = f"through {found['manager']}"
    if not ret["changes"]:
        ret["comment"] = f"{len(nodes)} node(s) as wanted ({through})"
    elif test:
        ret["result"] = None
        ret["comment"] = f"would change {', '.join(sorted(ret['changes']))} ({through})"
    else:
        ret["comment"] = f"changed {', '.join(sorted(ret['changes']))} ({through})"
    return ret


@progress.reported("done")
def conforms(
    fleet: Fleet | None,
    record: RunRecord,
    name,
    check_args: dict,
    wait,
    seen,
    test,
    run_check: Callable[[dict], dict],
):
    """``fleet`` is given with ``check_args["expect"]`` (the plan): the check runs in
    this process; without it ``run_check`` (the ``swarm.check`` runner) plans first."""
    ret = _ret(name)
    if isinstance(seen, dict) and seen.get("differences") == []:
        ret["comment"] = (
            f"the swarm is as pillar says (seen by the plan through {seen.get('manager')}; "
            "nothing had to change)"
        )
        return ret
    expect = check_args.get("expect")
    deadline = time.monotonic() + float(wait)
    settled = None
    if expect:
        settled, record.settled = record.settled, None
    if settled:
        # First look: the node list the settings step read after its changes.
        fleet.listed[settled["manager"]] = settled["rows"]
    while True:
        found = _check_once(fleet, expect, check_args, record.joined if expect else None, run_check)
        if not isinstance(found, dict) or "differences" not in found:
            return _fail(ret, f"swarm.check gave no answer: {found!r}")
        from_settings = bool(settled) and found.get("manager") == settled["manager"]
        if fleet is not None:
            fleet.listed.clear()  # any further look asks a manager again
        settled = None
        if found["result"]:
            if expect:
                record.joined.clear()
            how = "on the node list the settings step read" if from_settings else "checked"
            ret["comment"] = f"the swarm is as pillar says ({how} through {found['manager']})"
            return ret
        if test:
            ret["result"] = None
            ret["comment"] = "differs from pillar now (earlier steps would change it):\n" + (
                "\n".join(found["differences"])
            )
            return ret
        if time.monotonic() >= deadline:
            return _fail(ret, "the swarm differs from pillar:\n" + "\n".join(found["differences"]))
        time.sleep(0.5)


def _check_once(fleet, expect, args, joined, run_check):
    """One ``swarm.check``: against the plan's ``expect`` in this process, else through
    the runner (which plans first)."""
    if fleet is None:
        return run_check(args)
    try:
        return checks.check_expected(fleet, expect, joined)
    except SwarmError as exc:
        return {"result": False, "differences": [str(exc)], "warnings": [], "manager": None}
