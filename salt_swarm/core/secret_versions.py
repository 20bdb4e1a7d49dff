"""Docker secrets and configs from content Salt holds (pillar, salt:// files), with
versions: Docker's are immutable, so new content becomes a new object
``<name>_<serial>``, the services that use any version of ``<name>`` move to it in a
rolling update, and versions no service uses any more are removed (``keep`` newest
versions stay).

The content never appears in a return, a change or a log line: an object carries a
salted, slow digest of it (PBKDF2) to tell whether it changed, and reports name the
versions only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field

from salt_swarm.core import docker_api
from salt_swarm.core import service_spec as spec_logic
from salt_swarm.core import services as service_logic
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.nodes import require_manager

KINDS = ("secret", "config")
VERSION_OF = service_logic.VERSION_OF
SERIAL = "io.salt-swarm.serial"
DIGEST = "io.salt-swarm.digest"
DIGEST_ROUNDS = 100_000
MAX_DATA = 500 * 1024  # Docker's limit for a secret or config
MAX_NAME = 56  # leaves room for _<serial> within Docker's 64


def digest(data: bytes, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    value = hashlib.pbkdf2_hmac("sha256", data, salt, DIGEST_ROUNDS)
    return f"pbkdf2-sha256${DIGEST_ROUNDS}${salt.hex()}${value.hex()}"


def same_content(data: bytes, stored) -> bool:
    try:
        scheme, rounds, salt, value = str(stored).split("$")
        if scheme != "pbkdf2-sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", data, bytes.fromhex(salt), int(rounds))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), value)


def _kind_api(client, kind):
    api = client.api
    if kind == "secret":
        return (
            api.secrets,
            api.create_secret,
            api.remove_secret,
            "Secrets",
            "SecretID",
            "SecretName",
        )
    return api.configs, api.create_config, api.remove_config, "Configs", "ConfigID", "ConfigName"


def versions(client, kind: str, name: str) -> list[dict]:
    """Every version salt-swarm made of ``name``, oldest first."""
    lister = _kind_api(client, kind)[0]
    found = [o for o in lister() if _labels(o).get(VERSION_OF) == name]
    return sorted(found, key=_serial)


def _labels(obj) -> dict:
    return (obj.get("Spec") or {}).get("Labels") or {}


def _serial(obj) -> int:
    try:
        return int(_labels(obj).get(SERIAL, 0))
    except ValueError:
        return 0


@dataclass(frozen=True)
class VersionPlan:
    kind: str
    name: str
    current: dict | None  # the newest version now
    new_name: str | None  # the version to create; None when the content is the same
    users: list[dict] = field(default_factory=list)  # services on an older version
    removable: list[dict] = field(default_factory=list)  # unused old versions

    @property
    def changes(self) -> dict:
        out = {}
        if self.new_name:
            old = self.current["Spec"]["Name"] if self.current else None
            out["version"] = {"old": old, "new": self.new_name}
        if self.users:
            out["services"] = sorted(s["Spec"]["Name"] for s in self.users)
        if self.removable:
            out["removed"] = sorted(o["Spec"]["Name"] for o in self.removable)
        return out

    def report(self) -> dict:
        what = f"{self.kind} {self.name}"
        if not self.changes:
            return {"changed": False, "changes": {}, "comment": f"{what} is as wanted"}
        parts = []
        if self.new_name:
            parts.append(f"new version {self.new_name}")
        if self.users:
            parts.append(f"services moved to it: {', '.join(self.changes['services'])}")
        if self.removable:
            parts.append(f"unused versions removed: {', '.join(self.changes['removed'])}")
        return {"changed": True, "changes": self.changes, "comment": f"{what}: " + "; ".join(parts)}


def check_data(kind: str, name: str, data) -> bytes:
    if kind not in KINDS:
        raise SwarmError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    spec_logic.check_name(name, kind)
    if len(name) > MAX_NAME:
        raise SwarmError(f"name: {kind} names are at most {MAX_NAME} characters here")
    if data is None:
        raise SwarmError(f"{kind} {name}: no content (give contents_pillar, source or contents)")
    if isinstance(data, str):
        data = data.encode()
    if not isinstance(data, bytes):
        raise SwarmError(f"{kind} {name}: the content must be a string")
    if not data or len(data) > MAX_DATA:
        raise SwarmError(f"{kind} {name}: the content must be 1 byte to {MAX_DATA // 1024} KiB")
    return data


def version_plan(client, kind: str, name: str, data, keep: int = 1) -> VersionPlan:
    """What bringing ``name`` to ``data`` would do; ``keep``: versions kept (>= 1)."""
    data = check_data(kind, name, data)
    keep = spec_logic._int(keep, "keep", 1)
    require_manager(client)
    known = versions(client, kind, name)
    current = known[-1] if known else None
    new_name = None
    if current is None or not same_content(data, _labels(current).get(DIGEST)):
        new_name = f"{name}_{(_serial(current) if current else 0) + 1}"
    services = client.api.services()
    target = None if new_name else current["ID"]
    older = {o["ID"] for o in known} - {target}
    users = [s for s in services if _refs(s, kind) & older]
    still_used = set()
    for svc in services:
        if svc not in users:
            still_used |= _refs(svc, kind)
    kept = (
        {o["ID"] for o in [*known, None][-keep:] if o}
        if new_name
        else {o["ID"] for o in known[-keep:]}
    )
    removable = [o for o in known if o["ID"] not in kept and o["ID"] not in still_used]
    return VersionPlan(kind, name, current, new_name, users, removable)


def _refs(service: dict, kind: str) -> set[str]:
    key = "Secrets" if kind == "secret" else "Configs"
    ident = "SecretID" if kind == "secret" else "ConfigID"
    refs = ((service["Spec"].get("TaskTemplate") or {}).get("ContainerSpec") or {}).get(key) or []
    return {r.get(ident) for r in refs}


def apply_version(
    client, plan: VersionPlan, data, labels=None, wait=service_logic.CONVERGE_SECONDS
) -> dict:
    out = plan.report()
    if not out["changed"]:
        return out
    _lister, create, remove, key, ident, named = _kind_api(client, plan.kind)
    data = check_data(plan.kind, plan.name, data)
    if plan.new_name:
        serial = plan.new_name.rsplit("_", 1)[1]
        all_labels = {**(labels or {}), VERSION_OF: plan.name, SERIAL: serial, DIGEST: digest(data)}
        created = create(plan.new_name, data, labels=all_labels)
        new_id = created["ID"] if isinstance(created, dict) else created
    else:
        new_id = plan.current["ID"]
    new_name = plan.new_name or plan.current["Spec"]["Name"]
    moved_from = {o["ID"] for o in versions(client, plan.kind, plan.name)} - {new_id}
    for svc in plan.users:
        _move_service(client, svc["ID"], key, ident, named, moved_from, new_id, new_name, wait)
    for obj in plan.removable:
        remove(obj["ID"])
    return out


def _move_service(client, service_id, key, ident, named, old_ids, new_id, new_name, wait):
    svc = client.api.inspect_service(service_id)  # the version now, after earlier moves
    spec = svc["Spec"]
    refs = spec["TaskTemplate"]["ContainerSpec"].get(key) or []
    for ref in refs:
        if ref.get(ident) in old_ids:
            ref[ident], ref[named] = new_id, new_name
    docker_api.post(
        client,
        "/services/{0}/update",
        spec,
        service_id,
        params={"version": svc["Version"]["Index"]},
    )
    since = service_logic.timestamp_ns(client.api.inspect_service(service_id).get("UpdatedAt"))
    service_logic.wait_converged(
        client, service_id, spec["Name"], wait, since, "moved to the new version"
    )


def remove_all(client, kind: str, name: str, test: bool = False) -> dict:
    """Every version of ``name``; refused while a service uses one."""
    require_manager(client)
    spec_logic.check_name(name, kind)
    known = versions(client, kind, name)
    if not known:
        return {"changed": False, "comment": f"{kind} {name} is absent"}
    ids = {o["ID"] for o in known}
    users = sorted(s["Spec"]["Name"] for s in client.api.services() if _refs(s, kind) & ids)
    if users:
        raise SwarmError(
            f"{kind} {name}: in use by service(s) {', '.join(users)}; remove those first"
        )
    names = sorted(o["Spec"]["Name"] for o in known)
    if test:
        return {
            "changed": True,
            "changes": {"removed": names},
            "comment": f"{kind} {name} would be removed",
        }
    remover = _kind_api(client, kind)[2]
    for obj in known:
        remover(obj["ID"])
    return {"changed": True, "changes": {"removed": names}, "comment": f"{kind} {name} removed"}
