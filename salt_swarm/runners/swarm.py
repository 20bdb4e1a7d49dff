"""Docker Swarm runner: cluster-wide views, plans and checks, run on the master.

Role targets, labels and ``drain_managers`` not given default to the ``swarm:``
pillar as the master's orchestrate sees it (the same pillar ``swarm.bootstrap``
renders with); ``swarm.plan`` takes them as arguments or as ``settings`` instead.

.. code-block:: bash

    salt-run swarm.status
    salt-run swarm.check
    salt-run swarm.plan managers='{tgt: "manager*"}' workers='{tgt: "worker*"}'
"""

import logging
import time

from salt.exceptions import CommandExecutionError, SaltInvocationError

from salt_swarm import salt_internals
from salt_swarm.core import status as status_report
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.minion_ids import check_minion_list
from salt_swarm.core.settings import default
from salt_swarm.master import (
    checks,
    departures,
    inspection,
    maintenance_fleet,
    newcomers,
    planning,
    recovery,
    targets,
)
from salt_swarm.master.fleet import Fleet, active_managers

log = logging.getLogger(__name__)

__virtualname__ = "swarm"

TARGET_TYPES = targets.TARGET_TYPES


def __virtual__():
    too_old = salt_internals.unsupported_salt()
    if too_old:
        return False, f"swarm runner: {too_old}"
    return __virtualname__


def _target(spec, role):
    return targets.target(spec, role)


def _fleet(timeout=10):
    return Fleet(__opts__, timeout=float(timeout))


def _matched(tgt, tgt_type):
    return _fleet().matched(tgt, tgt_type)


def _roles(managers, workers, labels, drain_managers, fleet=None):
    """Arguments given win; the rest come from pillar (and the formula's defaults)."""
    if managers is None or workers is None or labels is None or drain_managers is None:
        conf = (fleet or _fleet()).swarm_pillar()
        managers = conf.get("managers") if managers is None else managers
        workers = conf.get("workers") if workers is None else workers
        labels = conf.get("labels", []) if labels is None else labels
        drain_managers = (
            conf.get("drain_managers", default("drain_managers"))
            if drain_managers is None
            else drain_managers
        )
    if not managers:
        raise SaltInvocationError("managers: no target given and pillar swarm:managers is empty")
    return managers, workers or None, labels or [], drain_managers


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

    timeout
        Seconds to wait for the minions' answers to each call (default 10).

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
    fleet = _fleet(timeout)
    _, nodes = departures.cluster(fleet)
    return status_report.report(nodes, fleet.record())


def _pillar_managers(fleet):
    return targets.pillar_managers(fleet)


def check(managers=None, workers=None, labels=None, drain_managers=None, expect=None, timeout=10):
    """
    Compare the swarm with pillar: every member in the swarm, Ready, with its role,
    availability (managers drained when ``drain_managers``) and labels; no node
    pillar does not name; manager count and quorum health. A member whose minion or
    dockerd does not answer is a difference of its own, and its node (through the
    node record) is compared like the others. Returns ``result`` (True
    when nothing differs), ``differences`` (one line each), ``warnings`` and
    ``manager`` (the one asked). On any difference salt-run exits with 1. The
    arguments default to the ``swarm:`` pillar. ``expect`` (what ``swarm.plan``
    returned: ``first_manager``, ``managers``, ``workers``, ``hostnames``, ``nodes``)
    skips asking every member for ``swarm.info``: the orchestrate passes it.

    managers, workers
        Salt targets as for ``swarm.plan``; default pillar ``swarm:managers`` and
        ``swarm:workers``.
    labels
        Label rules ``[{tgt, tgt_type, labels}]``; default pillar ``swarm:labels``.
    drain_managers
        Whether managers should be drained; default pillar ``swarm:drain_managers``,
        else True.
    timeout
        Seconds to wait for the minions' answers to each call (default 10).

    CLI Example:

    .. code-block:: bash

        salt-run swarm.check
        salt-run swarm.check managers='{tgt: swarmmanager, tgt_type: nodegroup}' workers='{tgt: swarmworker, tgt_type: nodegroup}'
    """
    try:
        if expect:
            result = _check_expected(expect, timeout)
        else:
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


def _check_expected(expect, timeout):
    return checks.check_expected(_fleet(timeout), expect)


def _check(managers, workers, labels, drain_managers, timeout):
    return inspection.check(_fleet(timeout), managers, workers, labels, drain_managers)


def plan(managers=None, workers=None, labels=None, drain_managers=True, settings=None, timeout=10):
    """
    Check the swarm roles and plan a bootstrap, changing nothing.

    ``managers`` and ``workers`` are Salt targets: ``{tgt: ..., tgt_type: ...}``
    (glob, pcre, list, grain, grain_pcre, pillar, compound, nodegroup), a glob
    string or a list of minion ids. ``settings`` is the whole ``swarm:`` pillar (the
    orchestrate passes it): then every key is checked first and the role arguments
    come from it; with neither ``managers`` nor ``settings`` the master's own
    ``swarm:`` pillar is the settings. Every matched minion runs ``swarm.preflight`` (its ``swarm.info``
    and its own address and dockerd checks). Refused, with every problem listed: a
    bad pillar key, no manager, a minion in both roles, unknown or silent minions,
    a member whose address or dockerd fails, managers already in two different
    swarms, a role change that would break quorum: then the return is
    ``{error: ..., retcode: 1}`` and salt-run exits with 1. Otherwise it returns
    ``first_manager`` (an active manager when the swarm exists, else the first by
    id), ``managers`` (the others, to join one at a time), ``workers``,
    ``warnings`` (even or more than seven managers), ``existing_cluster``,
    ``to_join``, ``stale``, ``promote``, ``demote``, ``nodes``, ``hostnames``,
    ``unsettled`` and ``known_nodes`` (the ids of nodes the joining members'
    hostnames have now: a rebuilt host's old node); when all of those lists are empty, also ``seen``: the
    conformance check made on the node list the plan read (``differences``,
    ``manager``), which the orchestrate's last step uses instead of asking again.

    managers, workers
        The role targets; without ``managers`` (and no ``settings``) the plan is
        made for the ``swarm:`` pillar; without ``workers`` the swarm has
        managers only.
    labels
        Label rules ``[{tgt, tgt_type, labels}]``, as pillar ``swarm:labels``.
    drain_managers
        Managers get availability ``drain`` (default True).
    timeout
        Seconds to wait for the minions' answers to each call (default 10).

    CLI Example:

    .. code-block:: bash

        salt-run swarm.plan
        salt-run swarm.plan managers='{tgt: "manager*"}' workers='{tgt: swarmworker, tgt_type: nodegroup}'
    """
    try:
        if settings is None and managers is None:
            settings = _fleet(timeout).swarm_pillar()
        if settings is not None:
            return planning.from_settings(_fleet(timeout), settings)
        return planning.plan(_fleet(timeout), managers, workers, labels, drain_managers)
    except (SwarmError, SaltInvocationError) as exc:
        # A clean message and a non-zero retcode, not a traceback (salt-run exits
        # with a returned ``retcode``); orchestrate SLS files check for ``error``.
        return _fail(str(exc))


def settle(nodes, managers=None, test=False, wait=60, timeout=10):
    """
    Bring the nodes to their settings through one manager: ``nodes`` maps hostname
    to ``{role, availability, labels}`` (what ``swarm.plan`` returns as ``nodes``).
    The first of ``managers`` (default: pillar's managers) whose dockerd says it is
    an active manager runs ``swarm.settle``: stale twins removed, promotions,
    then demotions (quorum-checked), availability and labels. Returns ``manager``,
    ``removed`` and ``nodes`` (the changes); ``test=True`` changes nothing. On an
    error: ``{error: ..., retcode: 1}``. ``wait``: seconds the manager waits for a
    rebuilt host's old node to go Down (default 60).

    timeout
        Seconds to wait for the minions' answers to each call (default 10).

    CLI Example:

    .. code-block:: bash

        salt-run swarm.settle nodes='{worker1: {role: worker, labels: {zone: a}}}' test=True
    """
    try:
        return checks.settle(_fleet(timeout), nodes, managers, test, wait, timeout)
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(str(exc))


def wait_mine(minions, function="swarm.manager_addr", timeout=30):
    """
    Wait until the master's mine holds a non-empty ``function`` entry for every one
    of ``minions`` (``mine.update`` is fire-and-forget; ``swarm.mine_refresh`` is not). Returns the entries; raises
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


def prune(test=False, timeout=10):
    """
    Remove Down nodes that are gone for good: a node with a Ready twin of the same
    hostname (a rebuilt host), or a node whose minion has no accepted key any more
    (matched through the master's record of which minion ran which node, else by
    hostname); after removing such a node the join tokens are rotated (the departed
    host knew them). Workers go first; a manager is demoted first and only when that
    keeps quorum, else it is left and named. Down nodes whose minion still has a key
    stay (listed under ``kept``). ``test=True`` shows the plan. Run it by hand: it is
    the one place a manager's Down twin is removed.

    timeout
        Seconds to wait for the minions' answers to each call (default 10).

    CLI Example:

    .. code-block:: bash

        salt-run swarm.prune test=True
        salt-run swarm.prune
    """
    try:
        result = departures.prune(_fleet(timeout), bool(test))
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(str(exc))
    if result["refused"]:
        __context__["retcode"] = 1
    return result


def rebalance(test=False, wait=120, timeout=10):
    """
    Spread replicated services whose tasks sit unevenly (after nodes joined) by
    force-updating them through an active manager, then wait up to ``wait`` seconds
    for the updates. Global services are never touched. ``test=True`` shows, per
    service, the tasks per node and whether it would be updated.

    timeout
        Seconds to wait for the minions' answers to each call (default 10); the
        rebalance call itself gets ``wait`` seconds more.

    CLI Example:

    .. code-block:: bash

        salt-run swarm.rebalance test=True
    """
    fleet = _fleet(timeout)
    try:
        infos, _ = fleet.infos(tgt="*")
        managers = active_managers(infos, _pillar_managers(fleet))
        if not managers:
            raise SwarmError("no active manager among the minions")
        return fleet.call(
            managers[0],
            "swarm.rebalance",
            test=bool(test),
            wait=float(wait),
            timeout=float(wait) + float(timeout),
        )
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(str(exc))


def join_minion(minion, timeout=10, event_tag=None):
    """
    Bring one minion into the swarm by its pillar role (what the reactor runs when a
    minion starts): join it through the mine when it is not an active member with
    that role, then apply its availability (managers drained when
    ``drain_managers``) and labels to its new node through an active manager. Never
    creates a swarm: with no active manager it does nothing. A minion in no role,
    or already an active member with its role, changes nothing (a start event never
    undoes an operator's drain or label change). ``event_tag``: the start event's
    tag, which must name ``minion`` (the reactor passes it; a forged tag naming
    another minion is refused). The minion needs an accepted key, and its report
    about its node must hold up against the managers' list (docs/security.md).

    timeout
        Seconds to wait for the minions' answers to each call (default 10); the
        join itself gets 120 seconds.

    CLI Example:

    .. code-block:: bash

        salt-run swarm.join_minion worker7
    """
    fleet = _fleet(timeout)
    try:
        return newcomers.join_minion(fleet, minion, event_tag)
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(f"join_minion {minion!r}: {exc}")


def retire(minions=None, grace=None, down_wait=60, timeout=5, event_tag=None, nodes=None):
    """
    Take lost minions' nodes out of the swarm (what the reactor runs on presence
    ``lost`` and key deletion): only minions the master itself sees gone (no
    accepted key, or not connected and not answering a ping) are retired; the
    others are listed under ``not_lost``. Each lost minion's nodes (by the master's
    record of which minion runs which node) are drained now; after ``grace``
    seconds (pillar ``swarm:lost_grace``, default 300) those still not Ready are
    removed, waiting up to ``down_wait`` more seconds for Docker to mark them Down,
    and the join tokens are rotated (the departed host knew them). A manager is
    demoted first, only when that keeps quorum. A node that is Ready again after
    the grace period is kept. A minion already being retired is skipped
    (``under_way``). ``event_tag``: the event that asked (for the log).

    minions
        Minion ids: a list, or a comma-separated string.
    nodes
        Instead of ``minions``: Docker node ids of worker nodes (what the swarm
        beacon's ``node/changed`` events carry). Those the managers list as not
        Ready are drained and, still not Ready after ``grace``, removed, whether or
        not their minion answers (its dockerd stays down). Managers, Ready nodes
        and nodes not listed are left alone, under ``not_retired``.
    timeout
        Seconds to wait for the minions' answers to each call (default 5).

    CLI Example:

    .. code-block:: bash

        salt-run swarm.retire '[worker3]' grace=60
        salt-run swarm.retire nodes='[o1x2...]'
    """
    if (minions is None) == (nodes is None):
        return _fail("retire: give minions or nodes")
    if nodes is not None:
        return _retire_nodes(nodes, grace, down_wait, timeout, event_tag)
    try:
        minions = check_minion_list(minions)
    except SwarmError as exc:
        return _fail(f"retire: {exc}")
    if event_tag is not None:
        log.info("swarm.retire: %r asked by event %r", minions, event_tag)
    fleet = _fleet(timeout)
    try:
        conf = fleet.swarm_pillar()
        return departures.retire(fleet, minions, conf, _grace(conf, grace), float(down_wait))
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(f"retire {', '.join(map(repr, minions))}: {exc}")


def _grace(conf, grace):
    return float(conf.get("lost_grace", default("lost_grace")) if grace is None else grace)


def _retire_nodes(nodes, grace, down_wait, timeout, event_tag):
    if event_tag is not None:
        log.info("swarm.retire: nodes %r asked by event %r", nodes, event_tag)
    fleet = _fleet(timeout)
    try:
        nodes = nodes if isinstance(nodes, list) else [nodes]
        return departures.retire_nodes(
            fleet, nodes, _grace(fleet.swarm_pillar(), grace), float(down_wait)
        )
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(f"retire nodes {nodes!r}: {exc}")


def recover(timeout=10, wait=60):
    """
    Guided recovery after the swarm lost quorum. Refuses when a manager can still
    list the nodes (quorum is there). Otherwise: the first pillar manager whose
    dockerd answers becomes a one-manager swarm keeping all state
    (``force_new_cluster``); the managers that are down are demoted and removed from
    it; pillar managers whose dockerd answers are made to leave their broken swarm
    and join again as managers. Managers still down are listed: start their
    dockerd, then run ``swarm.bootstrap`` (they join again). Returns every step.

    timeout
        Seconds to wait for the minions' answers to each call (default 10).
    wait
        Seconds the force-new-cluster may take, and then to wait for the survivor
        to list the nodes (default 60).

    CLI Example:

    .. code-block:: bash

        salt-run swarm.recover
    """
    steps = []
    try:
        return recovery.recover(_fleet(timeout), float(wait), steps)
    except (SwarmError, SaltInvocationError) as exc:
        return dict(_fail(str(exc)), steps=steps)


def maintain(
    tgt,
    sls=None,
    fun=None,
    arg=None,
    kwarg=None,
    tgt_type="glob",
    batch=None,
    test=False,
    fresh=False,
    budget_wait=None,
    drain_wait=None,
    up_wait=None,
    expect_down=False,
    timeout=10,
):
    """
    Rolling maintenance over the swarm members ``tgt`` matches: each node in turn is
    drained, waited for until its tasks run elsewhere, maintained (``state.apply
    <sls>``, or the execution function ``fun`` with ``arg``/``kwarg``), waited for
    until it is back Ready (its dockerd may restart, the host may reboot), given its
    pillar availability again (managers drained when ``drain_managers``), and
    waited for until its share of tasks runs again. Workers go first, ``batch`` at
    a time; managers one at a time, the leader last. A step starts only when quorum
    survives it and every service keeps its disruption budget (pillar
    ``swarm:budget``), waiting up to ``budget_wait`` seconds for that. A failure
    stops the run and leaves the node drained, saying which node, at which stage
    and why (salt-run exits with 1); the same command again resumes with that node
    (the progress is kept in the master cache). ``test=True`` gives the order and
    what each step's checks find now. Each stage prints a line as it goes (unless
    ``--out`` is given: the output stays one document), and fires
    ``salt/swarm/progress/maintain/<stage>`` (``salt-run swarm.watch`` follows it).

    tgt, tgt_type
        The minions to maintain (a glob by default); matched minions in no swarm
        are listed under ``not_members`` and left alone.
    sls, fun, arg, kwarg
        The maintenance on each node: ``state.apply sls``, or the execution
        function ``fun`` with ``arg`` (a list) and ``kwarg`` (a mapping). It fails
        where it returns a non-zero retcode or a failed state.
    batch
        Workers maintained at once (default 1); managers always go one by one.
    budget_wait
        Seconds a step may wait for quorum and the budgets to allow it (default 60).
    fresh
        Forget an unfinished run of another target or action (its nodes stay as
        they are).
    drain_wait, up_wait
        Seconds for a drained node's tasks to run elsewhere; for the node to be back
        after the action, and again for its tasks.
    expect_down
        The action takes the node down and returns before it goes (a reboot, e.g.
        ``fun=system.reboot arg='[1]'``, which reboots a minute later): wait, up to
        ``up_wait``, until its minion no longer reports an active member, then for
        it to come back.
    timeout
        Seconds to wait for the minions' answers to each call (default 10); the
        action gets ``up_wait``.

    CLI Example:

    .. code-block:: bash

        salt-run swarm.maintain 'worker*' sls=patch test=True
        salt-run swarm.maintain '*' fun=pkg.upgrade batch=2
        salt-run swarm.maintain '*' fun=cmd.run arg='["systemctl restart docker"]'
        salt-run swarm.maintain 'worker*' fun=system.reboot arg='[1]' expect_down=True
    """
    try:
        report = maintenance_fleet.run_from_arguments(
            _fleet(timeout),
            tgt,
            tgt_type,
            test,
            sls=sls,
            fun=fun,
            arg=arg,
            kwarg=kwarg,
            batch=batch,
            fresh=fresh,
            budget_wait=budget_wait,
            drain_wait=drain_wait,
            up_wait=up_wait,
            expect_down=expect_down,
            echo=_progress_line,
        )
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(f"maintain: {exc}")
    if report["result"] is False:
        __context__["retcode"] = 1
        report["retcode"] = 1
    return report


def _progress_line(text):
    """A line salt-run prints while the runner still works; none when the caller
    chose an outputter (``--out=json`` stays one document) or called it as code."""
    if __opts__.get("output") or not str(__opts__.get("fun", "")).startswith("swarm."):
        log.info("%s", text)
        return
    try:
        __jid_event__.fire_event({"message": text, "outputter": "swarm_progress"}, "progress")
    except NameError:  # called as code, not through salt-run
        log.info("%s", text)


def watch(timeout=3600, end=None):
    """
    Follow a running ``swarm.bootstrap`` orchestrate or ``swarm.maintain`` from
    another terminal: a line per step (or maintenance stage) as the master's
    progress events come (``salt/swarm/progress/...``: step, result, minions joined),
    until the bootstrap's final check, or the maintenance is done or stopped; then
    the swarm as ``swarm.status`` shows it. With ``--out`` given, only the status
    comes out, once the run ends.

    timeout
        Seconds to follow at most (default 3600); the status table comes either way.
    end
        Stop at this event instead (``bootstrap/done``, ``maintain/done``,
        ``maintain/stopped``); by default the first of them.

    CLI Example:

    .. code-block:: bash

        salt-run state.orchestrate swarm.bootstrap &
        salt-run swarm.watch
    """
    import salt.utils.event

    from salt_swarm.master import progress

    ends = (end,) if end else progress.ENDS
    deadline = time.monotonic() + float(timeout)
    seen = 0
    with salt.utils.event.get_master_event(__opts__, __opts__["sock_dir"], listen=True) as bus:
        bus.subscribe(progress.PREFIX)
        _progress_line(f"following {progress.PREFIX}* until {' or '.join(ends)}")
        while time.monotonic() < deadline:
            event = bus.get_event(wait=1, tag=progress.PREFIX, full=True)
            if not event:
                continue
            seen += 1
            _progress_line(progress.line(event["tag"], event.get("data") or {}))
            if event["tag"][len(progress.PREFIX) :] in ends:
                break
        else:
            _progress_line(f"stopped following after {float(timeout):g} s")
    try:
        data = _status(10)
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(f"watch: {seen} progress event(s); then: {exc}")
    if __opts__.get("fun") != "swarm.watch" or __opts__.get("output"):
        return data
    return {"outputter": "swarm_status", "data": data}
