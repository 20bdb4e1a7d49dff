"""Docker Swarm runner: cluster-wide views and plans, run on the master.

.. code-block:: bash

    salt-run swarm.plan managers='{tgt: "manager*"}' workers='{tgt: "worker*"}'
"""

import logging
import time

import salt.client
import salt.utils.minions
from salt.exceptions import CommandExecutionError, SaltInvocationError

from salt_swarm.core import plan as plan_logic
from salt_swarm.core.errors import SwarmError

log = logging.getLogger(__name__)

__virtualname__ = "swarm"

TARGET_TYPES = ("glob", "pcre", "list", "grain", "grain_pcre", "pillar", "compound", "nodegroup")


def __virtual__():
    return __virtualname__


def _target(spec, role):
    """``{tgt, tgt_type}`` (or a plain glob string) -> (tgt, tgt_type), checked."""
    if isinstance(spec, str):
        spec = {"tgt": spec}
    if not isinstance(spec, dict) or not spec.get("tgt"):
        raise SaltInvocationError(
            f"{role}: expected a target such as {{tgt: 'manager*', tgt_type: glob}}, got {spec!r}"
        )
    tgt_type = spec.get("tgt_type", "glob")
    if tgt_type not in TARGET_TYPES:
        raise SaltInvocationError(
            f"{role}: tgt_type {tgt_type!r} is not one of {', '.join(TARGET_TYPES)}"
        )
    return spec["tgt"], tgt_type


def _matched(tgt, tgt_type):
    found = salt.utils.minions.CkMinions(__opts__).check_minions(tgt, tgt_type)
    return sorted(found.get("minions", [])), sorted(found.get("missing", []))


def plan(managers=None, workers=None, labels=None, drain_managers=True, timeout=10):
    """
    Check the swarm roles and plan a bootstrap, changing nothing.

    ``managers`` and ``workers`` are Salt targets: ``{tgt: ..., tgt_type: ...}``
    (glob, pcre, list, grain, grain_pcre, pillar, compound, nodegroup) or a glob
    string. Every matched minion is asked for ``swarm.info``. Refused, with every
    problem listed: no manager, a minion in both roles, unknown or silent minions,
    managers already in two different swarms: then the return is
    ``{error: ..., retcode: 1}`` and salt-run exits with 1. Otherwise it returns ``first_manager`` (an
    active manager when the swarm exists, else the first by id), ``managers`` (the
    others, to join one at a time), ``workers``, ``warnings`` (even or more than
    seven managers) and ``existing_cluster``.

    CLI Example:

    .. code-block:: bash

        salt-run swarm.plan managers='{tgt: "manager*"}' workers='{tgt: swarmworker, tgt_type: nodegroup}'
    """
    try:
        return _plan(managers, workers, labels, drain_managers, timeout)
    except (SwarmError, SaltInvocationError) as exc:
        # A clean message and a non-zero retcode, not a traceback (salt-run exits
        # with a returned ``retcode``); orchestrate SLS files check for ``error``.
        __context__["retcode"] = 1
        return {"error": str(exc), "retcode": 1}


def _plan(managers, workers, labels, drain_managers, timeout):
    m_tgt, m_type = _target(managers, "managers")
    wanted_managers, m_missing = _matched(m_tgt, m_type)
    if workers:
        w_tgt, w_type = _target(workers, "workers")
        wanted_workers, w_missing = _matched(w_tgt, w_type)
    else:
        wanted_workers, w_missing = [], []
    everyone = sorted(set(wanted_managers) | set(wanted_workers))
    infos, live = {}, set()
    if everyone:
        client = salt.client.get_local_client(__opts__["conf_file"])
        ret = client.cmd(everyone, "swarm.info", tgt_type="list", timeout=timeout, full_return=True)
        for minion, data in ret.items():
            ok = isinstance(data, dict) and data.get("retcode", 0) == 0
            infos[minion] = data.get("ret") if ok and isinstance(data.get("ret"), dict) else None
        live = set(ret)
    result = plan_logic.bootstrap(
        wanted_managers, wanted_workers, live, infos, unknown=m_missing + w_missing
    )
    planned = result.as_dict()
    planned["nodes"] = _node_settings(result, infos, labels or [], drain_managers)
    for warning in result.warnings:
        log.warning("swarm.plan: %s", warning)
    return planned


def _node_settings(result, infos, labels, drain_managers):
    """hostname -> {availability, labels} for every member, from the role and label targets."""
    members = [result.first_manager, *result.managers, *result.workers]
    managers = {result.first_manager, *result.managers}
    wanted = {m: {"labels": {}} for m in members}
    if not isinstance(labels, list):
        raise SaltInvocationError("labels: expected a list of {tgt, tgt_type, labels}")
    for rule in labels:
        tgt, tgt_type = _target(rule, "labels")
        if not isinstance(rule.get("labels"), dict):
            raise SaltInvocationError(f"labels: the rule for {tgt!r} has no labels mapping")
        for minion in _matched(tgt, tgt_type)[0]:
            if minion in wanted:
                wanted[minion]["labels"].update(rule["labels"])
    nodes = {}
    for minion in members:
        node = {"labels": wanted[minion]["labels"]}
        node["availability"] = "drain" if drain_managers and minion in managers else "active"
        nodes[infos[minion]["hostname"]] = node
    return nodes


def wait_mine(minions, function="swarm.manager_addr", timeout=30):
    """
    Wait until the master's mine holds a non-empty ``function`` entry for every one
    of ``minions`` (``mine.update`` is fire-and-forget). Returns the entries; raises
    after ``timeout`` seconds naming the minions still missing.

    CLI Example:

    .. code-block:: bash

        salt-run swarm.wait_mine '[manager1]'
    """
    if isinstance(minions, str):
        minions = [m for m in minions.split(",") if m]
    deadline = time.monotonic() + float(timeout)
    while True:
        found = __salt__["mine.get"](",".join(minions), function, tgt_type="list") or {}
        missing = [m for m in minions if not found.get(m)]
        if not missing:
            return found
        if time.monotonic() > deadline:
            raise CommandExecutionError(
                f"the mine has no {function} entry for {', '.join(missing)} after {timeout} s"
            )
        time.sleep(0.2)
