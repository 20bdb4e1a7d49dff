"""A service as a user writes it in SLS or pillar, turned into Docker's ServiceSpec, and
compared with what a service runs now.

Every key a user may write is one ``Field``: where it lives in Docker's spec, how the
user's value becomes the API's, and how either side is viewed for comparing and for
reports. A key the user leaves out is not managed: it is neither compared nor
changed (write ``env: {}`` to clear the environment). Structured keys
(``update_config``, ``healthcheck``, ...) are compared on the sub-keys given, so
values Docker fills in do not count as drift.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from salt_swarm.core.did_you_mean import unknown_key
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.units import duration_ns, nano_cpus, shown_duration, size_bytes

# name[:tag][@digest], lower-case repository path, optional registry host[:port]
_IMAGE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
_ENV_KEY = re.compile(r"^[^=\s]+$")


class Resolver:
    """Names of networks, secrets and configs to Docker's ids and back. The real one
    reads the swarm (core/services.py); tests give a fake."""

    def network_id(self, name: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def network_name(self, ident: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def secret(self, name: str) -> tuple[str, str]:  # pragma: no cover - interface
        """(id, name) of the secret version a reference means now."""
        raise NotImplementedError

    def config(self, name: str) -> tuple[str, str]:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]
    to_api: Callable[[Any, str, Resolver], Any]
    view: Callable[[Any, Resolver], Any] = lambda value, resolver: _empty_to_none(value)
    partial: bool = False  # compared on the sub-keys the user gives


def _empty_to_none(value):
    return None if value in (None, "", [], {}, False) else value


# ---- converters --------------------------------------------------------------


def _string(value, field, resolver=None) -> str:
    if not isinstance(value, str) or not value:
        raise SwarmError(f"{field}: expected a non-empty string, got {value!r}")
    return value


def _bool(value, field, resolver=None) -> bool:
    if not isinstance(value, bool):
        raise SwarmError(f"{field}: expected true or false, got {value!r}")
    return value


def _int(value, field, low=0, high=None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SwarmError(f"{field}: expected an integer >= {low}, got {value!r}")
    if high is not None and value > high:
        raise SwarmError(f"{field}: expected an integer <= {high}, got {value!r}")
    return value


def _image(value, field, resolver=None) -> str:
    if not isinstance(value, str) or not _IMAGE.match(value):
        raise SwarmError(
            f"{field}: {value!r} is not an image reference (name[:tag][@sha256:digest], "
            "lower-case name)"
        )
    return value


def _argv(value, field, resolver=None) -> list[str]:
    if isinstance(value, str):
        return shlex.split(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    raise SwarmError(f"{field}: expected a list of strings or one command line, got {value!r}")


def _string_map(value, field, resolver=None) -> dict[str, str]:
    if not isinstance(value, dict):
        raise SwarmError(f"{field}: expected a mapping, got {type(value).__name__}")
    out = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise SwarmError(f"{field}: keys must be non-empty strings, got {key!r}")
        if isinstance(item, dict | list) or item is None:
            raise SwarmError(f"{field}.{key}: expected a string, got {item!r}")
        out[key] = item if isinstance(item, str) else _scalar_text(item)
    return out


def _scalar_text(item) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


def _env(value, field, resolver=None) -> list[str]:
    if isinstance(value, dict):
        pairs = _string_map(value, field)
        bad = [k for k in pairs if not _ENV_KEY.match(k)]
        if bad:
            raise SwarmError(f"{field}: {bad[0]!r} is not a variable name")
        return [f"{k}={v}" for k, v in pairs.items()]
    if isinstance(value, list) and all(isinstance(v, str) and "=" in v for v in value):
        return list(value)
    raise SwarmError(f"{field}: expected a mapping NAME: value (or a list of NAME=value)")


def _string_list(value, field, resolver=None) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SwarmError(f"{field}: expected a list of strings, got {value!r}")
    return list(value)


def _constraints(value, field, resolver=None) -> list[str]:
    found = _string_list(value, field)
    for text in found:
        if not re.match(r"^\s*[\w.-]+\s*(==|!=)\s*\S.*$", text):
            raise SwarmError(
                f"{field}: {text!r} is not a constraint such as node.role==manager or "
                "node.labels.zone!=a"
            )
    return found


def _preferences(value, field, resolver=None) -> list[dict]:
    if not isinstance(value, list):
        raise SwarmError(f"{field}: expected a list such as [{{spread: node.labels.zone}}]")
    out = []
    for item in value:
        if not (
            isinstance(item, dict) and set(item) == {"spread"} and isinstance(item["spread"], str)
        ):
            raise SwarmError(f"{field}: {item!r}: each preference is {{spread: node.labels.<key>}}")
        out.append({"Spread": {"SpreadDescriptor": item["spread"]}})
    return out


def _sub(value, field, keys: dict[str, tuple[str, Callable]]) -> dict:
    """A mapping of known sub-keys, each converted: ``keys`` maps user key to (API key,
    converter)."""
    if not isinstance(value, dict):
        raise SwarmError(f"{field}: expected a mapping of {', '.join(sorted(keys))}")
    out = {}
    for key, item in value.items():
        if key not in keys:
            raise SwarmError(unknown_key(f"{field}.{key}", key, keys))
        api_key, convert = keys[key]
        out[api_key] = convert(item, f"{field}.{key}")
    return out


def _choice(*allowed):
    def convert(value, field, resolver=None):
        if value not in allowed:
            raise SwarmError(f"{field}: {value!r} is not one of {', '.join(allowed)}")
        return value

    return convert


def _ratio(value, field, resolver=None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise SwarmError(f"{field}: expected a number from 0 to 1, got {value!r}")
    return float(value)


_ROLLOUT = {
    "parallelism": ("Parallelism", lambda v, f: _int(v, f)),
    "delay": ("Delay", duration_ns),
    "failure_action": ("FailureAction", _choice("pause", "continue", "rollback")),
    "monitor": ("Monitor", duration_ns),
    "max_failure_ratio": ("MaxFailureRatio", _ratio),
    "order": ("Order", _choice("stop-first", "start-first")),
}
_ROLLBACK = {k: v for k, v in _ROLLOUT.items() if k != "failure_action"}
_ROLLBACK["failure_action"] = ("FailureAction", _choice("pause", "continue"))
_RESTART = {
    "condition": ("Condition", _choice("none", "on-failure", "any")),
    "delay": ("Delay", duration_ns),
    "max_attempts": ("MaxAttempts", lambda v, f: _int(v, f)),
    "window": ("Window", duration_ns),
}
_HEALTH = {
    "test": ("Test", lambda v, f: _health_test(v, f)),
    "interval": ("Interval", duration_ns),
    "timeout": ("Timeout", duration_ns),
    "retries": ("Retries", lambda v, f: _int(v, f)),
    "start_period": ("StartPeriod", duration_ns),
}
_LIMITS = {"cpus": ("NanoCPUs", nano_cpus), "memory": ("MemoryBytes", size_bytes)}


def _health_test(value, field) -> list[str]:
    if isinstance(value, str):
        return ["CMD-SHELL", value]
    if isinstance(value, list) and value and value[0] in ("CMD", "CMD-SHELL", "NONE"):
        return [str(v) for v in value]
    raise SwarmError(f"{field}: a command line, or a list starting with CMD, CMD-SHELL or NONE")


def _resources(value, field, resolver=None) -> dict:
    keys = {
        "limits": ("Limits", lambda v, f: _sub(v, f, _LIMITS)),
        "reservations": ("Reservations", lambda v, f: _sub(v, f, _LIMITS)),
    }
    return _sub(value, field, keys)


def _ports(value, field, resolver=None) -> list[dict]:
    if not isinstance(value, list):
        raise SwarmError(f"{field}: expected a list of {{target, published, protocol, mode}}")
    out = []
    for item in value:
        if isinstance(item, str | int):
            item = _port_text(item, field)
        if not isinstance(item, dict) or "target" not in item:
            raise SwarmError(f"{field}: {item!r}: each port needs at least target")
        keys = {
            "target": ("TargetPort", lambda v, f: _int(v, f, 1, 65535)),
            "published": ("PublishedPort", lambda v, f: _int(v, f, 1, 65535)),
            "protocol": ("Protocol", _choice("tcp", "udp", "sctp")),
            "mode": ("PublishMode", _choice("ingress", "host")),
        }
        port = {"Protocol": "tcp", "PublishMode": "ingress", **_sub(item, field, keys)}
        out.append(port)
    return out


def _port_text(text, field) -> dict:
    match = re.match(r"^(?:(\d+):)?(\d+)(?:/(tcp|udp|sctp))?$", str(text))
    if not match:
        raise SwarmError(f"{field}: {text!r} is not a port such as 8080:80 or 53/udp")
    published, target, protocol = match.groups()
    port = {"target": int(target), "protocol": protocol or "tcp"}
    if published:
        port["published"] = int(published)
    return port


def _mounts(value, field, resolver=None) -> list[dict]:
    if not isinstance(value, list):
        raise SwarmError(f"{field}: expected a list of {{type, source, target, read_only}}")
    keys = {
        "type": ("Type", _choice("bind", "volume", "tmpfs")),
        "source": ("Source", _string),
        "target": ("Target", _string),
        "read_only": ("ReadOnly", _bool),
    }
    out = []
    for item in value:
        mount = _sub(item, field, keys)
        if "Target" not in mount:
            raise SwarmError(f"{field}: {item!r}: each mount needs a target")
        mount.setdefault("Type", "volume")
        out.append(mount)
    return out


def _file_refs(kind: str):
    """``secrets``/``configs``: names, or {source, target, uid, gid, mode}."""

    def convert(value, field, resolver):
        if not isinstance(value, list):
            raise SwarmError(f"{field}: expected a list of {kind} names or {{source, target}}")
        out = []
        for item in value:
            if isinstance(item, str):
                item = {"source": item}
            if not isinstance(item, dict) or not isinstance(item.get("source"), str):
                raise SwarmError(f"{field}: {item!r}: each entry needs a source name")
            unknown = set(item) - {"source", "target", "uid", "gid", "mode"}
            if unknown:
                raise SwarmError(
                    unknown_key(
                        f"{field}", sorted(unknown)[0], {"source", "target", "uid", "gid", "mode"}
                    )
                )
            ident, name = getattr(resolver, kind[:-1])(item["source"])
            mode = item.get("mode", 0o444)
            ref = {
                "File": {
                    "Name": item.get("target") or item["source"],
                    "UID": str(item.get("uid", "0")),
                    "GID": str(item.get("gid", "0")),
                    "Mode": _int(mode, f"{field}.mode", 0, 0o777),
                },
                f"{kind[:-1].capitalize()}ID": ident,
                f"{kind[:-1].capitalize()}Name": name,
            }
            out.append(ref)
        return out

    def view(refs, resolver):
        key = f"{kind[:-1].capitalize()}Name"
        shown = [
            {
                "name": r.get(key),
                "target": (r.get("File") or {}).get("Name"),
                "mode": (r.get("File") or {}).get("Mode"),
            }
            for r in refs or []
        ]
        return sorted(shown, key=lambda r: (str(r["target"]), str(r["name"]))) or None

    return convert, view


def _networks(value, field, resolver) -> list[dict]:
    names = _string_list(value, field)
    return [{"Target": resolver.network_id(n)} for n in names]


def _networks_view(value, resolver):
    return sorted(resolver.network_name(n["Target"]) for n in value or []) or None


def _sorted_view(value, resolver):
    return sorted(value) if value else None


def _mode(value, field, resolver=None) -> dict:
    """``mode`` and ``replicas`` together (see ``to_api``)."""
    return value


def _mode_view(mode, resolver):
    mode = mode or {}
    if "Global" in mode:
        return "global"
    return f"replicated:{(mode.get('Replicated') or {}).get('Replicas', 1)}"


def _durations_shown(value, resolver):
    """A structured value for reports: nanosecond fields as durations."""
    if not value:
        return None
    return {k: (shown_duration(v) if k in _NS_KEYS else v) for k, v in value.items()}


_NS_KEYS = {"Delay", "Monitor", "Window", "Interval", "Timeout", "StartPeriod"}

_SECRETS = _file_refs("secrets")
_CONFIGS = _file_refs("configs")

FIELDS: dict[str, Field] = {
    "image": Field(("TaskTemplate", "ContainerSpec", "Image"), _image),
    "command": Field(("TaskTemplate", "ContainerSpec", "Args"), _argv),
    "entrypoint": Field(("TaskTemplate", "ContainerSpec", "Command"), _argv),
    "env": Field(("TaskTemplate", "ContainerSpec", "Env"), _env, _sorted_view),
    "labels": Field(("Labels",), _string_map),
    "container_labels": Field(("TaskTemplate", "ContainerSpec", "Labels"), _string_map),
    "hostname": Field(("TaskTemplate", "ContainerSpec", "Hostname"), _string),
    "user": Field(("TaskTemplate", "ContainerSpec", "User"), _string),
    "workdir": Field(("TaskTemplate", "ContainerSpec", "Dir"), _string),
    "init": Field(("TaskTemplate", "ContainerSpec", "Init"), _bool),
    "read_only": Field(("TaskTemplate", "ContainerSpec", "ReadOnly"), _bool),
    "tty": Field(("TaskTemplate", "ContainerSpec", "TTY"), _bool),
    "stop_signal": Field(("TaskTemplate", "ContainerSpec", "StopSignal"), _string),
    "stop_grace_period": Field(
        ("TaskTemplate", "ContainerSpec", "StopGracePeriod"),
        lambda v, f, r=None: duration_ns(v, f),
        lambda v, r: shown_duration(v) if v is not None else None,
    ),
    "mounts": Field(("TaskTemplate", "ContainerSpec", "Mounts"), _mounts),
    "secrets": Field(("TaskTemplate", "ContainerSpec", "Secrets"), _SECRETS[0], _SECRETS[1]),
    "configs": Field(("TaskTemplate", "ContainerSpec", "Configs"), _CONFIGS[0], _CONFIGS[1]),
    "healthcheck": Field(
        ("TaskTemplate", "ContainerSpec", "Healthcheck"),
        lambda v, f, r=None: _sub(v, f, _HEALTH),
        _durations_shown,
        partial=True,
    ),
    "mode": Field(("Mode",), _mode, _mode_view),
    "constraints": Field(("TaskTemplate", "Placement", "Constraints"), _constraints, _sorted_view),
    "placement_preferences": Field(("TaskTemplate", "Placement", "Preferences"), _preferences),
    "max_replicas_per_node": Field(
        ("TaskTemplate", "Placement", "MaxReplicas"), lambda v, f, r=None: _int(v, f)
    ),
    "resources": Field(("TaskTemplate", "Resources"), _resources, partial=True),
    "restart_policy": Field(
        ("TaskTemplate", "RestartPolicy"),
        lambda v, f, r=None: _sub(v, f, _RESTART),
        _durations_shown,
        partial=True,
    ),
    "networks": Field(("TaskTemplate", "Networks"), _networks, _networks_view),
    "ports": Field(("EndpointSpec", "Ports"), _ports),
    "update_config": Field(
        ("UpdateConfig",),
        lambda v, f, r=None: _sub(v, f, _ROLLOUT),
        _durations_shown,
        partial=True,
    ),
    "rollback_config": Field(
        ("RollbackConfig",),
        lambda v, f, r=None: _sub(v, f, _ROLLBACK),
        _durations_shown,
        partial=True,
    ),
}
# Keys that are not a Field of their own.
EXTRA_KEYS = ("replicas",)
KNOWN_KEYS = tuple(sorted([*FIELDS, *EXTRA_KEYS]))


def check_name(name, what: str = "service") -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SwarmError(
            f"name: {name!r} is not a {what} name (letters, digits, '_', '.', '-'; "
            "starting with a letter or digit; at most 63)"
        )
    return name


@dataclass(frozen=True)
class Wanted:
    """A checked service: its name and the API value of every key the user gave."""

    name: str
    api: dict[tuple[str, ...], Any]  # spec path -> API value
    keys: tuple[str, ...]  # the user's keys, in FIELDS' order

    def spec(self, base: dict | None = None) -> dict:
        """Docker's ServiceSpec: ``base`` (the service's current spec) with every
        managed path set; a new one without ``base``."""
        out = copy.deepcopy(base) if base else {}
        out.setdefault("Name", self.name)
        out.setdefault("TaskTemplate", {}).setdefault("ContainerSpec", {})
        for path, value in self.api.items():
            _set(out, path, value)
        return out


def wanted(name: str, spec: dict, resolver: Resolver) -> Wanted:
    """Check ``spec`` (user keys) and turn it into API values; raises SwarmError
    naming the field, before anything is changed."""
    check_name(name)
    if not isinstance(spec, dict):
        raise SwarmError(f"service {name}: expected a mapping of service keys")
    for key in spec:
        if key not in KNOWN_KEYS:
            raise SwarmError(unknown_key(f"service {name}", key, KNOWN_KEYS))
    if "image" not in spec:
        raise SwarmError(f"service {name}: image: required")
    api = {}
    keys = []
    for key, field in FIELDS.items():
        if key == "mode":
            mode = _mode_value(spec, name)
            if mode is None:
                continue
            value = mode
        elif key not in spec:
            continue
        else:
            value = field.to_api(spec[key], f"{key}", resolver)
        api[field.path] = value
        keys.append(key)
    return Wanted(name, api, tuple(keys))


def _mode_value(spec: dict, name: str) -> dict | None:
    mode = spec.get("mode")
    replicas = spec.get("replicas")
    if mode is None and replicas is None:
        return None
    mode = mode or "replicated"
    if mode not in ("replicated", "global"):
        raise SwarmError(f"mode: {mode!r} is not one of replicated, global")
    if mode == "global":
        if replicas is not None:
            raise SwarmError("replicas: not with mode global (one task on every eligible node)")
        return {"Global": {}}
    return {"Replicated": {"Replicas": _int(1 if replicas is None else replicas, "replicas")}}


def differences(want: Wanted, current: dict, resolver: Resolver) -> dict:
    """User key -> {old, new} for every managed key whose current value differs."""
    out = {}
    for key in want.keys:
        field = FIELDS[key]
        new_api = want.api[field.path]
        old_api = _get(current, field.path)
        if field.partial and isinstance(old_api, dict):
            old_api = _restricted(old_api, new_api)
        if key == "image":
            old_api = _image_without_digest(old_api, new_api)
        old, new = field.view(old_api, resolver), field.view(new_api, resolver)
        if old != new:
            out[key] = {"old": old, "new": new}
    return out


def _restricted(current: dict, wanted_api: dict) -> dict:
    """``current`` on the keys ``wanted_api`` gives (nested one level, for resources)."""
    out = {}
    for key, value in wanted_api.items():
        if isinstance(value, dict) and isinstance(current.get(key), dict):
            out[key] = {k: current[key].get(k) for k in value}
        elif key in current:
            out[key] = current[key]
    return out


def _image_without_digest(current, wanted_api):
    if isinstance(current, str) and "@" in current and "@" not in (wanted_api or ""):
        return current.split("@", 1)[0]
    return current


def user_view(current: dict, resolver: Resolver) -> dict:
    """A service's spec in the user's keys (what ``service_info`` shows)."""
    out = {}
    for key, field in FIELDS.items():
        value = field.view(_get(current, field.path), resolver)
        if value is not None:
            out[key] = value
    return out


def _get(spec: dict, path: tuple[str, ...]):
    value = spec
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _set(spec: dict, path: tuple[str, ...], value) -> None:
    for part in path[:-1]:
        spec = spec.setdefault(part, {})
    spec[path[-1]] = value
