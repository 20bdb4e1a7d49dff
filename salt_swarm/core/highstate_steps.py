"""The states a minion's own SLS of the formula run (``swarm``, ``swarm.first``,
``swarm.manager``, ``swarm.worker``, ``swarm.store``, ``swarm.node``): decided here,
from the ``swarm:`` settings (defaults merged) and the minion's role; the SLS files
only write them out (``states/swarm/steps.jinja``).

Each step is ``{id, state, args}`` like the bootstrap's (core/bootstrap_steps.py):
``args`` is the SLS argument list (one-key mappings). State IDs are constants and
counters: ids, hostnames and pillar strings go into values only.
"""

from __future__ import annotations

import json

from salt_swarm.core.bootstrap_steps import INIT_KEYS
from salt_swarm.core.errors import SwarmError

NOT_A_MEMBER = "this minion is in neither swarm:managers nor swarm:workers"
TWINS_STEP = "swarm stale twin nodes"
NODE_KEYS = ("role", "availability", "labels")


def for_sls(
    sls: str, settings: dict, own_role, minion_id: str, version: str, os_family: str | None = None
) -> dict:
    """``{include, steps}`` for the formula's SLS ``sls``: ``settings`` is pillar
    ``swarm:`` with the defaults merged (for ``swarm.node``: pillar ``swarm_nodes``);
    ``own_role()`` gives this minion's role (``managers``, ``workers`` or None)."""
    settings = settings if isinstance(settings, dict) else {}
    if sls == "swarm":
        if settings.get("formula_version") != version:
            raise SwarmError(
                f"salt-swarm versions differ: this minion runs the extension {version}, the "
                f"formula served to it is {settings.get('formula_version')}; install the same "
                "salt-swarm on the master and the minions (docs/install.md)"
            )
        return highstate(own_role(), settings, minion_id)
    found = {
        "swarm.first": lambda: first(settings),
        "swarm.manager": lambda: manager(settings),
        "swarm.worker": lambda: worker(settings),
        "swarm.store": lambda: store(own_role(), settings),
        "swarm.node": lambda: node(settings),
        "swarm.engine": lambda: engine(settings.get("engine"), os_family),
        "swarm.apps": lambda: apps(settings.get("apps")),
    }.get(sls)
    if found is None:
        raise SwarmError(f"sls: {sls!r} is not an SLS of the swarm formula with its own steps")
    return {"include": [], "steps": found()}


def step(step_id: str, state: str, args: list) -> dict:
    return {"id": step_id, "state": state, "args": args}


def highstate(role: str | None, swarm: dict, minion_id: str) -> dict:
    """``swarm`` (init.sls): ``{include, steps}``: the SLS of this minion's role (the
    token store when ``swarm:token_store`` is set; the first manager only on the
    minion ``swarm:first_manager`` names), or a no-op step for a minion in no role."""
    if not role:
        return {
            "include": [],
            "steps": [step("swarm not a member", "test.nop", [{"name": NOT_A_MEMBER}])],
        }
    if swarm.get("token_store"):
        sls = "swarm.store"
    elif role == "workers":
        sls = "swarm.worker"
    else:
        sls = "swarm.first" if swarm.get("first_manager") == minion_id else "swarm.manager"
    return {"include": [sls], "steps": []}


def first(swarm: dict) -> list[dict]:
    """The first manager: initialized here unless it manages a swarm."""
    init = swarm.get("init") or {}
    args = [*_addresses(swarm, manager=True), {"mine_update": True}]
    args += [{key: init[key]} for key in INIT_KEYS if init.get(key) is not None]
    return [step("swarm initialized", "swarm.initialized", args)]


def manager(swarm: dict) -> list[dict]:
    """A manager joining through the mine."""
    args = [*_addresses(swarm, manager=True), {"mine_update": True}]
    return [
        step("swarm manager", "swarm.manager", [*args, {"mine_timeout": swarm.get("mine_timeout")}])
    ]


def worker(swarm: dict) -> list[dict]:
    """A worker joining through the mine."""
    args = [*_addresses(swarm, manager=False), {"mine_timeout": swarm.get("mine_timeout")}]
    return [step("swarm worker", "swarm.worker", args)]


def store(role: str | None, swarm: dict) -> list[dict]:
    """Membership through the token store ``swarm:token_store``."""
    if not role:
        raise SwarmError(f"swarm.store: {NOT_A_MEMBER}")
    is_manager = role == "managers"
    address, *listen = _addresses(swarm, manager=is_manager)
    args = [{"role": "manager" if is_manager else "worker"}, {"store": swarm.get("token_store")}]
    return [
        step(
            "swarm member through the token store", "swarm.store_joined", [*args, address, *listen]
        )
    ]


def node(nodes: dict) -> list[dict]:
    """Run on a manager by hand: stale twins pruned, then each node of ``nodes``
    (pillar ``swarm_nodes``: hostname -> {role, availability, labels}) set, in the
    order of the hostnames, case aside."""
    out = [step(TWINS_STEP, "swarm.twins_pruned", [{"name": "stale twins"}])]
    require = {"require": [{"swarm": TWINS_STEP}]}
    ordered = sorted((nodes or {}).items(), key=lambda kv: _case_aside(kv[0]))
    for index, (hostname, want) in enumerate(ordered, start=1):
        want = want or {}
        args = [require, {"name": hostname}]
        args += [{key: want[key]} for key in NODE_KEYS if want.get(key)]
        out.append(step(f"swarm node {index}", "swarm.node", args))
    return out


APP_GROUPS = {  # pillar swarm:apps group -> (state, step id word), in the order applied
    "networks": ("swarm.network_present", "network"),
    "secrets": ("swarm.secret_present", "secret"),
    "configs": ("swarm.config_present", "config"),
    "services": ("swarm.service_present", "service"),
}
VERSIONED_KEYS = ("contents_pillar", "source", "contents", "keep", "labels", "wait")


def apps(conf) -> list[dict]:
    """``swarm.apps`` on a manager: pillar ``swarm:apps`` (``networks``, ``secrets``,
    ``configs``, ``services``: name -> settings) as states, in that order; each
    service requires every network, secret and config step before it."""
    if conf in (None, {}):
        return [step("swarm apps none", "test.nop", [{"name": "pillar swarm:apps is empty"}])]
    if not isinstance(conf, dict):
        raise SwarmError(f"swarm:apps: expected a mapping of {', '.join(APP_GROUPS)}")
    for group in conf:
        if group not in APP_GROUPS:
            raise SwarmError(f"swarm:apps: unknown group {group!r}; known: {', '.join(APP_GROUPS)}")
    out, before = [], []
    for group, (state, word) in APP_GROUPS.items():
        entries = conf.get(group) or {}
        if not isinstance(entries, dict):
            raise SwarmError(f"swarm:apps:{group}: expected a mapping of name -> settings")
        for index, (name, settings) in enumerate(
            sorted(entries.items(), key=lambda kv: str(kv[0])), 1
        ):
            settings = settings or {}
            if not isinstance(settings, dict):
                raise SwarmError(f"swarm:apps:{group}:{name}: expected a mapping")
            args = [{"name": name}, *_app_args(group, name, settings)]
            if group == "services" and before:
                args.append({"require": [{"swarm": b} for b in before]})
            step_id = f"swarm apps {word} {index}"
            out.append(step(step_id, state, args))
            if group != "services":
                before.append(step_id)
    return out


def _app_args(group: str, name, settings: dict) -> list[dict]:
    if group == "services":
        spec = {k: v for k, v in settings.items() if k != "wait"}
        found = [{"spec": spec}]
        return found + ([{"wait": settings["wait"]}] if "wait" in settings else [])
    if group in ("secrets", "configs"):
        unknown = sorted(set(settings) - set(VERSIONED_KEYS))
        if unknown:
            raise SwarmError(
                f"swarm:apps:{group}:{name}: unknown key {unknown[0]!r}; known: "
                f"{', '.join(VERSIONED_KEYS)}"
            )
    return [{key: value} for key, value in settings.items()]


# The distribution's Docker Engine package, where there is one to name.
ENGINE_PACKAGES = {"Debian": "docker.io"}
ENGINE_LEFT_ALONE = (
    "Docker Engine is left alone: pillar swarm:engine:install is false (set it to true "
    "to install the distribution's package and keep its service running)"
)


def engine(conf, os_family: str | None) -> list[dict]:
    """``swarm.engine``: the distribution's Docker Engine installed and running, when
    ``swarm:engine:install`` is true (package and service from pillar, else the
    distribution's); a no-op saying so when false; refused on anything else."""
    conf = conf if isinstance(conf, dict) else {}
    install = conf.get("install", False)
    if install is False or install is None:
        return [step("swarm engine not managed", "test.nop", [{"name": ENGINE_LEFT_ALONE}])]
    if install is not True:
        reason = f"swarm:engine:install: expected true or false, got {json.dumps(install)}"
        return [_refused("swarm engine install flag", "swarm:engine:install", reason)]
    package = conf.get("package") or ENGINE_PACKAGES.get(os_family)
    if not package:
        reason = (
            f"no default Docker package for os_family {os_family or 'unknown'}: "
            "set pillar swarm:engine:package"
        )
        return [_refused("swarm engine package unknown", "swarm:engine:package", reason)]
    service = conf.get("service") or "docker"
    require = {"require": [{"pkg": "swarm engine package"}]}
    return [
        step("swarm engine package", "pkg.installed", [{"name": package}]),
        step(
            "swarm engine service",
            "service.running",
            [{"name": service}, {"enable": True}, require],
        ),
    ]


def _refused(step_id: str, name: str, reason: str) -> dict:
    return step(step_id, "swarm.refused", [{"name": name}, {"reason": reason}])


def _addresses(swarm: dict, manager: bool) -> list[dict]:
    found = [{"advertise_addr": swarm.get("advertise_addr") or None}]
    if manager:
        found.append({"listen_addr": swarm.get("listen_addr") or None})
    return found


def _case_aside(key):
    return key.lower() if isinstance(key, str) else key
