"""Check the formula's ``swarm:`` pillar on the master, before anything changes.

Every problem names the pillar key (``swarm:init:data_path_port``) and says what is
wanted. What only a node can know (does interface eth1 exist there, does a CIDR
match one of its addresses, does its dockerd answer) is checked on each node by the
``swarm.preflight`` function instead.
"""

from __future__ import annotations

import difflib
import ipaddress
import re

from salt_swarm.core import settings
from salt_swarm.core.addresses import check_pool, split_port
from salt_swarm.core.did_you_mean import unknown_key
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.grain_labels import check_rules as check_grain_rules
from salt_swarm.core.kv_stores import parse_sdb_uri
from salt_swarm.core.labels import validate as validate_labels
from salt_swarm.core.maintenance import check_budgets
from salt_swarm.core.role_targets import TARGET_TYPES, refuse_grain_target
from salt_swarm.core.secrets import check_unlock_key
from salt_swarm.core.swarm_init import InitOptions

_IFNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:@-]{0,14}$")
_DOCKER_URL_RE = re.compile(r"^(unix|tcp|ssh|http|https|npipe)://\S+$")
_INIT_KEYS = ("default_addr_pool", "subnet_size", "data_path_port", "autolock")
_MINE_KEYS = (
    "target",
    "target_type",
    "addr_function",
    "worker_token_function",
    "manager_token_function",
)
_ENGINE_KEYS = ("install", "package", "service")


def _text(conf, key, field, problems):
    value = conf.get(key)
    if value not in (None, "") and not isinstance(value, str):
        problems.append(f"{field}: expected a string, got {type(value).__name__} {value!r}")


def _flag(conf, key, field, problems):
    value = conf.get(key)
    if value is not None and not isinstance(value, bool):
        problems.append(f"{field}: expected true or false, got {value!r}")


def _seconds(conf, key, field, problems):
    value = conf.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        problems.append(f"{field}: expected a number of seconds (0 or more), got {value!r}")


def _unknown_keys(conf: dict, known, field: str, problems: list) -> None:
    for key in sorted(set(conf) - set(known), key=str):
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f" (did you mean {field}:{close[0]}?)" if close else ""
        problems.append(
            f"{field}:{key}: not a setting of the swarm formula{hint}; "
            f"known: {', '.join(sorted(known))}"
        )


def check_target(spec, field: str, required: bool = False) -> list[str]:
    """A role or label target: a glob string, a list of minion ids, or {tgt, tgt_type}."""
    if spec in (None, "", {}, []):
        return [f"{field}: no target given: a swarm needs at least one manager"] if required else []
    if isinstance(spec, str):
        return []
    if isinstance(spec, list):
        bad = [m for m in spec if not isinstance(m, str) or not m]
        return [f"{field}: a list target holds minion ids (strings), not {bad!r}"] if bad else []
    if not isinstance(spec, dict):
        return [
            f"{field}: expected a target such as {{tgt: 'manager*', tgt_type: glob}}, "
            f"got {type(spec).__name__} {spec!r}"
        ]
    problems = []
    tgt = spec.get("tgt")
    if not tgt or not isinstance(tgt, str | list):
        problems.append(f"{field}:tgt: expected a target string, got {tgt!r}")
    tgt_type = spec.get("tgt_type", "glob")
    if tgt_type not in TARGET_TYPES:
        close = difflib.get_close_matches(str(tgt_type), TARGET_TYPES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(
            f"{field}:tgt_type: {tgt_type!r} is not one of {', '.join(TARGET_TYPES)}{hint}"
        )
    _unknown_keys(
        {k: v for k, v in spec.items() if k != "labels"}, ("tgt", "tgt_type"), field, problems
    )
    return problems


def check_address_spec(spec, field: str) -> list[str]:
    """Syntax only: an IP address (with an optional port), an interface name or a CIDR."""
    if spec in (None, ""):
        return []
    if not isinstance(spec, str):
        return [f"{field}: expected an address, interface name or CIDR, got {spec!r}"]
    if "/" in spec:
        try:
            ipaddress.ip_network(spec, strict=False)
        except ValueError as exc:
            return [f"{field}: bad CIDR {spec!r}: {exc}"]
        return []
    try:
        host, _ = split_port(spec, field)
    except SwarmError as exc:
        return [str(exc)]
    try:
        ipaddress.ip_address(host)
        return []
    except ValueError:
        pass
    if not _IFNAME_RE.match(host):
        return [f"{field}: {spec!r} is neither an IP address, an interface name nor a CIDR"]
    return []


def _check_init(init, problems: list) -> None:
    field = "swarm:init"
    if init in (None, ""):
        return
    if not isinstance(init, dict):
        problems.append(f"{field}: expected a mapping of init options, got {init!r}")
        return
    _unknown_keys(init, _INIT_KEYS, field, problems)
    pools = init.get("default_addr_pool")
    if pools is not None and not isinstance(pools, list):
        problems.append(
            f"{field}:default_addr_pool: expected a list of CIDRs (e.g. [10.20.0.0/16]), "
            f"got {type(pools).__name__} {pools!r}"
        )
        return
    for i, pool in enumerate(pools or []):
        try:
            check_pool(pool, f"{field}:default_addr_pool[{i}]")
        except SwarmError as exc:
            problems.append(str(exc))
            return
    _flag(init, "autolock", f"{field}:autolock", problems)
    try:
        InitOptions(
            default_addr_pool=tuple(pools or ()),
            subnet_size=init.get("subnet_size"),
            data_path_port=init.get("data_path_port"),
        ).validated()
    except SwarmError as exc:
        problems.append(f"{field}:{exc}")


def _check_labels(rules, problems: list) -> None:
    field = "swarm:labels"
    if rules in (None, ""):
        return
    if not isinstance(rules, list):
        problems.append(
            f"{field}: expected a list of {{tgt, tgt_type, labels}} rules, got {type(rules).__name__}"
        )
        return
    for i, rule in enumerate(rules):
        where = f"{field}[{i}]"
        if not isinstance(rule, dict):
            problems.append(f"{where}: expected {{tgt, tgt_type, labels}}, got {rule!r}")
            continue
        problems.extend(check_target(rule, where, required=False) if rule.get("tgt") else [])
        if not rule.get("tgt"):
            problems.append(f"{where}:tgt: every label rule needs a target")
        try:
            if not isinstance(rule.get("labels"), dict):
                raise SwarmError(f"{where}:labels: expected a mapping of label keys to values")
            validate_labels(rule["labels"], f"{where}:labels")
        except SwarmError as exc:
            problems.append(str(exc))


def _check_mine(mine, problems: list) -> None:
    field = "swarm:mine"
    if mine in (None, ""):
        return
    if not isinstance(mine, dict):
        problems.append(f"{field}: expected a mapping ({', '.join(_MINE_KEYS)}), got {mine!r}")
        return
    _unknown_keys(mine, _MINE_KEYS, field, problems)
    for key in _MINE_KEYS:
        _text(mine, key, f"{field}:{key}", problems)
    if mine.get("target_type") and mine["target_type"] not in TARGET_TYPES:
        problems.append(
            f"{field}:target_type: {mine['target_type']!r} is not one of {', '.join(TARGET_TYPES)}"
        )


def _check_engine(engine, problems: list) -> None:
    if engine in (None, ""):
        return
    if not isinstance(engine, dict):
        problems.append(f"swarm:engine: expected a mapping, got {engine!r}")
        return
    _unknown_keys(engine, _ENGINE_KEYS, "swarm:engine", problems)
    _flag(engine, "install", "swarm:engine:install", problems)
    for key in ("package", "service"):
        _text(engine, key, f"swarm:engine:{key}", problems)


def problems(conf) -> list[str]:
    """Every problem in the ``swarm:`` pillar (an empty list when it is usable)."""
    if conf in (None, ""):
        return ["swarm: no pillar at all: set swarm:managers (see pillar.example/swarm.sls)"]
    if not isinstance(conf, dict):
        return [f"swarm: expected a mapping, got {type(conf).__name__}"]
    found: list[str] = []
    _unknown_keys(conf, settings.KNOWN_KEYS, "swarm", found)
    found += check_target(conf.get("managers"), "swarm:managers", required=True)
    found += check_target(conf.get("workers"), "swarm:workers")
    for key in ("advertise_addr", "listen_addr"):
        found += check_address_spec(conf.get(key), f"swarm:{key}")
    _check_init(conf.get("init"), found)
    for key in settings.of_kind("flag"):
        _flag(conf, key, f"swarm:{key}", found)
    _check_labels(conf.get("labels"), found)
    for key in settings.of_kind("seconds"):
        _seconds(conf, key, f"swarm:{key}", found)
    for key in settings.of_kind("text"):
        _text(conf, key, f"swarm:{key}", found)
    url = conf.get("docker_url")
    if url not in (None, "") and (not isinstance(url, str) or not _DOCKER_URL_RE.match(url)):
        found.append(
            f"swarm:docker_url: {url!r} is not a Docker URL "
            "(unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host)"
        )
    if conf.get("unlock_key") not in (None, ""):
        try:
            check_unlock_key(conf["unlock_key"], "swarm:unlock_key")
        except SwarmError as exc:
            found.append(str(exc))
    _check_mine(conf.get("mine"), found)
    _check_engine(conf.get("engine"), found)
    for check in (_check_grain_labels, _check_token_store, _check_apps, _check_budget):
        try:
            check(conf)
        except SwarmError as exc:
            found.append(str(exc))
    return found


def _check_grain_labels(conf: dict) -> None:
    check_grain_rules(conf.get("grain_labels"), "swarm:grain_labels")


def _check_apps(conf: dict) -> None:
    """The shape of ``swarm:apps`` and the keys of each service; the values are
    checked where they are applied (a service's networks and secrets must exist)."""
    from salt_swarm.core.highstate_steps import apps
    from salt_swarm.core.service_spec import KNOWN_KEYS

    if conf.get("apps") in (None, ""):
        return
    apps(conf["apps"])
    for name, spec in (conf["apps"].get("services") or {}).items():
        for key in spec or {}:
            if key not in KNOWN_KEYS and key != "wait":
                raise SwarmError(
                    unknown_key(f"swarm:apps:services:{name}", key, [*KNOWN_KEYS, "wait"])
                )


def _check_budget(conf: dict) -> None:
    check_budgets(conf.get("budget"))


def _check_token_store(conf: dict) -> None:
    if conf.get("token_store") not in (None, ""):
        parse_sdb_uri(conf["token_store"], "swarm:token_store")


def grain_problems(conf: dict, nodegroups: dict | None = None) -> list[str]:
    """With a salt-master: targets that match on grains (a minion's own word), unless
    ``swarm:trust_grains`` is true. ``nodegroups``: the master's, to look inside."""
    if not isinstance(conf, dict) or conf.get("trust_grains") is True:
        return []
    found = []
    wanted = [("managers", conf.get("managers")), ("workers", conf.get("workers"))]
    for i, rule in enumerate(conf.get("labels") or []):
        if isinstance(rule, dict) and rule.get("tgt"):
            wanted.append((f"labels[{i}]", rule))
    mine = conf.get("mine") if isinstance(conf.get("mine"), dict) else {}
    if mine.get("target"):
        wanted.append(("mine:target", {"tgt": mine["target"], "tgt_type": mine.get("target_type")}))
    for key, spec in wanted:
        if isinstance(spec, dict):
            if not spec.get("tgt"):
                continue  # no target: nothing matches (problems() names a bad one)
            spec = {**spec, "tgt_type": spec.get("tgt_type") or "glob"}
        try:
            refuse_grain_target(spec, f"swarm:{key}", False, nodegroups)
        except SwarmError as exc:
            found.append(str(exc))
    return found


def check(conf, nodegroups: dict | None = None) -> dict:
    """Raise SwarmError listing every problem (grain targets included: this runs where a
    master decides); return ``conf`` when it is usable."""
    found = problems(conf)
    if not found:
        found = grain_problems(conf, nodegroups)
    if found:
        raise SwarmError("pillar swarm: is not usable: " + "; ".join(found))
    return conf
