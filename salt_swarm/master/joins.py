"""Joins driven by the master (the orchestrate): the first manager's init, then
members joining with the join data the master already holds.

A minion that joins through the mine asks the master for the managers' entries
itself (``mine.get``: one request per minion, which the master answers by checking
every entry's ``allow_tgt``). Here the master reads its own mine cache once, seals
the role's token to each joining minion's accepted key, bound to the role, the job
and a few minutes (salt_swarm.core.sealed), and publishes one ``swarm.join`` to all
of them: the job's arguments, and so the job cache and every minion that sees the
publish, only ever hold sealed tokens. With the fileserver backend ``swarm_formula``
the publish holds only a reference and each joiner fetches its own sealed token
(core/sealed_pull.py): the bytes grow with the joiners, not with their square. Only the managers' own entries are read
(pillar's managers, passed in): a minion may store anything under its own id.
"""

from __future__ import annotations

import time

import salt.utils.jid

from salt_swarm import salt_internals
from salt_swarm.core import mine_data, sealed, sealed_pull
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import check_role, redact
from salt_swarm.master import checks, sealed_store

MINE_ADDR = mine_data.MINE_ADDR
MINE_TOKEN = mine_data.MINE_TOKEN
JOIN_TIMEOUT = 90  # a manager join may wait on Raft under load; Docker's own limit is 20 s


def join_data(opts, managers, role, addr_function=None, token_function=None):
    """``{managers, tokens, source}`` from the master's mine cache, ``role``'s token
    taken from the first of ``managers`` that has a real one; None when none has."""
    check_role(role)
    addr_function = addr_function or MINE_ADDR
    token_function = token_function or MINE_TOKEN[role]
    addrs, tokens = {}, {}
    for minion, entries in salt_internals.cached_mine(opts, managers).items():
        addrs[minion] = salt_internals.mine_entry_data(entries.get(addr_function))
        tokens[minion] = salt_internals.mine_entry_data(entries.get(token_function))
    return mine_data.usable(addrs, tokens, role, prefer=list(managers))


def sealed_tokens(opts, members, token, binding: sealed.Binding) -> dict[str, str]:
    """minion id -> ``token`` sealed to that minion's accepted key, with ``binding``."""
    out, missing = {}, []
    for minion in members:
        pub = salt_internals.accepted_public_key(opts, minion)
        if not pub:
            missing.append(minion)
            continue
        out[minion] = sealed.seal(pub, token, binding)
    if missing:
        raise SwarmError(f"no accepted minion key to seal the join token to: {', '.join(missing)}")
    return out


def _answers(ret: dict, members, fun: str) -> tuple[dict, dict]:
    """(minion -> return, minion -> error text) from a full_return publish."""
    done, failed = {}, {}
    for minion in members:
        data = ret.get(minion)
        if not isinstance(data, dict):
            failed[minion] = f"no answer to {fun}"
        elif data.get("retcode", 0) != 0 or not isinstance(data.get("ret"), dict):
            failed[minion] = redact(data.get("ret"))
        else:
            done[minion] = data["ret"]
    return done, failed


def join_members(
    fleet,
    members,
    role,
    managers,
    availability=None,
    mine_update=False,
    addr_function=None,
    token_function=None,
    timeout=JOIN_TIMEOUT,
    settle=None,
):
    """Join ``members`` (minion ids) as ``role`` in one publish, through the managers
    whose entries the master's mine holds (``managers``, the one to take tokens
    from first). Returns ``{through, done, failed}``: minion -> ``swarm.join``'s
    return, minion -> error. Raises SwarmError before any change when the mine has
    no usable entry or a member has no accepted key.

    ``settle`` (``{nodes, hostnames, known}``: the plan's node settings, minion ids'
    hostnames, and the ids of nodes the members' hostnames have now): the settings are applied beside the joins, by the manager whose
    entries gave the tokens, which labels the members' nodes as they appear; the
    return then has ``settled`` (``swarm.settle``'s return, or ``{error}``)."""
    check_role(role)
    members = list(members)
    found = join_data(fleet.opts, managers, role, addr_function, token_function)
    if found is None:
        raise SwarmError(
            f"the master's mine holds no address and {role} join token of an active manager "
            f"among {', '.join(managers)}: has the first manager sent its mine entries "
            "(swarm.mine_refresh), and does mine_functions hold "
            f"{token_function or MINE_TOKEN[role]}?"
        )
    jid = salt.utils.jid.gen_jid(fleet.opts)
    binding = sealed.Binding(role=role, jid=jid, expires=int(time.time()) + sealed.TTL)
    tokens = sealed_tokens(fleet.opts, members, found["tokens"][role], binding)
    if sealed_store.available(fleet.opts):  # each joiner fetches its own: O(1) per publish
        sealed_store.keep(fleet.opts, jid, tokens, binding.expires)
        tokens = sealed_pull.reference(jid)
    kwarg = {"role": role, "managers": found["managers"], "sealed_token": tokens}
    if availability:
        kwarg["availability"] = availability
    if mine_update:
        kwarg["mine_update"] = True
    if role == "manager":
        kwarg["unlock"] = True  # a manager locked since its daemon restarted
    pending = _start_settle(fleet, found["source"], settle, members, timeout) if settle else None
    ret = fleet.client.cmd(
        members,
        "swarm.join",
        kwarg=kwarg,
        tgt_type="list",
        timeout=timeout,
        full_return=True,
        jid=jid,
    )
    done, failed = _answers(ret, members, "swarm.join")
    result = {"through": found["source"], "done": done, "failed": failed}
    if pending and not failed:  # with failures the step fails; the settings can wait
        result["settled"] = _finish_settle(fleet, pending, settle, managers, timeout)
    return result


def _start_settle(fleet, manager, settle, members, timeout):
    """Publish ``swarm.settle`` to ``manager`` without waiting: it waits for the
    members' nodes itself. The job's returns are kept for ``_finish_settle``."""
    hostnames = settle.get("hostnames") or {}
    known = settle.get("known") or {}  # a rebuilt host's old node is not the one to wait for
    joining = [hostnames.get(m, m) for m in members]
    kwarg = {
        "nodes": settle["nodes"],
        "wait": timeout,
        "wait_for": {h: list(known.get(h) or []) for h in joining},
        "list_after": True,
    }
    pub = fleet.client.run_job([manager], "swarm.settle", tgt_type="list", kwarg=kwarg, listen=True)
    return (pub or {}).get("jid"), manager


def _finish_settle(fleet, pending, settle, managers, timeout):
    """The settings job's return; when it failed or did not answer, the settings
    through any manager now (``checks.settle``)."""
    jid, manager = pending
    if jid:
        for ret in fleet.client.get_iter_returns(jid, {manager}, timeout=timeout):
            body = (ret or {}).get(manager)
            if body is None:
                continue
            if body.get("retcode", 0) == 0 and isinstance(body.get("ret"), dict):
                return {"manager": manager, **body["ret"]}
            break
    try:
        return checks.settle(fleet, settle["nodes"], managers, list_after=True)
    except SwarmError as exc:
        return {"error": str(exc)}


def init_first(fleet, minion, options=None, timeout=JOIN_TIMEOUT):
    """``swarm.init`` on ``minion`` with ``options`` (a no-op on a manager; a locked
    one is unlocked with its pillar key first), its mine entries sent before it
    returns: ``swarm.init``'s return."""
    kwarg = {k: v for k, v in (options or {}).items() if v is not None}
    return fleet.call(minion, "swarm.init", timeout=timeout, mine_update=True, unlock=True, **kwarg)
