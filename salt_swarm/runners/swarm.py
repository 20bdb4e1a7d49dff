"""Docker Swarm runner: cluster-wide views, plans and checks, run on the master.

Role targets, labels and ``drain_managers`` default to the ``swarm:`` pillar as
the master's orchestrate sees it (the same pillar ``swarm.bootstrap`` renders with).

.. code-block:: bash

    salt-run swarm.status
    salt-run swarm.check
    salt-run swarm.plan managers='{tgt: "manager*"}' workers='{tgt: "worker*"}'
"""

import logging
import time

import salt.client
import salt.pillar
import salt.utils.minions
from salt.exceptions import CommandExecutionError, SaltInvocationError

from salt_swarm.core import conformance
from salt_swarm.core import plan as plan_logic
from salt_swarm.core import status as status_report
from salt_swarm.core.cluster import node_view
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


def _swarm_pillar():
    """The ``swarm:`` pillar compiled for the master's own id, as orchestrate renders it."""
    pillar = salt.pillar.get_pillar(
        __opts__,
        {},
        __opts__["id"],
        saltenv=__opts__.get("saltenv") or "base",
        pillarenv=__opts__.get("pillarenv"),
    ).compile_pillar()
    conf = pillar.get("swarm")
    return conf if isinstance(conf, dict) else {}


def _roles(managers, workers, labels, drain_managers):
    """Arguments given win; the rest come from pillar (and the formula's defaults)."""
    if managers is None or workers is None or labels is None or drain_managers is None:
        conf = _swarm_pillar()
        managers = conf.get("managers") if managers is None else managers
        workers = conf.get("workers") if workers is None else workers
        labels = conf.get("labels", []) if labels is None else labels
        drain_managers = (
            conf.get("drain_managers", True) if drain_managers is None else drain_managers
        )
    if not managers:
        raise SaltInvocationError("managers: no target given and pillar swarm:managers is empty")
    return managers, workers or None, labels or [], drain_managers


def _infos(minions, timeout, tgt="", tgt_type="list"):
    """minion -> swarm.info (None where it failed), and the set of minions that answered."""
    if tgt_type == "list" and not minions:
        return {}, set()
    client = salt.client.get_local_client(__opts__["conf_file"])
    ret = client.cmd(
        tgt or list(minions), "swarm.info", tgt_type=tgt_type, timeout=timeout, full_return=True
    )
    infos = {}
    for minion, data in ret.items():
        ok = isinstance(data, dict) and data.get("retcode", 0) == 0
        infos[minion] = data.get("ret") if ok and isinstance(data.get("ret"), dict) else None
    return infos, set(ret)


def _nodes_from(candidates, timeout):
    """The node list from the first of ``candidates`` (active managers) that answers."""
    client = salt.client.get_local_client(__opts__["conf_file"])
    failures = []
    for manager in candidates:
        ret = client.cmd(manager, "swarm.nodes", timeout=timeout, full_return=True).get(manager)
        if isinstance(ret, dict) and ret.get("retcode", 0) == 0 and isinstance(ret["ret"], list):
            return manager, [node_view(_api_shape(n)) for n in ret["ret"]]
        failures.append(f"{manager}: {ret.get('ret') if isinstance(ret, dict) else 'no answer'}")
    raise SwarmError(
        "no active manager could list the nodes"
        + (": " + "; ".join(failures) if failures else " (none found among the minions)")
    )


def _api_shape(row):
    """swarm.nodes rows back into the Docker API's node shape that node_view reads."""
    manager = None
    if row["role"] == "manager":
        manager = {"Reachability": row["reachability"], "Leader": row["leader"]}
    return {
        "ID": row["id"],
        "Spec": {"Role": row["role"], "Availability": row["availability"], "Labels": row["labels"]},
        "Status": {"State": row["status"], "Addr": row["addr"]},
        "ManagerStatus": manager,
        "Description": {
            "Hostname": row["hostname"],
            "Engine": {"EngineVersion": row["engine_version"]},
        },
    }


def _active_managers(infos, prefer=()):
    active = [m for m, i in infos.items() if i and i["state"] == "active" and i["manager"]]
    return sorted(active, key=lambda m: (m not in prefer, m))


def _fail(message):
    __context__["retcode"] = 1
    return {"error": message, "retcode": 1}


def status(timeout=10):
    """
    The swarm as one table: minion id, hostname, role, manager status (leader,
    reachable, unreachable), availability, status, address, labels and engine
    version per node, then a quorum line (managers, reachable, needed, failures
    tolerated). Every minion is asked for ``swarm.info``; the nodes come from an
    active manager (pillar's managers first). ``--out=json`` (or any ``--out``)
    gives the same as data: ``{nodes: [...], quorum: {...}}``.

    CLI Example:

    .. code-block:: bash

        salt-run swarm.status
        salt-run swarm.status --out=json
    """
    try:
        data = _status(timeout)
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(str(exc))
    if __opts__.get("fun") != "swarm.status" or __opts__.get("output"):
        return data  # called by code, or the user chose an outputter
    # salt-run swarm.status with no --out: the table (Salt's data + outputter form)
    return {"outputter": "swarm_status", "data": data}


def _status(timeout):
    infos, _ = _infos(None, timeout, tgt="*", tgt_type="glob")
    prefer = ()
    try:
        conf = _swarm_pillar()
        if conf.get("managers"):
            prefer = _matched(*_target(conf["managers"], "managers"))[0]
    except SaltInvocationError:
        pass
    _, nodes = _nodes_from(_active_managers(infos, prefer), timeout)
    minion_by_node = {i["node_id"]: m for m, i in infos.items() if i and i.get("node_id")}
    return status_report.report(nodes, minion_by_node)


def check(managers=None, workers=None, labels=None, drain_managers=None, timeout=10):
    """
    Compare the swarm with pillar: every member in the swarm, Ready, with its role,
    availability (managers drained when ``drain_managers``) and labels; no node
    pillar does not name; manager count and quorum health. Returns ``result`` (True
    when nothing differs), ``differences`` (one line each), ``warnings`` and
    ``manager`` (the one asked). On any difference salt-run exits with 1. The
    arguments default to the ``swarm:`` pillar.

    CLI Example:

    .. code-block:: bash

        salt-run swarm.check
        salt-run swarm.check managers='{tgt: swarmmanager, tgt_type: nodegroup}' workers='{tgt: swarmworker, tgt_type: nodegroup}'
    """
    try:
        managers, workers, labels, drain_managers = _roles(
            managers, workers, labels, drain_managers
        )
        result = _check(managers, workers, labels, drain_managers, timeout)
    except (SwarmError, SaltInvocationError) as exc:
        result = {"result": False, "differences": [str(exc)], "warnings": [], "manager": None}
    if not result["result"]:
        __context__["retcode"] = 1
        result["retcode"] = 1
    return result


def _check(managers, workers, labels, drain_managers, timeout):
    planned, infos = _plan_with_infos(managers, workers, labels, drain_managers, timeout)
    if not planned["existing_cluster"]:
        raise SwarmError("no manager pillar names is active in a swarm: run swarm.bootstrap")
    members = [planned["first_manager"], *planned["managers"]]
    manager, nodes = _nodes_from(_active_managers({m: infos[m] for m in members}), timeout)
    wanted = conformance.Wanted(
        managers=members,
        workers=planned["workers"],
        hostnames={m: infos[m]["hostname"] for m in members + planned["workers"]},
        nodes=planned["nodes"],
    )
    found = conformance.differences(wanted, nodes)
    for line in found:
        log.warning("swarm.check: %s", line)
    return {
        "result": not found,
        "differences": found,
        "warnings": planned["warnings"],
        "manager": manager,
    }


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
        return _plan_with_infos(managers, workers, labels, drain_managers, timeout)[0]
    except (SwarmError, SaltInvocationError) as exc:
        # A clean message and a non-zero retcode, not a traceback (salt-run exits
        # with a returned ``retcode``); orchestrate SLS files check for ``error``.
        return _fail(str(exc))


def _plan_with_infos(managers, workers, labels, drain_managers, timeout):
    m_tgt, m_type = _target(managers, "managers")
    wanted_managers, m_missing = _matched(m_tgt, m_type)
    if workers:
        w_tgt, w_type = _target(workers, "workers")
        wanted_workers, w_missing = _matched(w_tgt, w_type)
    else:
        wanted_workers, w_missing = [], []
    everyone = sorted(set(wanted_managers) | set(wanted_workers))
    infos, live = _infos(everyone, timeout)
    result = plan_logic.bootstrap(
        wanted_managers, wanted_workers, live, infos, unknown=m_missing + w_missing
    )
    planned = result.as_dict()
    planned["nodes"] = _node_settings(result, infos, labels or [], drain_managers)
    for warning in result.warnings:
        log.warning("swarm.plan: %s", warning)
    return planned, infos


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
