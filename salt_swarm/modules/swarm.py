"""Docker Swarm execution module.

Talks to the local Docker daemon through the Docker SDK. Where the daemon is comes
from the minion config or pillar (``swarm:docker_url``, ``swarm:tls_cert``,
``swarm:tls_key``, ``swarm:tls_ca``, ``swarm:tls_verify``, ``swarm:timeout``), else
``DOCKER_HOST``, else the local socket.

Join tokens and unlock keys are returned only by ``join_token``, ``unlock_key`` and
the mine functions ``worker_token`` and ``manager_token``; every other return,
comment and error masks them.
"""

import logging
import os
import shutil
import time
from contextlib import contextmanager

from salt.exceptions import CommandExecutionError

try:
    from salt_swarm import salt_internals
    from salt_swarm.core import (
        bootstrap_steps,
        cluster_settings,
        highstate_steps,
        local_node,
        membership,
        mine_data,
        role_targets,
        sealed,
        sealed_pull,
        secret_versions,
        swarm_init,
        swarm_join,
        swarm_leave,
    )
    from salt_swarm.core import grain_labels as grain_label_logic
    from salt_swarm.core import maintain_steps as maintain_steps_logic
    from salt_swarm.core import networks as network_ops
    from salt_swarm.core import nodes as node_ops
    from salt_swarm.core import placement as placement_ops
    from salt_swarm.core import prune as prune_logic
    from salt_swarm.core import rebalance as rebalance_ops
    from salt_swarm.core import services as service_ops
    from salt_swarm.core import settle as settle_ops
    from salt_swarm.core import stacks as stack_ops
    from salt_swarm.core import store_join as store_ops
    from salt_swarm.core.addresses import choose_address
    from salt_swarm.core.client import DEFAULT_TIMEOUT, DockerSettings, docker_errors, make_client
    from salt_swarm.core.errors import NoManagerYet, SwarmError
    from salt_swarm.core.kv_stores import open_store
    from salt_swarm.core.mine_data import MINE_ADDR, MINE_TOKEN
    from salt_swarm.core.secrets import check_role, redact, unlock_key_hidden
    from salt_swarm.core.settings import default as setting_default
    from salt_swarm.core.units import truthy as _truthy
    from salt_swarm.version import __version__

    HAS_DOCKER_SDK = True
    IMPORT_ERROR = ""
except ImportError as exc:  # pragma: no cover - exercised only without the SDK
    HAS_DOCKER_SDK = False
    IMPORT_ERROR = str(exc)

log = logging.getLogger(__name__)

__virtualname__ = "swarm"


def __virtual__():
    if not HAS_DOCKER_SDK:
        return (
            False,
            f"swarm: cannot import what it needs ({IMPORT_ERROR}): install salt-swarm with "
            "pip in Salt's Python (it brings the Docker SDK, docker>=7), or see "
            "docs/install.md for the saltutil.sync_all way",
        )
    too_old = salt_internals.unsupported_salt()
    if too_old:
        return False, f"swarm: {too_old}"
    return __virtualname__


def _conf(key, default=None):
    value = __salt__["config.get"](f"swarm:{key}", default)
    return default if value in (None, "") else value


def _settings():
    verify = _conf("tls_verify")  # None when not set: DockerSettings tells unset from true
    return DockerSettings(
        url=_conf("docker_url", ""),
        tls_cert=_conf("tls_cert", ""),
        tls_key=_conf("tls_key", ""),
        tls_ca=_conf("tls_ca", ""),
        tls_verify=None if verify is None else _truthy(verify),
        timeout=int(_conf("timeout", DEFAULT_TIMEOUT)),
    )


@contextmanager
def _docker(action, secrets=()):
    """Yield a fresh client; any failure becomes CommandExecutionError with Docker's message."""
    client = None
    try:
        client = make_client(_settings())
        with docker_errors(action):
            yield client
    except SwarmError as exc:
        raise CommandExecutionError(redact(exc, secrets)) from None
    finally:
        if client is not None:
            client.close()


def _address(spec, field):
    """An address, interface name or CIDR -> this node's address (None stays None)."""
    if spec in (None, ""):
        return None
    try:
        return choose_address(spec, __salt__["network.interfaces"](), field)
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from None


def info():
    """
    Return the local node's swarm membership as Docker reports it.

    Keys: ``state`` (inactive, pending, active, error or locked), ``node_id``,
    ``address`` (the advertised address), ``manager`` (true on a manager),
    ``cluster_id`` (managers only), ``managers`` and ``nodes`` (counts, seen from a
    manager), ``remote_managers``, ``error``, ``hostname``, ``engine_version``.

    CLI Example:

    .. code-block:: bash

        salt '*' swarm.info
    """
    with _docker("docker info") as client:
        return local_node.summarize(client.info())


def preflight(grain_rules=None):
    """
    What the bootstrap plan asks every member before anything changes: this node's
    ``info`` (as ``swarm.info``, or None when dockerd does not answer), the salt-swarm
    ``version`` it runs, on an active manager the ``nodes`` it lists, its ``mine`` functions (alias -> function and
    ``allow_tgt``, for the swarm's entries), with ``grain_rules`` (the master's
    ``swarm:grain_labels``) the ``grains`` those rules read (the master makes the
    labels itself), and the ``problems`` this node finds with its settings: dockerd
    unreachable (naming ``swarm:docker_url``), ``swarm:advertise_addr`` or
    ``swarm:listen_addr`` that do not resolve to one of its addresses. Never raises
    for those: the plan lists every member's problems at once.

    CLI Example:

    .. code-block:: bash

        salt '*' swarm.preflight
    """
    problems = []
    for key in ("advertise_addr", "listen_addr"):
        spec = _conf(key)
        if spec in (None, ""):
            continue
        try:
            _address(spec, f"swarm:{key}")
        except CommandExecutionError as exc:
            problems.append(str(exc))
    node = None
    try:
        node = info()
    except CommandExecutionError as exc:
        url = _conf("docker_url", "")
        problems.append(f"swarm:docker_url: {exc}" if url else f"dockerd: {exc}")
    found = {"info": node, "problems": problems, "mine": _mine_entries(), "version": __version__}
    if grain_rules:
        try:
            found["grains"] = grain_label_logic.needed_grains(dict(__grains__), grain_rules)
        except SwarmError as exc:
            problems.append(str(exc))
    if node and node["state"] == "active" and node["manager"]:
        # The plan needs one manager's node list: it comes in the same publish.
        try:
            found["nodes"] = nodes()
        except CommandExecutionError as exc:  # no leader: the plan says so later
            log.debug("swarm.preflight: no node list: %s", exc)
    return found


def own_role():
    """
    This minion's role by pillar ``swarm:managers`` and ``swarm:workers``, as it
    matches their targets itself: ``managers``, ``workers`` or None (what the
    highstate, ``swarm`` on this minion, acts on). An error for targets a minion
    cannot judge: nodegroups (as ``nodegroup`` or ``N@`` in a compound) and, with a
    master, targets by grain unless ``swarm:trust_grains`` (docs/security.md).

    CLI Example:

    .. code-block:: bash

        salt '*' swarm.own_role
    """
    # pillar swarm:, as the formula reads it (config.get would resolve an sdb:// store)
    conf = salt_internals.pillar_value(__pillar__, "swarm", {})
    conf = conf if isinstance(conf, dict) else {}
    try:
        return role_targets.own_role(conf, lambda kind, tgt: __salt__[f"match.{kind}"](tgt))
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from None


def own_steps(sls="swarm", settings=None):
    """
    The states the formula's SLS ``sls`` runs on this minion, as ``{include, steps}``
    (each step ``{id, state, args}``), which the SLS only writes out: ``swarm`` (the
    highstate: the SLS of this minion's role, by ``swarm.own_role``), ``swarm.first``,
    ``swarm.manager``, ``swarm.worker``, ``swarm.store``, ``swarm.node`` and
    ``swarm.engine``.
    ``settings``: pillar ``swarm:`` with the formula's defaults merged (for
    ``swarm.node``: pillar ``swarm_nodes``). For ``swarm``, an error when the formula
    served is of another salt-swarm version than this extension.

    CLI Example:

    .. code-block:: bash

        salt worker1 swarm.own_steps swarm.worker '{mine_timeout: 60}'
    """
    try:
        return highstate_steps.for_sls(
            sls, settings, own_role, __grains__["id"], __version__, __grains__.get("os_family")
        )
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from None


def grain_labels():
    """
    The node labels this minion's grains give under pillar ``swarm:grain_labels``
    (rules ``{grain, keys, prefix}``, see docs/pillar.md): ``labels`` (key -> value)
    and ``owned`` (globs of the label keys the rules manage: such labels the grains
    no longer give are removed from the node), and ``warnings``. Grains that cannot
    be labels (lists, mappings, bad keys) are skipped; a rule whose grain is missing
    owns nothing on this run, so the labels it gave stay (a grain module that failed
    to load strips nothing). Both are warnings in the minion log.

    CLI Example:

    .. code-block:: bash

        salt '*' swarm.grain_labels
    """
    rules = _conf("grain_labels", [])
    try:
        found = grain_label_logic.taken(dict(__grains__), rules)
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from None
    for why in found.warnings():
        log.warning("swarm:grain_labels: %s", why)
    return {"labels": found.labels, "owned": found.owned, "warnings": found.warnings()}


def init(
    advertise_addr=None,
    listen_addr=None,
    data_path_addr=None,
    data_path_port=None,
    default_addr_pool=None,
    subnet_size=None,
    autolock=False,
    availability="active",
    force_new_cluster=False,
    mine_update=False,
    unlock=False,
    test=False,
):
    """
    Initialize a new swarm with this node as its first manager.

    A no-op on a node that already manages a swarm; an error on a worker of any
    swarm. Address arguments take an IP address, an interface name or a CIDR (the
    node's own address inside it; an error if none or several match);
    ``advertise_addr`` defaults to ``swarm:advertise_addr`` from config or pillar.
    Address pools, their subnet size and the data-path port can only be set here.

    advertise_addr
        Address other nodes reach this manager on.
    listen_addr
        Address and port to listen on for cluster traffic; defaults to
        ``swarm:listen_addr``, else ``0.0.0.0:2377``.
    data_path_addr
        Address for overlay (VXLAN) traffic.
    data_path_port
        UDP port for overlay traffic, 1024-49151 (Docker's default 4789).
    default_addr_pool
        List of CIDRs for overlay networks (Docker's default ``10.0.0.0/8``).
    subnet_size
        Prefix length of each overlay network carved from the pools, 8-29, only
        with ``default_addr_pool`` (Docker's default 24).
    autolock
        Encrypt the Raft logs with a key managers need after a restart.
    availability
        ``active``, ``pause`` or ``drain`` for this node.
    force_new_cluster
        Recover a lost quorum: make this manager a one-manager swarm keeping its state.
    mine_update
        Also send this manager's mine entries to the master (``swarm.mine_refresh``)
        before returning, whether or not a swarm was made: joiners read them next.
    unlock
        A locked manager (autolock, its daemon restarted) is first unlocked with
        ``swarm:unlock_key`` from config or pillar; without it, locked is an error.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.init advertise_addr=eth0 default_addr_pool='[10.20.0.0/16]'
        salt manager1 swarm.init mine_update=True
    """
    opts = swarm_init.InitOptions(
        **_addresses(advertise_addr, listen_addr, data_path_addr),
        data_path_port=data_path_port,
        default_addr_pool=default_addr_pool,
        subnet_size=subnet_size,
        autolock=autolock,
        availability=availability,
        force_new_cluster=force_new_cluster,
    )
    unlocked = _unlock_first(unlock, test)
    if unlocked and test:
        return {"changed": True, "unlocked": True, "comment": _WOULD_UNLOCK}
    with _docker("swarm init") as client:
        res = swarm_init.init(client, opts, test=test)
    if unlocked:
        res["unlocked"] = True
    if _truthy(mine_update) and not test:
        _send_mine(res, "the swarm is initialized" if res["changed"] else "it manages a swarm")
    return res


_WOULD_UNLOCK = "a locked manager: it would be unlocked with swarm:unlock_key first"


def _unlock_first(unlock, test):
    """With ``unlock``, a locked manager is unlocked (pillar key; in test mode only
    looked at): True when it was locked."""
    if not _truthy(unlock):
        return False
    with _docker("docker info") as client:
        locked = membership.info(client)["state"] == "locked"
    if locked and not test:
        globals()["unlock"]()  # the module function, not the argument
    return locked


def _send_mine(res, done):
    """``swarm.mine_refresh`` after ``done``; a failure says what already happened."""
    try:
        res["mine"] = mine_refresh()
    except CommandExecutionError as exc:
        raise CommandExecutionError(
            f"{done} ({res['comment']}), but sending its mine entries failed: {exc}; "
            "run swarm.mine_refresh"
        ) from None


def _addresses(advertise_addr, listen_addr, data_path_addr):
    """The node's addresses for an init or join: arguments, else config or pillar."""
    return {
        "advertise_addr": _address(advertise_addr or _conf("advertise_addr"), "advertise_addr"),
        "listen_addr": _address(listen_addr or _conf("listen_addr"), "listen_addr")
        or "0.0.0.0:2377",
        "data_path_addr": _address(data_path_addr, "data_path_addr"),
    }


def join(
    role="worker",
    managers=None,
    token=None,
    advertise_addr=None,
    listen_addr=None,
    data_path_addr=None,
    availability=None,
    force=False,
    mine_timeout=None,
    sealed_token=None,
    mine_update=False,
    unlock=False,
    test=False,
    **kwargs,
):
    """
    Join a swarm as ``manager`` or ``worker``.

    With ``managers`` and ``token`` given, tries each manager address in turn until
    one answers. Without them, reads the swarm's manager addresses and the role's join
    token from the Salt mine (``swarm.manager_addr`` and ``swarm.worker_token`` or
    ``swarm.manager_token``) of the minions pillar ``swarm:managers`` names (or
    ``swarm:mine:target``), waiting up to ``mine_timeout`` seconds for an active
    manager to appear there. Passing ``token`` on the command line stores it in the
    job cache: prefer the mine. ``sealed_token`` instead of ``token`` is a token the
    master sealed to this minion's own key (``{minion id: sealed}`` for one publish
    to many, as the orchestrate's ``swarm.members_joined`` sends it): it opens here
    only, in the job that carried it, for that role and for a few minutes, so the
    job cache never holds a usable token.

    With ``mine_update`` a node that is a manager afterwards sends its mine entries
    to the master before returning. With ``unlock`` a locked manager is first
    unlocked with ``swarm:unlock_key``.

    Already active in the same swarm with the same role: a no-op. Active in another
    swarm: an error unless ``force=True`` (then it leaves first). A ``pending`` or
    ``error`` state left by a failed join is cleaned up first.

    role
        ``worker`` (default) or ``manager``.
    advertise_addr
        Address other nodes reach this node on (an IP address, an interface name or
        a CIDR); defaults to ``swarm:advertise_addr`` from config or pillar, else
        Docker picks one.
    listen_addr
        Address and port to listen on for cluster traffic; defaults to
        ``swarm:listen_addr``, else ``0.0.0.0:2377``.
    data_path_addr
        Address for overlay (VXLAN) traffic.
    availability
        ``active``, ``pause`` or ``drain`` for the new node (Docker's default:
        ``active``); a node already in the swarm is not changed.

    CLI Example:

    .. code-block:: bash

        salt worker1 swarm.join
        salt manager2 swarm.join role=manager advertise_addr=198.18.0.0/24
    """
    token = _given_token(role, managers, token, sealed_token, kwargs.get("__pub_jid"))
    unlocked = _unlock_first(unlock, test)
    if unlocked and test:
        return {"changed": True, "role": role, "unlocked": True, "comment": _WOULD_UNLOCK}
    with _docker("swarm join", secrets=[token]) as client:
        mine = None
        if managers is None or token is None:
            mine = _mine_for_join(membership.info(client), role, token is None, mine_timeout)
            if mine is None:
                return swarm_join.already_member(client, role)
            managers = managers or mine["managers"]
            token = token or mine["tokens"][role]
        req = swarm_join.JoinRequest(
            role=role,
            managers=tuple(managers) if isinstance(managers, list | tuple) else managers,
            token=token,
            **_addresses(advertise_addr, listen_addr, data_path_addr),
            availability=availability,
            known_tokens=mine["tokens"] if mine else None,
        )
        res = swarm_join.join(client, req, force=force, test=test)
    if unlocked:
        res["unlocked"] = True
    if _truthy(mine_update) and not test and res["role"] == "manager":
        _send_mine(res, "the node joined" if res["changed"] else "it is a manager")
    return res


def _mine_for_join(now, role, need_token, mine_timeout):
    """The managers' addresses and tokens from the mine for a join; None for a member
    when the mine names no swarm (then the swarm it is in is the one wanted)."""
    if now["state"] == "active":
        # Already a member: one look at the mine, no waiting.
        return _from_mine(role, 0, now["address"], need_token, missing_ok=True)
    if mine_timeout is None:
        mine_timeout = _conf("mine_timeout", setting_default("mine_timeout"))
    return _from_mine(role, mine_timeout, now["address"], need_token)


def _given_token(role, managers, token, sealed_token, jid):
    """The token given for a join (plain, or sealed to this minion), role checked."""
    try:
        check_role(role)
        if sealed_token is None:
            return token
        if not managers:
            raise SwarmError("sealed_token: give the managers to join through with it")
        return _unseal(sealed_token, role, jid)
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from None


def _unseal(sealed_token, role, jid):
    """The join token the master sealed to this minion's key for ``role`` in job ``jid``
    (salt_swarm.core.sealed)."""
    pulled_for = sealed_pull.referenced_jid(sealed_token)
    if pulled_for is not None:
        sealed_token = _pull_sealed(pulled_for)
    mine = sealed.pick(sealed_token, __opts__["id"])
    key = salt_internals.minion_private_key(__opts__)
    return sealed.unseal(key, mine, role, jid, time.time())


def _pull_sealed(jid):
    """This minion's sealed token of job ``jid``, fetched from the master's
    fileserver (core/sealed_pull.py); the copy the file client caches is removed."""
    path = sealed_pull.path(jid, __opts__["id"])
    try:
        found = __salt__["cp.get_file_str"](f"salt://{path}", saltenv="base")
    finally:
        cached = os.path.join(__opts__["cachedir"], "files", "base", sealed_pull.FOLDER, jid)
        shutil.rmtree(cached, ignore_errors=True)
    if not found:
        raise SwarmError(
            f"sealed_token: the master holds no token sealed for this minion in job {jid} "
            "(expired, or the fileserver backend swarm_formula is not enabled)"
        )
    return found.strip()


def store_join(
    role="worker",
    store=None,
    wait=None,
    election_ttl=None,
    advertise_addr=None,
    listen_addr=None,
    data_path_addr=None,
    availability=None,
    test=False,
):
    """
    Make this node a ``manager`` or ``worker`` through a token store, with no
    salt-master involved (``salt-call --local``). ``store`` defaults to pillar
    ``swarm:token_store`` (``sdb://<profile>/<path>``; salt-swarm's ``etcd_swarm``
    driver gives a race-free election, see docs/token-store.md).

    Join data in the store: join through them (a worker reads only ``managers``
    and ``worker_token``). None yet: a manager takes part in the store's election,
    and the one elected initializes the swarm (with ``swarm:init`` options) and
    publishes the manager addresses and join tokens; the others, and workers, wait
    up to ``wait`` seconds (``swarm:store_timeout``, default 300) for them. On etcd
    the election record lives on a lease of ``election_ttl`` seconds
    (``swarm:election_ttl``, default 20) the elected node keeps alive while it
    initializes: if it dies, another manager is elected once the lease runs out. On
    other stores a record whose node never published is taken over after
    ``election_ttl`` seconds by the wall clock (default never). With
    ``swarm:first_manager`` set, only that minion may initialize (for stores without
    compare-and-set). A member manager refreshes the store (tokens after a rotation,
    its address; a store in salt-swarm 0.1's layout is moved to the current one).
    With ``swarm:grain_labels``, a worker publishes the labels its grains give, and
    managers apply them after checking each entry against the node list and their
    own rules; a manager applies its own grain labels. A store that cannot be read
    is an error before anything changes.

    Returns ``changed``, ``comment``, ``action`` (none, init or join), ``store``
    (keys written, never their values), ``labels`` (label changes by hostname) and
    ``skipped`` (published label entries refused, and why).

    role
        ``worker`` (default) or ``manager``: only a manager may initialize.
    advertise_addr, listen_addr, data_path_addr
        As for ``swarm.join`` (an IP address, an interface name or a CIDR;
        defaults ``swarm:advertise_addr`` and ``swarm:listen_addr``, else
        ``0.0.0.0:2377``); used to initialize or to join.
    availability
        ``active``, ``pause`` or ``drain`` for the node when it joins (not when it
        initializes the swarm).

    CLI Example:

    .. code-block:: bash

        salt-call --local swarm.store_join role=manager
        salt-call --local swarm.store_join store=sdb://myetcd/swarm/prod test=True
    """
    try:
        check_role(role)
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from None
    uri = store or _conf("token_store")
    if not uri:
        raise CommandExecutionError(
            "no token store: set swarm:token_store (sdb://<profile>/<path>) or pass store="
        )
    try:
        want = _store_join_wanted(
            role, wait, election_ttl, availability, advertise_addr, listen_addr, data_path_addr
        )
        kv = open_store(uri, __opts__, __salt__.get("sdb.get"), __salt__.get("sdb.set"))
    except (SwarmError, ValueError) as exc:
        raise CommandExecutionError(str(exc)) from None
    with _docker("swarm join through the token store") as client:
        return store_ops.converge(client, kv, want, test=_truthy(test))


def _store_join_wanted(role, wait, election_ttl, availability, *addresses):
    """What ``store_join`` is asked for: arguments, else config or pillar."""
    ttl = election_ttl if election_ttl is not None else _conf("election_ttl")
    if wait is None:
        wait = _conf("store_timeout", setting_default("store_timeout"))
    first = _conf("first_manager")
    labels, owned, rule_globs = _grain_label_parts()
    return store_ops.StoreJoin(
        me=__grains__["id"],
        role=role,
        init=_pillar_init_options(*addresses),
        availability=availability,
        wait=float(wait),
        election_ttl=None if ttl in (None, "") else float(ttl),
        labels=labels,
        labels_owned=owned,
        rule_globs=rule_globs,
        may_init=not first or first == __grains__["id"],
    )


def _pillar_init_options(advertise_addr, listen_addr, data_path_addr):
    """swarm.init's options from pillar ``swarm:init`` and the addresses given."""
    init_conf = _conf("init", {}) or {}
    return swarm_init.InitOptions(
        **_addresses(advertise_addr, listen_addr, data_path_addr),
        data_path_port=init_conf.get("data_path_port"),
        default_addr_pool=init_conf.get("default_addr_pool") or (),
        subnet_size=init_conf.get("subnet_size"),
        autolock=_truthy(init_conf.get("autolock", False)),
    ).validated()


def _grain_label_parts():
    """(labels, owned globs, every rule's glob) of this node's ``swarm:grain_labels``;
    labels None without rules."""
    rules = _conf("grain_labels")
    if not rules:
        return None, (), ()
    found = grain_labels()
    return found["labels"], tuple(found["owned"]), tuple(grain_label_logic.owned_patterns(rules))


def _from_mine(role, timeout, exclude=None, need_token=True, missing_ok=False):
    """Manager addresses and ``role``'s join token (every token this minion may read,
    with ``need_token`` False: the token was given), from the mine entries of the
    managers pillar names, waiting up to ``timeout``. With ``missing_ok`` (a member's
    quick look) no managers target is None: nothing named in the mine."""
    try:
        target, target_type = _mine_target()
    except CommandExecutionError:
        if missing_ok:
            return None
        raise
    names = _mine_names()
    addr_fun, token_fun = names["addr"], names[role]
    funs = [addr_fun, names["worker"], names["manager"]]
    deadline = time.monotonic() + float(timeout)
    while True:
        # Every function in one request: the master checks the targets once. A token
        # entry this minion may not read is left out of the answer.
        got = __salt__["mine.get"](target, funs, tgt_type=target_type) or {}
        by_role = {r: got.get(names[r]) or {} for r in ("worker", "manager")}
        found = _usable_mine_data(got.get(addr_fun) or {}, by_role, role, need_token, exclude)
        if found:
            log.debug("swarm: %d manager address(es) from the mine", len(found["managers"]))
            return found
        if time.monotonic() >= deadline:
            if missing_ok:
                return None
            missing = NoManagerYet(
                f"no active swarm manager in the mine after {timeout} s (target {target!r}, "
                f"functions {addr_fun} and {token_fun}): is a manager initialized, and has "
                f"it sent its mine entries? Is this minion allowed to read the {role} token "
                "(allow_tgt of that entry)?"
            )
            raise CommandExecutionError(str(missing)) from missing
        time.sleep(0.5)


def _mine_target():
    """Whose mine entries to read: ``swarm:mine:target``, else the managers target of
    pillar ``swarm:managers``; never every minion, and never a target by grain unless
    ``swarm:trust_grains``: any minion can store entries under its own id."""
    target = _conf("mine:target")
    spec = (
        {"tgt": target, "tgt_type": _conf("mine:target_type", "glob")}
        if target
        else _conf("managers")
    )
    if not spec:
        raise CommandExecutionError(
            "no swarm:managers in pillar (nor swarm:mine:target): whose mine entries to "
            "trust for the join data is not known"
        )
    try:
        role_targets.refuse_grain_target(
            spec, "swarm:mine:target" if target else "swarm:managers", _trust_grains()
        )
        return role_targets.target(spec, "swarm:managers")
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from None


def _trust_grains():
    return _conf("trust_grains", False) is True


def _usable_mine_data(addrs, by_role, role, need_token, exclude):
    try:
        return mine_data.join_data(addrs, by_role, role, need_token, exclude)
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from None


def leave(force=False, test=False):
    """
    Leave the swarm.

    A worker leaves at once. A manager is first demoted, then leaves; when that would
    leave fewer reachable managers than quorum it is refused, with the numbers.
    ``force=True`` then leaves without demotion (the other managers keep counting
    this node until it is removed); for the last manager it ends the swarm. The node
    stays listed as down on the managers until ``swarm.remove_node``.

    CLI Example:

    .. code-block:: bash

        salt worker3 swarm.leave
        salt manager3 swarm.leave force=True
    """
    with _docker("swarm leave") as client:
        return swarm_leave.leave(client, force=force, test=test)


def join_token(role="worker", rotate=False):
    """
    Return the swarm's join token for ``role`` (``worker`` or ``manager``); with
    ``rotate=True`` a new one replaces it first (members are not affected). Run on a
    manager. The token is a secret: it lands in the job cache like any return.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.join_token manager
        salt manager1 swarm.join_token worker rotate=True
    """
    with _docker("swarm join-token") as client:
        check_role(role)
        if rotate:
            cluster_settings.update(client, {}, rotate=(f"{role}_token",))
        return cluster_settings.join_token(client, role)


def unlock_key(rotate=False):
    """
    Return the swarm's unlock key (autolock must be on); with ``rotate=True`` a new
    key replaces it first. Run on a manager. Store it safely (pillar
    ``swarm:unlock_key``): a locked manager needs it after every restart.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.unlock_key
    """
    with _docker("swarm unlock-key") as client:
        if rotate:
            cluster_settings.update(client, {}, rotate=("unlock_key",))
        return cluster_settings.unlock_key(client)


def unlock(key=None):
    """
    Unlock a locked manager (autolock, after its daemon restarted). Without ``key``
    the key is read from config or pillar ``swarm:unlock_key``, so it never appears
    in the job's arguments. A well-formed key on a node that is not locked: a no-op.

    CLI Example:

    .. code-block:: bash

        salt manager2 swarm.unlock
    """
    key = key or _conf("unlock_key")
    if not key:
        raise CommandExecutionError("no unlock key given and none in swarm:unlock_key")
    with _docker("swarm unlock", secrets=[key]) as client:
        return cluster_settings.unlock(client, key)


def update(
    autolock=None,
    cert_expiry=None,
    task_history_limit=None,
    snapshot_interval=None,
    heartbeat_period=None,
    rotate_worker_token=False,
    rotate_manager_token=False,
    rotate_unlock_key=False,
    test=False,
):
    """
    Change cluster settings; only what is given changes. Returns the changes.

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
        Replace that secret with a new one.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.update autolock=True cert_expiry=30d
    """
    settings = {
        "autolock": autolock,
        "cert_expiry": cert_expiry,
        "task_history_limit": task_history_limit,
        "snapshot_interval": snapshot_interval,
        "heartbeat_period": heartbeat_period,
    }
    rotate = tuple(
        name
        for name, on in (
            ("worker_token", rotate_worker_token),
            ("manager_token", rotate_manager_token),
            ("unlock_key", rotate_unlock_key),
        )
        if on
    )
    with _docker("swarm update") as client:
        return cluster_settings.update(client, settings, rotate=rotate, test=test)


def settings():
    """
    Return the cluster settings ``swarm.update`` manages. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.settings
    """
    with _docker("swarm inspect") as client:
        return cluster_settings.current(client)


def nodes():
    """
    List the swarm's nodes: id, hostname, role, availability, status, addr,
    labels, reachability and leader (managers), engine version. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.nodes
    """
    with _docker("node ls") as client:
        return [n.as_dict() for n in node_ops.list_nodes(client)]


def placement():
    """
    Where the tasks are: the nodes (as ``swarm.nodes``), each service's name, mode,
    labels and constraints, and the tasks Docker means to run, by service. The
    rolling maintenance (runner ``swarm.maintain``) reads it. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.placement
    """
    with _docker("service ls") as client:
        return placement_ops.read(client)


def maintain_steps(options=None):
    """
    The step of the orchestrate SLS ``swarm.maintain`` for ``options`` (its pillar
    ``maintain``: ``{tgt, sls | fun, ...}``, the runner ``swarm.maintain``'s
    arguments): one ``swarm.maintained`` state, or one failing step naming what is
    wrong.

    CLI Example:

    .. code-block:: jinja

        {{ write(salt["swarm.maintain_steps"](pillar.get("maintain"))) }}
    """
    return maintain_steps_logic.steps(options)


def node_update(
    node,
    availability=None,
    role=None,
    labels=None,
    labels_mode="merge",
    labels_remove=None,
    labels_owned=None,
    force=False,
    test=False,
):
    """
    Change one node's availability, role or labels; returns what changed. Run on a
    manager. ``node`` is a node id or hostname.

    labels
        Mapping of label keys to values.
    labels_mode
        ``merge`` (default: add and change, keep the others) or ``replace`` (the
        node ends with exactly ``labels``).
    labels_remove
        Label keys to remove.
    availability
        ``active``, ``pause`` or ``drain``.
    role
        ``manager`` (promote) or ``worker`` (demote: refused when it would break
        quorum, and always for the last manager).
    labels_owned
        Globs of label keys owned by ``swarm:grain_labels``: such labels that
        ``labels`` lacks are removed.
    force
        Demote even when that breaks quorum.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.node_update worker1 availability=drain
        salt manager1 swarm.node_update worker1 labels='{"zone": "a"}' labels_remove='[old]'
    """
    with _docker("node update") as client:
        return node_ops.update(
            client,
            node,
            availability=availability,
            role=role,
            labels=labels,
            labels_mode=labels_mode,
            labels_remove=labels_remove,
            labels_owned=labels_owned,
            force=force,
            test=test,
        )


def promote(node, test=False):
    """
    Make the worker ``node`` (node id or hostname) a manager. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.promote worker1
    """
    return node_update(node, role="manager", test=test)


def demote(node, force=False, test=False):
    """
    Make the manager ``node`` (node id or hostname) a worker; refused (with the
    numbers) when that would break quorum, unless ``force=True``. The last manager
    is never demoted. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.demote manager3
    """
    return node_update(node, role="worker", force=force, test=test)


def remove_node(node, force=False, test=False):
    """
    Remove ``node`` (node id or hostname) from the swarm. A node that is up (ready)
    is refused unless ``force=True``; a manager is demoted first, refused when that
    breaks quorum (``force=True`` overrides that too, not for the last manager).
    Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.remove_node worker3
    """
    with _docker("node rm") as client:
        return node_ops.remove(client, node, force=force, test=test)


def rebalance(test=False, wait=120):
    """
    Spread replicated services evenly again: every replicated service whose running
    tasks sit on the Ready, active nodes its constraints allow more unevenly than
    ``ceil(replicas / nodes)`` per node is force-updated (what ``docker service update
    --force`` does), then this waits up to ``wait`` seconds for the updates to finish.
    Global services, services with a per-node replica limit and constraints other
    than ``node.role/hostname/id/labels.*`` ``==``/``!=`` are left alone (``skipped``
    says why). ``test=True`` returns the plan only. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.rebalance test=True
    """
    with _docker("service update") as client:
        return rebalance_ops.rebalance(client, test=_truthy(test), wait=float(wait))


def settle(nodes, test=False, wait=60, list_after=False, wait_for=None):
    """
    Bring many nodes to their settings in one call: ``nodes`` maps hostname to
    ``{role, availability, labels}`` (labels merge). Stale twins (Down nodes sharing
    a hostname with a Ready one) are removed first; promotions run before
    demotions, and a demotion that would break quorum is refused with the numbers.
    Returns ``removed`` and ``nodes`` (hostname -> changes, only where something
    changed); with ``test=True`` what would change. With ``list_after`` also
    ``listed``: every node as ``swarm.nodes`` gives it, read after the changes.
    ``wait_for``: hostnames joining right now (the orchestrate's workers step runs
    this beside their joins): their nodes are waited for, up to ``wait`` seconds,
    before anything is applied; any still missing are named in ``missing``. Run on
    a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.settle '{worker1: {availability: active, labels: {zone: a}}}'
    """
    with _docker("node update") as client:
        res = settle_ops.settle(
            client, nodes, test=_truthy(test), wait=float(wait), wait_for=wait_for or ()
        )
        if _truthy(list_after):
            res["listed"] = [n.as_dict() for n in node_ops.list_nodes(client)]
        return res


def prune_twins(test=False, wait=60, managers=False):
    """
    Remove Down nodes that have a Ready node of the same hostname (what a rebuilt
    host leaves behind). A manager's Down twin only with ``managers=True`` (demoted
    first, quorum-checked): a hostname is what a node says about itself, so a
    manager is never removed for sharing one unless asked. Right after a rebuilt
    host joins, its old node still shows Ready for a few seconds: this waits up to
    ``wait`` seconds for it to go Down, then fails naming any hostname that still
    has two Ready nodes. Returns the nodes removed (with ``test=True``: to remove,
    and twins still to wait for). Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.prune_twins test=True
        salt manager1 swarm.prune_twins managers=True
    """
    with _docker("node rm") as client:
        return prune_logic.remove_stale_twins(
            client, test=_truthy(test), wait=float(wait), managers=_truthy(managers)
        )


def health():
    """
    The swarm's quorum health: managers, reachable, unreachable (hostnames), leader,
    quorum, has_quorum, failures_tolerated, workers, nodes_ready, nodes_down. Run on
    a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.health
    """
    with _docker("node ls") as client:
        return node_ops.cluster_health(client)


def _mine_names():
    """Our mine functions' names (pillar ``swarm:mine`` may rename them): kind -> name."""
    return {
        "addr": _conf("mine:addr_function", MINE_ADDR),
        "worker": _conf("mine:worker_token_function", MINE_TOKEN["worker"]),
        "manager": _conf("mine:manager_token_function", MINE_TOKEN["manager"]),
    }


def _mine_entries():
    """alias -> ``{kind, function, allow_tgt, allow_tgt_type}`` for this minion's
    ``mine_functions`` entries of our functions (what the plan checks)."""
    kinds = {name: kind for kind, name in _mine_names().items()}
    kinds.setdefault("swarm.join_tokens", "obsolete")  # salt-swarm 0.1: both tokens to all
    configured = __salt__["config.merge"]("mine_functions", {}) or {}
    found = {}
    for alias, spec in configured.items():
        name, _, _, acl = salt_internals.mine_function_definition(spec)
        kind = kinds.get(name or alias) or kinds.get(alias)
        if kind:
            found[alias] = {
                "kind": kind,
                "function": name or alias,
                "allow_tgt": acl.get("allow_tgt"),
                "allow_tgt_type": acl.get("allow_tgt_type"),
            }
    return found


def mine_refresh():
    """
    Send this minion's swarm mine entries (the ``mine_functions`` entries of
    ``swarm.manager_addr``, ``swarm.worker_token`` and ``swarm.manager_token``, or
    the functions named in ``swarm:mine:addr_function``, ``worker_token_function``
    and ``manager_token_function``, each with its ``allow_tgt``) to the master and
    return once the master has stored them: ``mine.update`` only fires an event to
    the minion process, sleeps half a second and returns before the master has the
    data. Returns the entries sent (names only). Masterless (``file_client:
    local``) it runs ``mine.update`` for them.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.mine_refresh
    """
    ours = set(_mine_names().values())
    configured = __salt__["config.merge"]("mine_functions", {}) or {}
    data, wanted = {}, {}
    for alias, spec in configured.items():
        name, args, kwargs, acl = salt_internals.mine_function_definition(spec)
        if alias not in ours and name not in ours:
            continue
        wanted[alias] = spec
        value = __salt__[name or alias](*args, **kwargs)
        data[alias] = salt_internals.mine_acl_wrapped(value, acl)
    if not data:
        raise CommandExecutionError(
            f"mine_functions has no entry for {' or '.join(sorted(ours))}: nothing to send "
            "(see docs/pillar.md, The mine)"
        )
    if __opts__.get("file_client") == "local":
        __salt__["mine.update"](mine_functions=wanted)
        return sorted(data)
    stored = salt_internals.send_mine(__opts__, data)
    if stored is not True:
        raise CommandExecutionError(f"the master did not store the mine entries: {stored!r}")
    return sorted(data)


def manager_addr():
    """
    Mine function: this node's manager address (``addr:port``), only on an active
    manager; ``None`` on any other node and when Docker cannot be reached, never
    an error text.

    CLI Example:

    .. code-block:: bash

        salt '*' swarm.manager_addr
    """
    try:
        with _docker("docker info") as client:
            return local_node.manager_address(client.info())
    except CommandExecutionError as exc:
        log.debug("swarm.manager_addr: %s", exc)
        return None


def _token_entry(role):
    try:
        with _docker("swarm inspect") as client:
            return mine_data.token_entry(cluster_settings.join_tokens(client), role)
    except CommandExecutionError as exc:  # not an active manager, or no Docker
        log.debug("swarm.%s_token: %s", role, redact(exc))
        return None


def worker_token():
    """
    Mine function: ``{cluster_id, worker}`` (the worker join token) on an active
    manager, ``None`` on any other node. Give its mine entry an ``allow_tgt`` that
    matches the swarm's members only: the token lets anyone join as a worker.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.worker_token
    """
    return _token_entry("worker")


def manager_token():
    """
    Mine function: ``{cluster_id, manager}`` (the manager join token) on an active
    manager, ``None`` on any other node. Give its mine entry an ``allow_tgt`` that
    matches the managers only: whoever has it can join as a manager and so controls
    the swarm.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.manager_token
    """
    return _token_entry("manager")


def bootstrap_plan(settings, timeout=10):
    """
    The bootstrap plan for the ``swarm:`` pillar ``settings``, as the runner
    ``swarm.plan settings=...`` returns it, made in the calling process. Only on the
    master: the orchestrate SLS ``swarm.bootstrap`` calls it while it renders (a
    runner call through ``saltutil.runner`` would set up a runner client first). A
    refused plan is returned as ``{error, retcode: 1, steps}`` with every problem
    listed and one failing step that shows them (an exception would end the render
    with a traceback instead). The plan sees a stand-in for ``unlock_key``
    (its shape only). The plan carries its ``steps``
    (``{id, state, args}``, in order), which the SLS writes out. ``timeout``: seconds
    to wait for the minions' answers to each publish (default 10).

    CLI Example:

    .. code-block:: jinja

        {#- in an orchestrate SLS (salt-run state.orchestrate ...) #}
        {%- set plan = salt["swarm.bootstrap_plan"](pillar["swarm"]) %}
    """
    if __opts__.get("__role") != "master":
        raise CommandExecutionError(
            "swarm.bootstrap_plan runs on the master (orchestrate render); "
            "from the command line use salt-run swarm.plan"
        )
    from salt.exceptions import SaltInvocationError

    from salt_swarm.master import planning
    from salt_swarm.master.fleet import Fleet

    try:
        settings = unlock_key_hidden(settings)
        planned = planning.from_settings(Fleet(__opts__, timeout=float(timeout)), settings)
    except (SwarmError, SaltInvocationError) as exc:
        return {"error": str(exc), "retcode": 1, "steps": bootstrap_steps.refused(str(exc))}
    planned["steps"] = bootstrap_steps.steps(planned, settings)
    return planned


# ---- workloads: services, secrets and configs, networks ----------------------


def _spec_from(spec, kwargs):
    """A service spec from ``spec`` (a mapping) and keyword arguments (Salt's own
    ``__pub_*`` and state keys left out)."""
    found = dict(spec or {}) if isinstance(spec, dict) else {}
    if spec is not None and not isinstance(spec, dict):
        raise CommandExecutionError(f"spec: expected a mapping, got {type(spec).__name__}")
    found.update({k: v for k, v in kwargs.items() if not k.startswith("__")})
    return found


def service_apply(name, spec=None, test=False, wait=None, **kwargs):
    """
    Make service ``name`` look like ``spec`` (a mapping of service keys; keyword
    arguments add to it): create it, or update what differs, then follow the rollout
    until every task runs the new spec, up to ``wait`` seconds (default 300). A key
    left out is not managed. Returns ``changed``, ``action`` (create, update, none),
    ``changes`` (key -> {old, new}) and ``tasks``. An update Docker rolls back or
    pauses is an error naming the failed tasks. Keys: docs/workloads.md. Run on a
    manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.service_apply web image=nginx:1.27 replicas=3
        salt manager1 swarm.service_apply web spec='{image: nginx:1.27, env: {A: b}}' test=True
    """
    wanted = _spec_from(spec, kwargs)
    with _docker(f"service {name}") as client:
        plan = service_ops.service_plan(client, name, wanted)
        if _truthy(test):
            return plan.report()
        return service_ops.apply_service(client, plan, _wait(wait))


def _wait(wait):
    return float(service_ops.CONVERGE_SECONDS if wait in (None, "") else wait)


def service_remove(name, test=False):
    """
    Remove service ``name`` (a no-op when it is absent). Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.service_remove web
    """
    with _docker(f"service rm {name}") as client:
        return service_ops.remove_service(client, name, test=_truthy(test))


def service_scale(name, replicas, test=False, wait=None):
    """
    Set the replica count of service ``name`` to ``replicas`` and wait until that
    many tasks run, up to ``wait`` seconds (default 300). Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.service_scale web 5
    """
    with _docker(f"service scale {name}") as client:
        return service_ops.scale(client, name, replicas, test=_truthy(test), wait=_wait(wait))


def service_info(name):
    """
    Service ``name`` in the keys ``swarm.service_apply`` takes, with its tasks'
    states and the rollout status. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.service_info web
    """
    with _docker(f"service inspect {name}") as client:
        return service_ops.service_info(client, name)


def service_list():
    """
    Every service, in the keys ``swarm.service_apply`` takes. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.service_list
    """
    with _docker("service ls") as client:
        return service_ops.list_services(client)


def _content(kind, name, contents_pillar, source, contents):
    """The content of a secret or config, from exactly one of its three sources;
    errors name the source, never the content."""
    given = [x for x in (contents_pillar, source, contents) if x is not None]
    if len(given) != 1:
        raise CommandExecutionError(
            f"{kind} {name}: give exactly one of contents_pillar, source, contents"
        )
    if contents_pillar is not None:
        value = salt_internals.pillar_value(__pillar__, contents_pillar)
        if value is None:
            raise CommandExecutionError(f"{kind} {name}: pillar key {contents_pillar} is not set")
        return value
    if source is not None:
        value = __salt__["cp.get_file_str"](source)
        if value is False or value is None:
            raise CommandExecutionError(f"{kind} {name}: source {source} cannot be read")
        return value
    return contents


def _version_apply(kind, name, contents_pillar, source, contents, keep, labels, test, wait):
    data = _content(kind, name, contents_pillar, source, contents)
    with _docker(f"{kind} {name}", secrets=[data] if isinstance(data, str) else ()) as client:
        plan = secret_versions.version_plan(client, kind, name, data, keep=int(keep))
        if _truthy(test):
            return plan.report()
        return secret_versions.apply_version(client, plan, data, labels=labels, wait=_wait(wait))


def secret_apply(
    name,
    contents_pillar=None,
    source=None,
    contents=None,
    keep=1,
    labels=None,
    test=False,
    wait=None,
):
    """
    Make Docker secret ``name`` hold the content of pillar key ``contents_pillar``
    (or of the file ``source``, e.g. ``salt://app/key.pem``). Docker secrets cannot
    change, so new content becomes a new version ``<name>_<n>``; every service using
    an older version moves to it in a rolling update (waited for up to ``wait``
    seconds), and versions no service uses are removed, ``keep`` newest staying
    (default 1). ``labels``: Docker labels of each version. Services refer to it as
    ``name`` (``secrets: [name]``). The content
    never appears in the return or the logs; ``contents`` on the command line would
    put it in the job cache, so prefer the pillar. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.secret_apply db_password contents_pillar=app:db:password
    """
    return _version_apply(
        "secret", name, contents_pillar, source, contents, keep, labels, test, wait
    )


def secret_remove(name, test=False):
    """
    Remove every version of secret ``name``; refused while a service uses one. Run on
    a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.secret_remove db_password
    """
    with _docker(f"secret rm {name}") as client:
        return secret_versions.remove_all(client, "secret", name, test=_truthy(test))


def config_apply(
    name,
    contents_pillar=None,
    source=None,
    contents=None,
    keep=1,
    labels=None,
    test=False,
    wait=None,
):
    """
    Make Docker config ``name`` hold the content of pillar key ``contents_pillar``,
    of the file ``source`` or ``contents``, in versions like ``swarm.secret_apply``:
    services using an older version move to the new one (waited for up to ``wait``
    seconds), ``keep`` newest versions stay, each carrying ``labels``. Run on a
    manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.config_apply nginx_conf source=salt://web/nginx.conf
    """
    return _version_apply(
        "config", name, contents_pillar, source, contents, keep, labels, test, wait
    )


def config_remove(name, test=False):
    """
    Remove every version of config ``name``; refused while a service uses one. Run on
    a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.config_remove nginx_conf
    """
    with _docker(f"config rm {name}") as client:
        return secret_versions.remove_all(client, "config", name, test=_truthy(test))


def network_apply(name, test=False, **kwargs):
    """
    Make overlay network ``name`` exist with the given settings (``attachable``,
    ``encrypted``, ``internal``, ``subnet``, ``gateway``, ``labels``, ``options``);
    an existing network with other settings is an error (Docker cannot change one
    in place). A subnet must lie inside the swarm's address pools. Run on a manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.network_apply backend attachable=True subnet=10.20.0.0/24
    """
    conf = {k: v for k, v in kwargs.items() if not k.startswith("__")}
    with _docker(f"network {name}") as client:
        return network_ops.network_present(client, name, conf, test=_truthy(test))


def network_remove(name, test=False):
    """
    Remove overlay network ``name``; refused while a service uses it. Run on a
    manager.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.network_remove backend
    """
    with _docker(f"network rm {name}") as client:
        return network_ops.network_absent(client, name, test=_truthy(test))


def _docker_cli(args, stdin=None):
    """Run the Docker CLI against the daemon this module uses (swarm:docker_url and
    the TLS files); its output, or CommandExecutionError with what it said."""
    import shutil
    import subprocess

    cli = shutil.which("docker")
    if not cli:
        raise CommandExecutionError(
            "stacks need the Docker CLI (package docker.io or docker-ce-cli) on this manager"
        )
    conf = _settings()
    argv = [cli, "--host", conf.resolved_url()]
    if conf.tls_cert or conf.tls_ca:
        argv.append("--tlsverify" if conf.tls_verify is not False else "--tls")
        for flag, path in (
            ("--tlscacert", conf.tls_ca),
            ("--tlscert", conf.tls_cert),
            ("--tlskey", conf.tls_key),
        ):
            if path:
                argv += [flag, path]
    done = subprocess.run(
        [*argv, *args], input=stdin, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip()
        raise CommandExecutionError(f"docker {' '.join(args[:2])} failed: {redact(said)}")
    return done.stdout


def _compose_text(source, template, context):
    text = __salt__["cp.get_file_str"](source)
    if text is False or text is None:
        raise CommandExecutionError(f"compose file {source} cannot be read")
    if template:
        text = __salt__["file.apply_template_on_contents"](
            text, template, context or {}, {}, __opts__.get("saltenv") or "base"
        )
    return text


def stack_apply(
    name,
    source,
    prune=False,
    resolve_image="always",
    template=None,
    context=None,
    test=False,
    wait=None,
):
    """
    Deploy stack ``name`` from the compose file ``source`` (``salt://`` or a local
    path; rendered with ``template``, e.g. ``jinja``, and ``context``) with the
    Docker CLI's ``docker stack deploy``, when the file's services differ from the
    stack's: a re-run with the same file does not call Docker. ``prune`` removes the
    stack's services the file no longer has. ``resolve_image``: Docker's
    ``--resolve-image`` (``always``, ``changed``, ``never``). Created and updated
    services are followed until they converge (``wait`` seconds, default 300).
    Returns ``changes`` (``created``, ``updated``, ``removed`` services). Run on a
    manager with the Docker CLI installed.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.stack_apply web salt://web/compose.yml test=True
    """
    if resolve_image not in stack_ops.RESOLVE:
        raise CommandExecutionError(f"resolve_image: one of {', '.join(stack_ops.RESOLVE)}")
    text = _compose_text(source, template, context)

    def deploy(compose, with_prune):
        args = ["stack", "deploy", "--compose-file", "-", "--resolve-image", resolve_image]
        _docker_cli([*args, *(["--prune"] if with_prune else []), name], stdin=compose)

    with _docker(f"stack {name}") as client:
        plan = stack_ops.stack_plan(client, name, text, prune=_truthy(prune))
        if _truthy(test):
            return plan.report()
        return stack_ops.apply_stack(client, plan, deploy, _wait(wait))


def stack_remove(name, test=False):
    """
    Remove stack ``name`` (its services, and the networks, secrets and configs the
    stack made) with ``docker stack rm``; a no-op when it has no service. Run on a
    manager with the Docker CLI installed.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.stack_remove web
    """
    with _docker(f"stack rm {name}") as client:
        services = stack_ops.remove_plan(client, name)
    if not services:
        return {"changed": False, "changes": {}, "comment": f"stack {name} is absent"}
    changes = {"removed": services}
    if _truthy(test):
        return {"changed": True, "changes": changes, "comment": f"stack {name} would be removed"}
    _docker_cli(["stack", "rm", name])
    return {"changed": True, "changes": changes, "comment": f"stack {name} removed"}


# ---- the removed salt.modules.swarm's service functions, kept working ----------


def service_create(
    image=None,
    name=None,
    command=None,
    hostname=None,
    replicas=None,
    target_port=None,
    published_port=None,
):
    """
    Deprecated: the removed ``salt.modules.swarm`` function, kept so old calls work;
    use ``swarm.service_apply`` (or the state ``swarm.service_present``). Creates
    service ``name`` from ``image`` with ``replicas`` tasks, or updates it to these
    arguments on a later call. ``command`` (``None``: the image's own) and
    ``hostname`` go to the containers. ``published_port`` is published and sent to
    ``target_port`` in the containers (the old function swapped the two).

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.service_create image=httpd name=web command=None hostname=web replicas=6 target_port=80 published_port=8080
    """
    log.warning("swarm.service_create is deprecated: use swarm.service_apply")
    spec = {"image": image}
    if command not in (None, "None", ""):
        spec["command"] = command
    if hostname not in (None, "None", ""):
        spec["hostname"] = hostname
    if replicas not in (None, "None", ""):
        spec["replicas"] = int(replicas)
    if target_port not in (None, "None", ""):
        port = {"target": int(target_port)}
        if published_port not in (None, "None", ""):
            port["published"] = int(published_port)
        spec["ports"] = [port]
    res = service_apply(name, spec)
    return {
        **res,
        "Info": res["comment"],
        "Name": name,
        "Image": image,
        "Replicas": spec.get("replicas", 1),
        "Minion Id": __grains__["id"],
    }


def swarm_service_info(service_name=None):
    """
    Deprecated: the removed ``salt.modules.swarm`` function, kept so old calls work;
    use ``swarm.service_info``. Service ``service_name`` in its flat keys, for
    replicated and global services alike (ports: the first published one).

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.swarm_service_info service_name=web
    """
    log.warning("swarm.swarm_service_info is deprecated: use swarm.service_info")
    with _docker(f"service inspect {service_name}") as client:
        found = service_ops.find_service(client, service_name)
        if found is None:
            raise CommandExecutionError(f"service {service_name}: no such service")
        svc = client.api.inspect_service(found["ID"])
    spec = svc["Spec"]
    ports = (svc.get("Endpoint") or {}).get("Ports") or [{}]
    replicated = (spec.get("Mode") or {}).get("Replicated")
    return {
        "Service Name": spec["Name"],
        "Replicas": replicated.get("Replicas") if replicated else None,
        "Service ID": svc["ID"],
        "Network": [v.get("Addr") for v in (svc.get("Endpoint") or {}).get("VirtualIPs") or []],
        "Network Mode": ((svc.get("Endpoint") or {}).get("Spec") or {}).get("Mode"),
        "Creation Date": svc.get("CreatedAt"),
        "Update Date": svc.get("UpdatedAt"),
        "Published Port": ports[0].get("PublishedPort"),
        "Target Port": ports[0].get("TargetPort"),
        "Published Mode": ports[0].get("PublishMode"),
        "Protocol": ports[0].get("Protocol"),
        "Docker Image": spec["TaskTemplate"]["ContainerSpec"].get("Image"),
        "Minion Id": __grains__["id"],
        "Version": svc["Version"]["Index"],
    }


def remove_service(service=None):
    """
    Deprecated: the removed ``salt.modules.swarm`` function, kept so old calls work;
    use ``swarm.service_remove``. Removes service ``service``; ``Service Deleted`` is
    false when there was no such service.

    CLI Example:

    .. code-block:: bash

        salt manager1 swarm.remove_service service=web
    """
    log.warning("swarm.remove_service is deprecated: use swarm.service_remove")
    res = service_remove(service)
    return {"Service Deleted": res["changed"], "Minion ID": __grains__["id"], **res}
