"""Join data in a shared store: who inits the swarm, and how joiners find it.

Under the store's path (``sdb://<profile>/<path>``) live three keys:

- ``leader``: the election record ``{"minion": id, "at": epoch seconds}`` of the one
  node allowed to init;
- ``tokens``: ``{"worker": token, "manager": token, "cluster_id": id}``;
- ``managers``: the manager addresses joiners try in turn.

``store`` is any object with ``where``, ``supports_cas``, ``get``, ``set``, ``delete``,
``create`` and ``replace`` (``salt_swarm.core.kv_stores``). Election is only as safe as
the store's ``create``: a real transaction on etcd, best effort on other sdb drivers.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from salt_swarm.core.addresses import split_port
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import MASK, TOKEN_RE, check_token, redact, token_cluster

LEADER = "leader"
TOKENS = "tokens"
MANAGERS = "managers"
_ADDRESS_RE = re.compile(r"[A-Za-z0-9._:\[\]-]+")


@dataclass(frozen=True)
class Election:
    won: bool
    leader: str
    at: float
    took_over_from: str | None = None


@dataclass(frozen=True)
class JoinData:
    managers: list
    tokens: dict

    def __repr__(self):
        return f"JoinData(managers={self.managers!r}, tokens={{worker, manager: {MASK}}})"

    def token(self, role: str) -> str:
        return self.tokens[role]

    @property
    def cluster_id(self) -> str:
        return self.tokens["cluster_id"]


def elect(store, me: str, ttl: float | None = None, now=time.time) -> Election:
    """Claim the right to init; exactly one caller wins on a store with a transaction.

    A record older than ``ttl`` seconds is taken over (its holder is presumed dead
    before it published); ``ttl=None`` never takes over. Set ``ttl`` well above the
    time an init and publish take, since a live but slow leader taken over means two
    swarms. The caller that already holds the record wins again (a re-run).
    """
    _check_minion(me)
    record = {"minion": me, "at": now()}
    for _ in range(3):
        won, current = store.create(LEADER, record)
        if won:
            return Election(True, me, record["at"])
        if current is None:
            continue  # the holder resigned between our compare and read: try again
        current = check_leader(current, store.where)
        if current["minion"] == me:
            return Election(True, me, current["at"])
        if ttl is None or now() - current["at"] <= ttl:
            return Election(False, current["minion"], current["at"])
        took, after = store.replace(LEADER, current, record)
        if took:
            return Election(True, me, record["at"], took_over_from=current["minion"])
        if after is not None:
            after = check_leader(after, store.where)
            return Election(after["minion"] == me, after["minion"], after["at"])
    raise SwarmError(f"{store.where}/{LEADER}: the election record keeps vanishing; retry")


def resign(store, me: str) -> bool:
    """Give up the election record if ``me`` holds it (after a failed init); True if so."""
    current = store.get(LEADER)
    if current is None or check_leader(current, store.where)["minion"] != me:
        return False
    store.delete(LEADER)
    return True


def leader(store) -> dict | None:
    current = store.get(LEADER)
    return None if current is None else check_leader(current, store.where)


def publish(store, managers, tokens: dict) -> list[str]:
    """Write tokens, then manager addresses; returns the key names written (no secrets)."""
    data = check_join_data(managers, tokens, store.where)
    store.set(TOKENS, data.tokens)
    store.set(MANAGERS, data.managers)
    return [TOKENS, MANAGERS]


def read_join_data(store) -> JoinData | None:
    """Managers and tokens, or None while either is not there yet; bad data raises."""
    tokens = store.get(TOKENS)
    managers = store.get(MANAGERS)
    if tokens is None or managers is None:
        return None
    return check_join_data(managers, tokens, store.where)


def wait_for_join_data(
    store, timeout: float, poll: float = 2.0, clock=time.monotonic, sleep=time.sleep
) -> JoinData:
    """Poll until managers and tokens are published, or raise once ``timeout`` has passed."""
    deadline = clock() + timeout
    while True:
        data = read_join_data(store)
        if data is not None:
            return data
        left = deadline - clock()
        if left <= 0:
            raise SwarmError(_nothing_published(store, timeout))
        sleep(min(poll, left))


def check_join_data(managers, tokens, where: str = "store") -> JoinData:
    if not isinstance(managers, list) or not managers:
        raise SwarmError(f"{where}/{MANAGERS}: must be a non-empty list of manager addresses")
    for addr in managers:
        _check_address(addr, f"{where}/{MANAGERS}")
    if not isinstance(tokens, dict):
        raise SwarmError(f"{where}/{TOKENS}: must be a mapping of worker, manager, cluster_id")
    for role in ("worker", "manager"):
        check_token(tokens.get(role), f"{where}/{TOKENS}: {role}")
    if token_cluster(tokens["worker"]) != token_cluster(tokens["manager"]):
        raise SwarmError(f"{where}/{TOKENS}: worker and manager tokens are of different swarms")
    cluster_id = tokens.get("cluster_id")
    if not isinstance(cluster_id, str) or not cluster_id:
        raise SwarmError(f"{where}/{TOKENS}: cluster_id must be a non-empty string")
    clean = {"worker": tokens["worker"], "manager": tokens["manager"], "cluster_id": cluster_id}
    return JoinData(list(managers), clean)


def _check_address(addr, where: str) -> None:
    if (
        not isinstance(addr, str)
        or not _ADDRESS_RE.fullmatch(addr)
        or TOKEN_RE.search(addr)  # mine-style mix-ups hand a token where an address goes
    ):
        raise SwarmError(f"{where}: {redact(repr(addr))} is not a manager address")
    split_port(addr, where)


def check_leader(record, where: str = "store") -> dict:
    if not isinstance(record, dict):
        raise SwarmError(
            f"{where}/{LEADER}: must be a mapping {{minion, at}}, not {redact(repr(record))}"
        )
    if not isinstance(record.get("minion"), str) or not record["minion"]:
        raise SwarmError(f"{where}/{LEADER}: minion must be a non-empty string")
    at = record.get("at")
    if isinstance(at, bool) or not isinstance(at, (int, float)):
        raise SwarmError(f"{where}/{LEADER}: at must be a time in epoch seconds")
    return record


def _check_minion(me) -> None:
    if not isinstance(me, str) or not me:
        raise SwarmError("minion id: must be a non-empty string")


def _nothing_published(store, timeout: float) -> str:
    text = f"{store.where}: no join data (managers and tokens) after {timeout:g} s"
    try:
        holder = leader(store)
    except SwarmError:
        holder = None
    if holder is None:
        return text + "; no node holds the election either"
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(holder["at"]))
    return text + f"; {holder['minion']} won the election at {since} but has not published"


NODE_LABELS = "node_labels"


def modify(store, name: str, change, tries: int = 10):
    """Read-modify-write of one key, retried while another writer gets in between
    (compare-and-set on etcd, best effort elsewhere). ``change(current)`` returns the
    new value, or ``current`` itself for no write. Returns (written, value)."""
    for _ in range(tries):
        current = store.get(name)
        new = change(current)
        if new == current:
            return False, current
        won, _ = store.replace(name, current, new)
        if won:
            return True, new
    raise SwarmError(f"{store.where}/{name}: {tries} writers in a row got in first; retry")


def add_manager(store, addr: str) -> bool:
    """Put ``addr`` in the published manager list; True if it was not there."""
    _check_address(addr, f"{store.where}/{MANAGERS}")

    def change(current):
        current = current if isinstance(current, list) else []
        return current if addr in current else [*current, addr]

    return modify(store, MANAGERS, change)[0]


def put_node_labels(store, hostname: str, labels: dict, owned: list) -> bool:
    """Record the labels a node's grains give, for a manager to apply; True if changed."""
    entry = {"labels": dict(labels), "owned": sorted(owned)}

    def change(current):
        current = current if isinstance(current, dict) else {}
        if current.get(hostname) == entry:
            return current
        return {**current, hostname: entry}

    return modify(store, NODE_LABELS, change)[0]


def node_labels(store) -> dict:
    """hostname -> {labels, owned} as nodes published them (bad entries dropped)."""
    found = store.get(NODE_LABELS)
    if not isinstance(found, dict):
        return {}
    return {
        h: e
        for h, e in found.items()
        if isinstance(h, str) and isinstance(e, dict) and isinstance(e.get("labels"), dict)
    }
