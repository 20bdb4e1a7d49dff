"""The key-value stores join data can live in, bound to one path of an ``sdb://`` URI.

Both kinds offer get, set, delete, ``create`` (write only if absent, and only while
the keys in ``unless`` are absent too) and ``replace`` (write only if unchanged since
read), each returning ``(won, current)``; ``remove`` (delete only if unchanged) and
``set_many`` (several keys at once):

- ``EtcdStore``: the profile's driver is salt-swarm's ``etcd_swarm``; create, replace,
  remove and set_many are single etcd transactions, so exactly one of any number of
  racing callers wins. It has leases (``grant``, ``keepalive``, ``revoke``; a key
  written with a lease vanishes when the lease ends) and lists keys by prefix
  (``list``).
- ``SdbStore``: any other sdb driver, through ``sdb.get``/``sdb.set``. Those offer no
  compare-and-set, so create and replace write, wait ``settle`` seconds, and read back
  (the value carries a random nonce). That catches most collisions but is NOT race-free:
  two writers whose write/read-back windows do not overlap both believe they won. No
  leases, no listing (``supports_leases``, ``supports_list`` are False).

Values are JSON-able data. ``SdbStore`` writes them as JSON text, which any driver
that stores strings keeps intact; ``delete`` there writes JSON null, since most sdb
drivers have no delete.
"""

from __future__ import annotations

import json
import secrets
import time

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.etcd_client import EtcdClient, decode_value, encode_value

ETCD_DRIVER = "etcd_swarm"  # the __virtualname__ of salt_swarm/sdb/etcd_swarm.py
DEFAULT_SETTLE = 1.0


def parse_sdb_uri(uri, field: str = "token_store") -> tuple[str, str]:
    """'sdb://myetcd/swarm/prod' -> ('myetcd', 'swarm/prod')."""
    if not isinstance(uri, str) or not uri.startswith("sdb://"):
        raise SwarmError(f"{field}: {uri!r} is not an sdb URI (sdb://<profile>/<path>)")
    profile, _, path = uri[len("sdb://") :].partition("/")
    path = path.strip("/")
    if not profile or not path:
        raise SwarmError(f"{field}: {uri!r} needs a profile and a path: sdb://<profile>/<path>")
    return profile, path


def find_profile(opts: dict, name: str, uri: str, field: str = "token_store") -> dict:
    """The sdb profile ``name``, looked up as Salt does: minion config, then pillar."""
    profile = opts.get(name) or (opts.get("pillar") or {}).get(name)
    if not isinstance(profile, dict) or "driver" not in profile:
        raise SwarmError(
            f"{field}: sdb profile {name!r} (of {uri}) not found in the minion config or "
            "pillar; it needs at least a driver"
        )
    return profile


def open_store(uri, opts: dict, sdb_get=None, sdb_set=None, field: str = "token_store"):
    """The store behind ``uri``: an EtcdStore for an etcd_swarm profile, else an SdbStore.

    ``opts`` is the minion's ``__opts__`` (profiles are read from it and its pillar);
    ``sdb_get``/``sdb_set`` are ``__salt__["sdb.get"]``/``__salt__["sdb.set"]``, needed
    for any driver other than etcd_swarm.
    """
    name, path = parse_sdb_uri(uri, field)
    profile = find_profile(opts, name, uri, field)
    if profile["driver"] == ETCD_DRIVER:
        where = f"sdb://{name}/{path}"
        client = EtcdClient.from_profile(profile, f"sdb profile {name!r}", store=where)
        return EtcdStore(client, path, uri=where)
    if sdb_get is None or sdb_set is None:
        raise SwarmError(f"{field}: driver {profile['driver']!r} needs sdb.get and sdb.set")
    return SdbStore(f"sdb://{name}/{path}", sdb_get, sdb_set)


class EtcdStore:
    supports_cas = True
    supports_leases = True
    supports_list = True

    def __init__(self, client: EtcdClient, path: str, uri: str | None = None):
        self.client = client
        self.path = path.rstrip("/")
        self.where = uri or f"etcd:{client.prefix}{self.path}"

    def _key(self, name: str) -> str:
        return f"{self.path}/{name}"

    def get(self, name: str):
        return _unwrap(self.client.get(self._key(name)))

    def list(self, prefix: str) -> dict:
        """{name after ``prefix``: value} of every key under ``prefix``."""
        found = self.client.get_prefix(self._key(prefix))
        return {name: _unwrap(entry.value) for name, entry in found.items()}

    def set(self, name: str, value) -> None:
        self.client.put(self._key(name), value)

    def set_many(self, values: dict, lease_of: tuple[str, int] | None = None) -> bool:
        """Write all ``values`` in one transaction; with ``lease_of=(name, lease)`` only
        while that key still lives on that lease. False (nothing written) otherwise."""
        fence = (self._key(lease_of[0]), lease_of[1]) if lease_of else None
        return self.client.put_all({self._key(k): v for k, v in values.items()}, fence)

    def delete(self, name: str) -> None:
        self.client.delete(self._key(name))

    def remove(self, name: str, expected) -> bool:
        """Delete ``name`` only if it still holds ``expected``; True if it was deleted."""
        entry = self.client.get_entry(self._key(name))
        if entry is None or _unwrap(entry.value) != expected:
            return False
        return self.client.delete_if(self._key(name), entry.mod_revision)

    def create(self, name: str, value, lease: int | None = None, unless: tuple = ()):
        return self.client.create(
            self._key(name), value, lease=lease, unless=tuple(self._key(k) for k in unless)
        )

    def replace(self, name: str, expected, value, lease: int | None = None):
        entry = self.client.get_entry(self._key(name))
        current = None if entry is None else _unwrap(entry.value)
        if current != expected:
            return False, current
        if entry is None:
            return self.client.create(self._key(name), value, lease=lease)
        return self.client.replace(self._key(name), entry.mod_revision, value, lease=lease)

    def grant(self, ttl: float) -> int:
        return self.client.grant_lease(ttl)

    def keepalive(self, lease: int) -> int:
        return self.client.keepalive(lease)

    def revoke(self, lease: int) -> bool:
        return self.client.revoke_lease(lease)


class SdbStore:
    supports_cas = False
    supports_leases = False
    supports_list = False

    def __init__(self, uri: str, sdb_get, sdb_set, settle: float = DEFAULT_SETTLE, sleep=None):
        self.where = uri.rstrip("/")
        self._sdb_get = sdb_get
        self._sdb_set = sdb_set
        self.settle = settle
        self._sleep = sleep or time.sleep

    def _uri(self, name: str) -> str:
        return f"{self.where}/{name}"

    def get(self, name: str):
        raw = self._sdb_get(self._uri(name))
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        if raw == self._uri(name):
            # Salt's sdb.get hands back the URI itself when it cannot resolve the profile.
            raise SwarmError(f"{self._uri(name)}: sdb could not resolve this URI")
        return decode_value(raw) if isinstance(raw, str) else raw

    def set(self, name: str, value) -> None:
        if self._sdb_set(self._uri(name), encode_value(value)) is False:
            raise SwarmError(f"{self._uri(name)}: sdb.set failed")

    def set_many(self, values: dict, lease_of=None) -> bool:
        """Write ``values`` one after the other, in order (no transaction, no lease)."""
        if lease_of is not None:
            raise SwarmError(f"{self.where}: this store has no leases")
        for name, value in values.items():
            self.set(name, value)
        return True

    def delete(self, name: str) -> None:
        self.set(name, None)

    def remove(self, name: str, expected) -> bool:
        """Delete ``name`` if it holds ``expected`` (best effort: read, then write null)."""
        current = self.get(name)
        if current is None or not _same(current, expected):
            return False
        self.delete(name)
        return True

    def create(self, name: str, value, unless: tuple = ()):
        current = self.get(name)
        if current is not None or any(self.get(k) is not None for k in unless):
            return False, current
        return self._write_and_check(name, value)

    def replace(self, name: str, expected, value):
        current = self.get(name)
        if current != expected:
            return False, current
        return self._write_and_check(name, value)

    def _write_and_check(self, name: str, value):
        mine = {**value, "nonce": secrets.token_hex(8)} if isinstance(value, dict) else value
        self.set(name, mine)
        self._sleep(self.settle)
        current = self.get(name)
        return _same(current, mine), current


def _unwrap(value):
    # Data written through sdb.set by an SdbStore is JSON text inside the JSON value.
    return decode_value(value) if isinstance(value, str) else value


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
