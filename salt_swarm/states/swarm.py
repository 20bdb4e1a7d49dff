"""Docker Swarm states: membership of this node, and nodes and settings seen from a manager.

Every state honours ``test=True`` (it reads, predicts the changes and touches
nothing), reports real ``changes``, and is a no-op when run again. Join tokens and
unlock keys never appear in a state's return.

.. code-block:: yaml

    first manager:
      swarm.initialized:
        - advertise_addr: eth0
        - default_addr_pool: [10.20.0.0/16]

    join as worker:
      swarm.worker:
        - advertise_addr: 10.0.0.0/24

    drain manager2:
      swarm.node:
        - name: manager2
        - availability: drain
        - labels: {zone: a}
"""

import logging

from salt.exceptions import CommandExecutionError, SaltInvocationError

from salt_swarm.core.errors import NoManagerYet, SwarmError
from salt_swarm.core.state_returns import fail as _fail
from salt_swarm.core.state_returns import new as _ret

log = logging.getLogger(__name__)

__virtualname__ = "swarm"
# What the orchestrate steps of one run leave for the later ones (master/orchestrate.py).
RUN_RECORD = "salt_swarm.run_record"


def __virtual__():
    if "swarm.info" not in __salt__:
        return (False, "swarm state: the swarm execution module is not available")
    return __virtualname__


def _refresh_mine(ret, what):
    """After a change on a manager: its mine entries to the master, stored before we go on."""
    try:
        __salt__["swarm.mine_refresh"]()
    except CommandExecutionError as exc:
        ret["result"] = False
        ret["comment"] += (
            f"; {what}, but sending its mine entries failed: {exc} (run swarm.mine_refresh)"
        )
        return
    ret["comment"] += "; mine entries sent"


def _describe(info):
    if info["state"] != "active":
        return info["state"]
    return "manager" if info["manager"] else "worker"


def _would_unlock(ret):
    ret["result"] = None
    ret["comment"] = "the manager is locked and would be unlocked with swarm:unlock_key"
    return ret


def _unlock_if_locked(ret, test):
    """A locked manager (autolock, daemon restarted) is unlocked with the pillar key first."""
    info = __salt__["swarm.info"]()
    if info["state"] != "locked":
        return info
    if test:
        ret["changes"]["unlocked"] = True
        return info
    __salt__["swarm.unlock"]()
    ret["changes"]["unlocked"] = True
    return __salt__["swarm.info"]()


def initialized(
    name,
    advertise_addr=None,
    listen_addr=None,
    data_path_addr=None,
    data_path_port=None,
    default_addr_pool=None,
    subnet_size=None,
    autolock=False,
    availability="active",
    mine_update=False,
):
    """
    Make sure this node manages a swarm: initialize a new one here when the node is in
    none. With ``mine_update: True`` a new swarm's manager address and tokens are
    sent to the master's mine (``swarm.mine_refresh``) before the state returns. A node that already manages a swarm is left as it is (use ``swarm.settings``
    to change cluster settings); a worker is an error. A locked manager is first
    unlocked with ``swarm:unlock_key`` from pillar. Arguments are those of
    ``swarm.init``; addresses take an IP, an interface name or a CIDR.

    advertise_addr, listen_addr, data_path_addr
        The node's addresses; ``advertise_addr`` and ``listen_addr`` default to
        ``swarm:advertise_addr`` and ``swarm:listen_addr`` (else Docker picks the
        address, and ``0.0.0.0:2377``).
    data_path_port, default_addr_pool, subnet_size, autolock
        Options of a new swarm (see ``swarm.init``); not compared or changed on a
        swarm that exists.
    availability
        ``active`` (default), ``pause`` or ``drain`` for this node, when it
        initializes the swarm.

    CLI Example:

    .. code-block:: bash

        salt manager1 state.single swarm.initialized name=swarm advertise_addr=eth0
    """
    ret = _ret(name)
    test = __opts__["test"]
    try:
        before = _unlock_if_locked(ret, test)
        if before["state"] == "locked":  # only in test mode
            return _would_unlock(ret)
        res = __salt__["swarm.init"](
            advertise_addr=advertise_addr,
            listen_addr=listen_addr,
            data_path_addr=data_path_addr,
            data_path_port=data_path_port,
            default_addr_pool=default_addr_pool,
            subnet_size=subnet_size,
            autolock=autolock,
            availability=availability,
            test=test,
        )
    except CommandExecutionError as exc:
        return _fail(ret, f"swarm init on {__grains__.get('id', 'this node')} failed: {exc}")
    ret["comment"] = res["comment"]
    if res["changed"]:
        new = {"state": "active manager"}
        if not test:
            new.update(node_id=res["node_id"], cluster_id=res["cluster_id"], address=res["address"])
        ret["changes"]["swarm"] = {"old": _describe(before), "new": new}
        if mine_update and not test:
            _refresh_mine(ret, "the swarm is initialized")
    if test and ret["changes"]:
        ret["result"] = None
    return ret


def _joined(name, role, mine_update=False, **kwargs):
    ret = _ret(name)
    test = __opts__["test"]
    try:
        before = _unlock_if_locked(ret, test) if role == "manager" else __salt__["swarm.info"]()
        if before["state"] == "locked":
            if test and role == "manager":
                return _would_unlock(ret)
            return _fail(ret, "this node is a locked manager; unlock it (swarm:unlock_key)")
        if test:
            kwargs["mine_timeout"] = 0
        res = __salt__["swarm.join"](role=role, test=test, **kwargs)
    except CommandExecutionError as exc:
        if test and isinstance(exc.__cause__, NoManagerYet):
            ret["result"] = None
            ret["comment"] = f"would join as {role} once a manager is in the mine ({exc})"
            ret["changes"]["swarm"] = {"old": _describe(before), "new": role}
            return ret
        node = __grains__.get("id", "this node")
        return _fail(ret, f"joining {node} as {role} failed: {exc}")
    ret["comment"] = res["comment"]
    if res["changed"]:
        change = {"old": _describe(before), "new": role}
        ret["changes"]["swarm"] = change
        if not test:
            ret["changes"]["node_id"] = res["node_id"]
            if mine_update and role == "manager":
                _refresh_mine(ret, "the node joined")
    if test and ret["changes"]:
        ret["result"] = None
    return ret


def manager(
    name,
    managers=None,
    token=None,
    advertise_addr=None,
    listen_addr=None,
    data_path_addr=None,
    availability=None,
    force=False,
    mine_timeout=None,
    mine_update=False,
):
    """
    Make sure this node is a manager of the swarm: join as manager through
    ``managers`` or, without them, through the managers and token found in the mine
    (waiting up to ``mine_timeout`` seconds). ``token`` may come from pillar or sdb
    instead of the mine; it never appears in the state's return. A locked manager is unlocked with
    ``swarm:unlock_key`` from pillar. A worker of the swarm is an error: promote it
    from a manager (``swarm.node`` with ``role: manager``). With ``mine_update: True``
    a manager that joined sends its mine entries to the master before returning.

    advertise_addr, listen_addr, data_path_addr, availability
        As for ``swarm.join``: addresses take an IP, an interface name or a CIDR
        (defaults ``swarm:advertise_addr`` and ``swarm:listen_addr``);
        ``availability`` (``active``, ``pause`` or ``drain``) is set as it joins.
    force
        A node active in another swarm leaves it first; without it, that is an error.

    CLI Example:

    .. code-block:: bash

        salt manager2 state.single swarm.manager name=swarm advertise_addr=eth0
    """
    return _joined(
        name,
        "manager",
        mine_update=mine_update,
        managers=managers,
        token=token,
        advertise_addr=advertise_addr,
        listen_addr=listen_addr,
        data_path_addr=data_path_addr,
        availability=availability,
        force=force,
        mine_timeout=mine_timeout,
    )


def worker(
    name,
    managers=None,
    token=None,
    advertise_addr=None,
    listen_addr=None,
    data_path_addr=None,
    availability=None,
    force=False,
    mine_timeout=None,
):
    """
    Make sure this node is a worker of the swarm, joining through ``managers`` or the
    mine as ``swarm.manager`` does. A manager of the swarm is an error: demote it from
    a manager (``swarm.node`` with ``role: worker``).

    managers, token
        Manager addresses and the worker join token; whatever is missing is read
        from the mine, waiting up to ``mine_timeout`` seconds (default 60). A
        ``token`` never appears in the state's return.
    advertise_addr, listen_addr, data_path_addr, availability, force
        As for ``swarm.manager``.

    CLI Example:

    .. code-block:: bash

        salt worker1 state.single swarm.worker name=swarm
    """
    return _joined(
        name,
        "worker",
        managers=managers,
        token=token,
        advertise_addr=advertise_addr,
        listen_addr=listen_addr,
        data_path_addr=data_path_addr,
        availability=availability,
        force=force,
        mine_timeout=mine_timeout,
    )


def store_joined(
    name,
    role,
    store=None,
    wait=None,
    election_ttl=None,
    advertise_addr=None,
    listen_addr=None,
    data_path_addr=None,
    availability=None,
):
    """
    Make sure this node is a ``manager`` or ``worker`` of the swarm whose join data
    live in a token store (``store``, default pillar ``swarm:token_store``), with no
    salt-master needed: ``salt-call --local state.apply swarm`` at boot. With nothing
    published yet, the managers hold an election in the store and the winner
    initializes the swarm; everyone else waits for the data and joins. Node labels
    from grains (``swarm:grain_labels``) are published, and applied by managers.
    Tokens never appear in the return. See ``swarm.store_join``.

    role
        ``manager`` or ``worker``.
    wait
        Seconds to wait for the join data (default ``swarm:store_timeout``, else 300).
    election_ttl
        Seconds of the election record's lease on etcd (default
        ``swarm:election_ttl``, else 20); on other stores, after how long a record
        whose node never published is taken over (default never).
    advertise_addr, listen_addr, data_path_addr, availability
        As for ``swarm.store_join``.

    CLI Example:

    .. code-block:: bash

        salt-call --local state.single swarm.store_joined name=swarm role=worker
    """
    ret = _ret(name)
    test = __opts__["test"]
    try:
        before = _unlock_if_locked(ret, test) if role == "manager" else __salt__["swarm.info"]()
        if before["state"] == "locked" and test:
            return _would_unlock(ret)
        res = __salt__["swarm.store_join"](
            role=role,
            store=store,
            wait=wait,
            election_ttl=election_ttl,
            advertise_addr=advertise_addr,
            listen_addr=listen_addr,
            data_path_addr=data_path_addr,
            availability=availability,
            test=test,
        )
    except CommandExecutionError as exc:
        node = __grains__.get("id", "this node")
        return _fail(ret, f"{node} as {role} through the token store: {exc}")
    return _store_join_ret(ret, res, before, role, test)


def _store_join_ret(ret, res, before, role, test):
    """The state's return from ``swarm.store_join``'s: membership, store and labels."""
    ret["comment"] = res["comment"]
    if res["action"] != "none" and res["changed"]:
        ret["changes"]["swarm"] = {"old": _describe(before), "new": role}
        if res["action"] == "init":
            ret["changes"]["swarm"]["initialized"] = True
    if res["store"]:
        ret["changes"]["store"] = sorted(set(res["store"]))
    if res["labels"]:
        ret["changes"]["labels"] = res["labels"]
    if test and ret["changes"]:
        ret["result"] = None
    return ret


def left(name, force=False):
    """
    Make sure this node is in no swarm. A manager is demoted first (refused when that
    breaks quorum); the last manager leaves only with ``force: True``.

    CLI Example:

    .. code-block:: bash

        salt worker3 state.single swarm.left name=swarm
    """
    ret = _ret(name)
    test = __opts__["test"]
    try:
        before = __salt__["swarm.info"]()
        res = __salt__["swarm.leave"](force=force, test=test)
    except CommandExecutionError as exc:
        return _fail(ret, f"leaving the swarm on {__grains__.get('id', 'this node')} failed: {exc}")
    ret["comment"] = res["comment"]
    if res["changed"]:
        ret["changes"]["swarm"] = {"old": _describe(before), "new": "inactive"}
        if test:
            ret["result"] = None
    return ret


def node(
    name,
    availability=None,
    role=None,
    labels=None,
    labels_mode="merge",
    labels_remove=None,
    labels_owned=None,
    force=False,
):
    """
    Make sure the swarm node ``name`` (hostname or node id) has this availability,
    role and labels. Run on a manager. Demotion is refused when it breaks quorum
    unless ``force: True``.

    availability
        ``active``, ``pause`` or ``drain``.
    role
        ``manager`` or ``worker``.
    labels
        Mapping of label keys to values.
    labels_mode
        ``merge`` (default) keeps labels not listed; ``replace`` removes them.
    labels_remove
        Label keys to remove.
    labels_owned
        Globs of label keys owned by ``swarm:grain_labels``: such labels not in
        ``labels`` are removed (labels follow grain changes).

    CLI Example:

    .. code-block:: bash

        salt manager1 state.single swarm.node name=worker1 labels='{zone: a}'
    """
    ret = _ret(name)
    test = __opts__["test"]
    args = dict(
        availability=availability,
        role=role,
        labels=labels,
        labels_mode=labels_mode,
        labels_remove=labels_remove,
        labels_owned=labels_owned,
        force=force,
    )
    try:
        changes = __salt__["swarm.node_update"](name, test=test, **args)
    except CommandExecutionError as exc:
        return _fail(ret, f"node {name}: {exc}")
    ret["changes"] = changes
    if not changes:
        ret["comment"] = f"node {name} is as wanted"
    elif test:
        ret["result"] = None
        ret["comment"] = f"node {name} would be updated"
    else:
        ret["comment"] = f"node {name} updated"
    return ret


def node_absent(name, force=False):
    """
    Make sure the node ``name`` (hostname or node id) is not in the swarm. Run on a
    manager. A node that is still up is refused unless ``force: True``; a manager
    is demoted first, refused when that breaks quorum.

    CLI Example:

    .. code-block:: bash

        salt manager1 state.single swarm.node_absent name=worker3
    """
    ret = _ret(name)
    test = __opts__["test"]
    try:
        present = [n for n in __salt__["swarm.nodes"]() if name in (n["id"], n["hostname"])]
        if not present:
            ret["comment"] = f"node {name} is not in the swarm"
            return ret
        res = __salt__["swarm.remove_node"](name, force=force, test=test)
    except CommandExecutionError as exc:
        return _fail(ret, f"node {name}: {exc}")
    ret["changes"]["node"] = {"old": {"id": res["id"], "hostname": res["hostname"]}, "new": None}
    ret["changes"]["steps"] = res["steps"]
    ret["comment"] = f"node {name} {'would be' if test else 'was'} {' and '.join(res['steps'])}"
    if test:
        ret["result"] = None
    return ret


def twins_pruned(name):
    """
    Make sure no Down node shares its hostname with a Ready one: the stale node a
    rebuilt host leaves when it joins again is removed (a manager demoted first).
    Run on a manager; ``name`` is only a label.

    CLI Example:

    .. code-block:: bash

        salt manager1 state.single swarm.twins_pruned name=twins
    """
    ret = _ret(name)
    test = __opts__["test"]
    try:
        stale = __salt__["swarm.prune_twins"](test=test)
    except CommandExecutionError as exc:
        return _fail(ret, f"stale twins: {exc}")
    if not stale:
        ret["comment"] = "no stale twin nodes"
        return ret
    ret["changes"]["removed"] = [
        {"id": s.get("id") or s.get("ids"), "hostname": s["hostname"]} for s in stale
    ]
    names = ", ".join(f"{s['hostname']} ({s.get('id') or ', '.join(s['ids'])})" for s in stale)
    if test:
        ret["result"] = None
        ret["comment"] = f"stale twin nodes would be removed: {names}"
    else:
        ret["comment"] = f"removed stale twin nodes: {names}"
    return ret


def refused(name, reason):
    """
    Fail with ``reason`` as the comment, in a real run and with ``test=True`` alike,
    changing nothing: how the formula reports input it refuses (a refused plan, a
    bad ``swarm:engine`` setting) before any step runs.

    name
        What was refused (the state's name).
    reason
        Why, and what to change.

    CLI Example:

    .. code-block:: bash

        salt-call state.single swarm.refused name='swarm plan' reason='no managers'
    """
    return _fail(_ret(name), str(reason))


def settings(
    name,
    autolock=None,
    cert_expiry=None,
    task_history_limit=None,
    snapshot_interval=None,
    heartbeat_period=None,
    rotate_worker_token=False,
    rotate_manager_token=False,
    rotate_unlock_key=False,
):
    """
    Make sure the swarm's settings are as given (settings left out stay as they
    are). Run on a manager. ``rotate_*`` replace that secret on every run where they
    are true: use them in an orchestrate step or with ``onchanges``, not in highstate.
    When autolock turns on, read the new key with ``swarm.unlock_key`` and keep it in
    pillar ``swarm:unlock_key``; it is never shown here. Arguments are those of
    ``swarm.update``.

    autolock
        True or False.
    cert_expiry
        Node certificate lifetime: ``90d``, ``2160h`` or seconds (at least 1h).
    task_history_limit
        Task history kept per service slot.
    snapshot_interval
        Raft log entries between snapshots.
    heartbeat_period
        Node heartbeat period (``5s``).
    rotate_worker_token, rotate_manager_token, rotate_unlock_key
        Replace that secret with a new one, on every run where true.

    CLI Example:

    .. code-block:: bash

        salt manager1 state.single swarm.settings name=swarm autolock=True cert_expiry=30d
    """
    ret = _ret(name)
    test = __opts__["test"]
    try:
        changes = __salt__["swarm.update"](
            autolock=autolock,
            cert_expiry=cert_expiry,
            task_history_limit=task_history_limit,
            snapshot_interval=snapshot_interval,
            heartbeat_period=heartbeat_period,
            rotate_worker_token=rotate_worker_token,
            rotate_manager_token=rotate_manager_token,
            rotate_unlock_key=rotate_unlock_key,
            test=test,
        )
    except CommandExecutionError as exc:
        return _fail(ret, f"swarm settings: {exc}")
    ret["changes"] = changes
    if not changes:
        ret["comment"] = "swarm settings are as wanted"
    elif test:
        ret["result"] = None
        ret["comment"] = "swarm settings would change"
    else:
        ret["comment"] = "swarm settings changed"
        if changes.get("autolock", {}).get("new") is True or "rotated_unlock_key" in changes:
            ret["comment"] += "; store the unlock key (swarm.unlock_key) in pillar swarm:unlock_key"
    return ret


def settled(name, nodes, managers=None, wait=60):
    """
    Make sure the swarm's nodes have the role, availability and labels in ``nodes``
    (hostname -> settings, as ``swarm.plan`` returns them), through the first of
    ``managers`` whose dockerd answers as an active manager: so it still works when
    one manager is down. Stale twins are removed first, promotions run before
    demotions (quorum-checked). Does what the ``swarm.settle`` runner does, in the
    orchestrate's own process: use it in an orchestrate SLS (it runs on the master).
    ``wait``: seconds the manager waits for a rebuilt host's old node to go Down
    (default 60). ``test=True`` reports what would change.

    CLI Example:

    .. code-block:: bash

        salt-run state.orchestrate swarm.bootstrap
        # in an orchestrate SLS:
        #   swarm node settings:
        #     swarm.settled:
        #       - nodes: {worker1: {role: worker, availability: active, labels: {zone: a}}}
        #       - managers: [manager1, manager2]
    """
    ret = _ret(name)
    refused = _on_master(ret, "settled")
    if refused:
        return refused
    test = bool(__opts__["test"])
    return _steps().settled(_fleet(), _record(), name, nodes, managers, wait, test)


def conforms(
    name,
    managers=None,
    workers=None,
    labels=None,
    drain_managers=None,
    expect=None,
    wait=30,
    seen=None,
):
    """
    Make sure the swarm is as pillar says, changing nothing: runs the ``swarm.check``
    runner, so use it in an orchestrate SLS (it runs on the master). Fails, listing
    every difference, when the swarm still differs after ``wait`` seconds (nodes
    that just joined take a moment to report Ready). The role arguments default to
    pillar ``swarm:``; ``expect`` (the ``swarm.plan`` result) spares asking every
    member again. ``seen`` (the plan's ``seen``, given when the plan found nothing
    to change) with no differences passes without asking again: the plan's node list
    was read moments before and nothing has changed it since. With ``test=True`` it
    reports the differences seen now, with result None, since the steps before it
    have not run.

    managers, workers, labels, drain_managers
        What ``swarm.check`` compares with (role targets, label rules, whether
        managers are drained), each by default from pillar ``swarm:``; not used
        with ``expect``.

    CLI Example:

    .. code-block:: bash

        salt-run state.orchestrate swarm.bootstrap
        # in an orchestrate SLS:
        #   swarm as pillar says:
        #     swarm.conforms:
        #       - wait: 30
    """
    ret = _ret(name)
    refused = _on_master(ret, "conforms")
    if refused:
        return refused
    args = {
        "managers": managers,
        "workers": workers,
        "labels": labels,
        "drain_managers": drain_managers,
        "expect": expect,
    }
    fleet = _fleet() if expect else None
    test = bool(__opts__["test"])
    return _steps().conforms(fleet, _record(), name, args, wait, seen, test, _run_check)


def _run_check(args):
    return __salt__["saltutil.runner"]("swarm.check", **args)


# ---- orchestrate steps: run on the master -----------------------------------------


def _on_master(ret, state):
    """None on the master; a failed return naming the state anywhere else."""
    if __opts__.get("__role") == "master":
        return None
    return _fail(ret, f"swarm.{state} runs on the master (orchestrate), not on a minion")


def _fleet():
    from salt_swarm.master.fleet import Fleet

    return Fleet(__opts__, timeout=10)


def _steps():
    from salt_swarm.master import orchestrate

    return orchestrate


def _record():
    """This orchestrate run's record (master/orchestrate.py), shared by its steps."""
    return __context__.setdefault(RUN_RECORD, _steps().RunRecord())


def first_manager(name, minion, options=None, availability=None):
    """
    Make sure ``minion`` manages a swarm, initialized there when it is in none, and
    that the master's mine holds its manager address and join tokens: one
    ``swarm.init`` call with ``mine_update``, the step the orchestrate runs before
    anyone joins. ``options`` are ``swarm.init``'s cluster options
    (``default_addr_pool``, ``subnet_size``, ``data_path_port``, ``autolock``); the
    minion takes its addresses from its own pillar. ``availability`` applies to a
    new swarm's first node. A locked manager is unlocked with its pillar key first.
    Runs on the master (orchestrate); ``test=True`` asks the minion what it would do.

    CLI Example:

    .. code-block:: bash

        salt-run state.orchestrate swarm.bootstrap
        # in an orchestrate SLS:
        #   swarm first manager:
        #     swarm.first_manager:
        #       - minion: manager1
        #       - options: {default_addr_pool: [10.20.0.0/16]}
    """
    ret = _ret(name)
    refused = _on_master(ret, "first_manager")
    if refused:
        return refused
    test = bool(__opts__["test"])
    return _steps().first_manager(_fleet(), _record(), name, minion, options, availability, test)


def maintained(
    name,
    tgt,
    sls=None,
    function=None,
    arg=None,
    kwarg=None,
    tgt_type="glob",
    batch=None,
    fresh=False,
    budget_wait=None,
    drain_wait=None,
    up_wait=None,
    expect_down=False,
    timeout=10,
):
    """
    Rolling maintenance of the swarm members ``tgt`` matches, as the runner
    ``swarm.maintain`` does it (same arguments): each node drained, maintained
    (``sls`` applied, or ``fun`` run), back Ready, its availability and tasks back;
    workers first, managers one at a time, the leader last, quorum and pillar
    ``swarm:budget`` kept. Fails naming the node, the stage and why; the same run
    again resumes there. ``test=True`` reports the order and the checks. Runs on the
    master (orchestrate SLS ``swarm.maintain``).

    tgt, tgt_type, sls, arg, kwarg, batch, fresh, budget_wait, drain_wait, up_wait, expect_down, timeout
        As for the runner ``swarm.maintain``: the minions, the action, workers at
        once, forget another unfinished run, the waits in seconds, and whether the
        action takes the node down (a reboot).
    function
        The runner's ``fun`` (Salt's state system keeps ``fun`` for itself): the
        execution function to run on each node instead of ``sls``.

    CLI Example:

    .. code-block:: bash

        salt-run state.orchestrate swarm.maintain pillar='{maintain: {tgt: "worker*", sls: patch}}'
    """
    ret = _ret(name)
    refused = _on_master(ret, "maintained")
    if refused:
        return refused
    from salt_swarm.master import maintenance_fleet

    fleet = _fleet()
    fleet.timeout = float(timeout)
    test = bool(__opts__["test"])
    try:
        report = maintenance_fleet.run_from_arguments(
            fleet,
            tgt,
            tgt_type,
            test,
            sls=sls,
            fun=function,
            arg=arg,
            kwarg=kwarg,
            batch=batch,
            fresh=fresh,
            budget_wait=budget_wait,
            drain_wait=drain_wait,
            up_wait=up_wait,
            expect_down=expect_down,
        )
    except (SwarmError, SaltInvocationError) as exc:
        return _fail(ret, f"maintain: {exc}")
    return maintenance_fleet.state_return(ret, report, test)


def members_joined(
    name,
    members,
    role,
    managers,
    availability=None,
    mine_update=False,
    addr_function=None,
    token_function=None,
    settle=None,
):
    """
    Make sure ``members`` (minion ids) are in the swarm as ``role``: those that are
    not join, all in one ``swarm.join`` publish. The master reads the managers'
    entries in its own mine (``managers``: minion ids, the one to take the join
    tokens from first) and gives each member the token sealed to that minion's own
    key, so neither the job's arguments nor the job cache hold a usable token.
    ``availability`` is set as they join (``drain`` for managers); with
    ``mine_update`` a joined manager sends its own mine entries before it answers.
    A member that fails is named with Docker's message, beside those that joined.
    ``addr_function``/``token_function``: the mine functions' names (the address, and
    the token of ``role``) when pillar ``swarm:mine`` renames them. ``settle`` (``{nodes, hostnames, known}``, from the plan):
    the node settings are applied beside the joins, as ``swarm.settled``
    would after them, by the manager that gave the tokens; it labels the members'
    nodes as they appear (changes under ``node settings``). Runs on the master
    (orchestrate).

    CLI Example:

    .. code-block:: bash

        salt-run state.orchestrate swarm.bootstrap
        # in an orchestrate SLS:
        #   swarm workers:
        #     swarm.members_joined:
        #       - members: [worker1, worker2]
        #       - role: worker
        #       - managers: [manager1, manager2, manager3]
    """
    ret = _ret(name)
    refused = _on_master(ret, "members_joined")
    if refused:
        return refused
    how = {
        "availability": availability,
        "mine_update": mine_update,
        "addr_function": addr_function,
        "token_function": token_function,
        "settle": settle,
    }
    test = bool(__opts__["test"])
    return _steps().members_joined(_fleet(), _record(), name, members, role, managers, test, **how)


# ---- workloads: services, secrets and configs, networks ----------------------


def _workload(name, function, **kwargs):
    """Run execution function ``swarm.<function>`` in test mode when the state runs
    in it, and turn its return (``changed``, ``changes``, ``comment``) into the state's."""
    ret = _ret(name)
    test = bool(__opts__["test"])
    try:
        res = __salt__[f"swarm.{function}"](name, test=test, **kwargs)
    except CommandExecutionError as exc:
        return _fail(ret, str(exc))
    ret["comment"] = res["comment"]
    if res.get("warnings"):
        ret["warnings"] = res["warnings"]
        ret["comment"] += "; " + "; ".join(res["warnings"])
    if res["changed"]:
        ret["changes"] = res.get("changes") or {"changed": True}
        if test:
            ret["result"] = None
    return ret


def service_present(name, spec=None, wait=None, **kwargs):
    """
    Make sure service ``name`` runs as described: the service keys as arguments (or
    a ``spec`` mapping, e.g. from pillar), see docs/workloads.md. Created when
    missing; updated only where the running spec differs (keys left out are not
    managed), then followed until the rollout converges (``wait`` seconds, default
    300). A rollout Docker rolls back or pauses fails the state, naming the failed
    tasks. ``test=True`` reports each key that would change. Run on a manager.

    CLI Example:

    .. code-block:: yaml

        web:
          swarm.service_present:
            - image: nginx:1.27
            - replicas: 3
            - env: {LOG_LEVEL: info}
            - update_config: {parallelism: 1, failure_action: rollback}
    """
    extra = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    spec = {**(spec or {}), **extra} if isinstance(spec, dict) or spec is None else spec
    return _workload(name, "service_apply", spec=spec, wait=wait)


def service_absent(name):
    """
    Make sure service ``name`` does not exist. Run on a manager.

    CLI Example:

    .. code-block:: yaml

        old web:
          swarm.service_absent:
            - name: web
    """
    return _workload(name, "service_remove")


def secret_present(
    name, contents_pillar=None, source=None, contents=None, keep=1, labels=None, wait=None
):
    """
    Make sure Docker secret ``name`` holds the content of pillar key
    ``contents_pillar`` (or of file ``source``; ``contents`` in the SLS itself is
    possible, but then the secret sits in the SLS). New content makes a new version
    carrying ``labels``; services using an older one move to it (a rolling update,
    waited for up to ``wait`` seconds), and unused versions are removed (``keep``
    newest stay). The content never appears in the return. Run on a manager.

    CLI Example:

    .. code-block:: yaml

        db_password:
          swarm.secret_present:
            - contents_pillar: app:db:password
    """
    content = {"contents_pillar": contents_pillar, "source": source, "contents": contents}
    return _workload(name, "secret_apply", **content, keep=keep, labels=labels, wait=wait)


def secret_absent(name):
    """
    Make sure no version of secret ``name`` exists (fails while a service uses one).

    CLI Example:

    .. code-block:: yaml

        db_password:
          swarm.secret_absent
    """
    return _workload(name, "secret_remove")


def config_present(
    name, contents_pillar=None, source=None, contents=None, keep=1, labels=None, wait=None
):
    """
    Make sure Docker config ``name`` holds the content of pillar key
    ``contents_pillar``, of file ``source`` or ``contents``, in versions like
    ``swarm.secret_present`` (``keep``, ``labels``, ``wait`` alike). Run on a manager.

    CLI Example:

    .. code-block:: yaml

        nginx_conf:
          swarm.config_present:
            - source: salt://web/nginx.conf
    """
    content = {"contents_pillar": contents_pillar, "source": source, "contents": contents}
    return _workload(name, "config_apply", **content, keep=keep, labels=labels, wait=wait)


def config_absent(name):
    """
    Make sure no version of config ``name`` exists (fails while a service uses one).

    CLI Example:

    .. code-block:: yaml

        nginx_conf:
          swarm.config_absent
    """
    return _workload(name, "config_remove")


def network_present(name, **kwargs):
    """
    Make sure overlay network ``name`` exists with the given settings
    (``attachable``, ``encrypted``, ``internal``, ``subnet``, ``gateway``, ``labels``,
    ``options``). A network with other settings fails the state (Docker cannot change
    one in place). Run on a manager.

    CLI Example:

    .. code-block:: yaml

        backend:
          swarm.network_present:
            - attachable: True
            - encrypted: True
    """
    conf = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    return _workload(name, "network_apply", **conf)


def network_absent(name):
    """
    Make sure overlay network ``name`` does not exist (fails while a service uses it).

    CLI Example:

    .. code-block:: yaml

        backend:
          swarm.network_absent
    """
    return _workload(name, "network_remove")


def stack_present(
    name, source, prune=False, resolve_image="always", template=None, context=None, wait=None
):
    """
    Make sure stack ``name`` runs the compose file ``source`` (``salt://`` or a
    local path; rendered with ``template`` and ``context``), deployed with ``docker
    stack deploy`` only when the file's services differ from the running ones.
    ``prune``: remove the stack's services the file no longer has.
    ``resolve_image``: Docker's ``--resolve-image``. Created and updated services
    are followed until they converge (``wait`` seconds). Run on a manager with the
    Docker CLI.

    CLI Example:

    .. code-block:: yaml

        web stack:
          swarm.stack_present:
            - name: web
            - source: salt://web/compose.yml
            - template: jinja
    """
    args = {"prune": prune, "resolve_image": resolve_image, "template": template}
    return _workload(name, "stack_apply", source=source, **args, context=context, wait=wait)


def stack_absent(name):
    """
    Make sure stack ``name`` has no service (``docker stack rm``).

    CLI Example:

    .. code-block:: yaml

        web:
          swarm.stack_absent
    """
    return _workload(name, "stack_remove")
