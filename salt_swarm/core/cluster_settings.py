"""Cluster-wide settings (autolock, cert expiry, task history, ...), tokens and unlock keys.

Only the functions whose job is to return a token or key return one; nothing here logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from salt_swarm.core import local_node
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.nodes import require_manager
from salt_swarm.core.secrets import check_role, check_unlock_key

_DURATION_RE = re.compile(r"^(\d+)([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
NS = 1_000_000_000
MIN_CERT_EXPIRY_S = 3600


def duration_ns(value, field: str) -> int:
    """'90d', '2160h', '45m', '30s' or an integer of seconds -> nanoseconds."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    match = _DURATION_RE.match(text)
    if not match:
        raise SwarmError(f"{field}: {value!r} is not a duration such as 90d, 12h, 30m or 45s")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)] * NS


# setting name -> (path in the swarm spec, converter from user value)
SETTINGS = {
    "autolock": (("EncryptionConfig", "AutoLockManagers"), None),
    "cert_expiry": (("CAConfig", "NodeCertExpiry"), "duration"),
    "task_history_limit": (("Orchestration", "TaskHistoryRetentionLimit"), "int"),
    "snapshot_interval": (("Raft", "SnapshotInterval"), "int"),
    "heartbeat_period": (("Dispatcher", "HeartbeatPeriod"), "duration"),
}


def _convert(name: str, value):
    kind = SETTINGS[name][1]
    if kind is None:
        if not isinstance(value, bool):
            raise SwarmError(f"{name}: expected true or false, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SwarmError(f"{name}: expected a non-negative integer, got {value!r}")
        return value
    ns = duration_ns(value, name)
    if name == "cert_expiry" and ns < MIN_CERT_EXPIRY_S * NS:
        raise SwarmError(f"cert_expiry: {value!r} is below Docker's minimum of 1 hour")
    return ns


def _get(spec: dict, path: tuple[str, ...]):
    for key in path:
        spec = (spec or {}).get(key)
    return spec


def _set(spec: dict, path: tuple[str, ...], value) -> None:
    for key in path[:-1]:
        if not isinstance(spec.get(key), dict):
            spec[key] = {}
        spec = spec[key]
    spec[path[-1]] = value


def current(client) -> dict:
    require_manager(client)
    spec = client.api.inspect_swarm()["Spec"]
    return {name: _get(spec, path) for name, (path, _) in SETTINGS.items()}


@dataclass(frozen=True)
class SettingsPlan:
    """``changes`` (setting -> {old, new}, ``rotated_<item>``: True) and what
    ``apply_settings`` sends: the whole spec with them, at the version read."""

    changes: dict
    spec: dict
    version: int
    rotate: tuple[str, ...]


def settings_plan(client, settings: dict, rotate: tuple[str, ...] = ()) -> SettingsPlan:
    """What setting ``settings`` (None = leave as is) and the rotations would change;
    raises on an unknown setting or rotation before anything is read."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise SwarmError(f"unknown swarm setting(s): {', '.join(unknown)}")
    bad = sorted(set(rotate) - {"worker_token", "manager_token", "unlock_key"})
    if bad:
        raise SwarmError(f"rotate: unknown item(s) {', '.join(bad)}")
    wanted = {k: _convert(k, v) for k, v in settings.items() if v is not None}
    require_manager(client)
    swarm = client.api.inspect_swarm()
    spec = swarm["Spec"]
    changes = {}
    for name, value in wanted.items():
        path = SETTINGS[name][0]
        old = _get(spec, path)
        if old != value and not (old is None and value in (False, 0)):
            changes[name] = {"old": old, "new": value}
            _set(spec, path, value)
    if "unlock_key" in rotate:
        autolock_after = wanted.get("autolock", _get(spec, SETTINGS["autolock"][0]))
        if not autolock_after:
            raise SwarmError("rotate unlock_key: autolock is off, there is no unlock key")
    for item in rotate:
        changes[f"rotated_{item}"] = True
    return SettingsPlan(changes, spec, swarm["Version"]["Index"], tuple(rotate))


def apply_settings(client, plan: SettingsPlan) -> dict:
    if plan.changes:
        client.api.update_swarm(
            version=plan.version,
            swarm_spec=plan.spec,
            rotate_worker_token="worker_token" in plan.rotate,
            rotate_manager_token="manager_token" in plan.rotate,
            rotate_manager_unlock_key="unlock_key" in plan.rotate,
        )
    return plan.changes


def update(client, settings: dict, rotate: tuple[str, ...] = (), test: bool = False) -> dict:
    """Apply the given settings (None = leave as is) and rotations; return changes."""
    plan = settings_plan(client, settings, rotate)
    return plan.changes if test else apply_settings(client, plan)


def join_token(client, role: str) -> str:
    check_role(role)
    require_manager(client)
    return client.api.inspect_swarm()["JoinTokens"][role.capitalize()]


def join_tokens(client) -> dict:
    require_manager(client)
    swarm = client.api.inspect_swarm()
    tokens = swarm["JoinTokens"]
    return {"cluster_id": swarm["ID"], "manager": tokens["Manager"], "worker": tokens["Worker"]}


def unlock_key(client) -> str:
    require_manager(client)
    key = (client.api.get_unlock_key() or {}).get("UnlockKey")
    if not key:
        raise SwarmError("autolock is off: this swarm has no unlock key")
    return key


def unlock(client, key: str) -> dict:
    check_unlock_key(key)
    now = local_node.summarize(client.info())
    if now["state"] != "locked":
        return {"changed": False, "comment": f"not locked (state {now['state']})"}
    client.api.unlock_swarm(key)
    return {"changed": True, "comment": "unlocked"}
