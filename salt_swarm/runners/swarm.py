"""Docker Swarm runner: cluster-wide views and plans, run on the master.

.. code-block:: bash

    salt-run swarm.plan managers='{tgt: "manager*"}' workers='{tgt: "worker*"}'
"""

import logging

import salt.client
import salt.utils.minions
from salt.exceptions import SaltInvocationError

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


def plan(managers=None, workers=None, timeout=10):
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
        return _plan(managers, workers, timeout)
    except (SwarmError, SaltInvocationError) as exc:
        # A clean message and a non-zero retcode, not a traceback (salt-run exits
        # with a returned ``retcode``); orchestrate SLS files check for ``error``.
        __context__["retcode"] = 1
        return {"error": str(exc), "retcode": 1}


def _plan(managers, workers, timeout):
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
    for warning in result.warnings:
        log.warning("swarm.plan: %s", warning)
    return result.as_dict()
