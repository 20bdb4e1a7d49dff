"""Join data in a shared store: who inits the swarm, and how joiners find it.

Under the store's path (``sdb://<profile>/<path>``) live these keys, laid out so that a
store with per-key permissions (etcd RBAC) can keep the manager token from workers:

- ``worker_token``: ``{"cluster_id": id, "token": the worker join token}``; read by
  workers and managers;
- ``manager_token``: ``{"cluster_id": id, "token": the manager join token}``; read by
  managers only: a worker never needs it;
- ``managers``: the manager addresses joiners try in turn; read by everyone;
- ``leader``: the election record ``{"minion": id, "at": epoch seconds}`` of the one
  node allowed to init; on etcd it lives on a lease the elected node keeps alive
  while it inits and publishes, so it vanishes when that node dies or is done;
- ``labels/<hostname>``: ``{"node_id", "hostname", "labels"}``, the labels a worker's
  grains give, one key per worker (the only keys a worker writes); managers check each
  entry against the node list and their own ``swarm:grain_labels`` rules before
  applying it. Stores that cannot list keys (any sdb driver but etcd_swarm) also keep
  ``labels/.index``, the hostnames that published.

``store`` is any object with ``where``, ``supports_cas``, ``supports_leases``,
``supports_list``, ``get``, ``set``, ``set_many``, ``delete``, ``remove``, ``create``
and ``replace`` (plus ``grant``, ``keepalive``, ``revoke`` with leases and ``list``
with listing): ``salt_swarm.core.kv_stores``. Election is only as safe as the store's
``create``: a real transaction on etcd, best effort on other sdb drivers.

salt-swarm 0.1 kept both tokens in one key ``tokens`` and every node's labels in one
key ``node_labels``: readers of such a store get ``OldLayout``; a manager that is a
member of the swarm moves it to this layout (``salt_swarm.core.store_join``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

from salt_swarm.core.addresses import split_port
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import MASK, TOKEN_RE, check_role, check_token, redact

log = logging.getLogger(__name__)

LEADER = "leader"
WORKER_TOKEN = "worker_token"
MANAGER_TOKEN = "manager_token"
TOKEN_KEYS = {"worker": WORKER_TOKEN, "manager": MANAGER_TOKEN}
MANAGERS = "managers"
LABELS = "labels/"
LABELS_INDEX = LABELS + ".index"  # only in stores that cannot list keys
OLD_TOKENS = "tokens"  # salt-swarm 0.1: both tokens in one key
OLD_LABELS = "node_labels"  # salt-swarm 0.1: every node's labels in one key
# On etcd, the election record's lease: how long a dead elected node blocks the
# others (it is kept alive while the node inits and publishes).
DEFAULT_LEASE_TTL = 20.0
_ADDRESS_RE = re.compile(r"[A-Za-z0-9._:\[\]-]+")
HOSTNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")


class OldLayout(SwarmError):
    """The store holds join data as salt-swarm 0.1 wrote them (one ``tokens`` key)."""


@dataclass(frozen=True)
class Election:
    won: bool
    leader: str  # "" when lost because join data were published meanwhile
    at: float
    took_over_from: str | None = None
    lease: int | None = None  # etcd: the lease the won record lives on
    published: bool = False  # lost because join data are there: join them


@dataclass(frozen=True)
class JoinData:
    """What one role needs to join: the managers and that role's token."""

    role: str
    managers: list
    token: str
    cluster_id: str

    def __repr__(self):
        return (
            f"JoinData(role={self.role!r}, managers={self.managers!r}, token={MASK}, "
            f"cluster_id={self.cluster_id!r})"
        )


# -- election -------------------------------------------------------------------------


def elect(store, me: str, ttl: float | None = None, now=time.time) -> Election:
    """Claim the right to init; exactly one caller wins on a store with a transaction.

    Nobody wins once join data are published (``Election.published``). The caller
    that already holds the record wins again (a re-run).

    With leases (etcd) the record lives on a lease of ``ttl`` seconds (default
    ``DEFAULT_LEASE_TTL``): keep it alive with ``holding`` while initializing; if the
    holder dies, the record vanishes when the lease runs out and the next caller
    wins. Without leases (other sdb stores) a record older than ``ttl`` seconds by
    the wall clock is taken over (its holder is presumed dead before it published);
    ``ttl=None`` never takes over. There, set ``ttl`` well above the time an init and
    publish take, since a live but slow leader taken over means two swarms.
    """
    _check_minion(me)
    record = {"minion": me, "at": now()}
    if store.supports_leases:
        return _elect_with_lease(store, me, record, ttl or DEFAULT_LEASE_TTL)
    for _ in range(3):
        won, current = store.create(LEADER, record, unless=(MANAGERS,))
        if won:
            return _unless_published(store, me, Election(True, me, record["at"]))
        if current is None:
            if store.get(MANAGERS) is not None:
                return Election(False, "", 0.0, published=True)
            continue  # the holder resigned between our compare and read: try again
        current = check_leader(current, store.where)
        if current["minion"] == me:
            return Election(True, me, current["at"])
        if ttl is None or now() - current["at"] <= ttl:
            return Election(False, current["minion"], current["at"])
        took, after = store.replace(LEADER, current, record)
        if took:
            won = Election(True, me, record["at"], took_over_from=current["minion"])
            return _unless_published(store, me, won)
        if after is not None:
            after = check_leader(after, store.where)
            return Election(after["minion"] == me, after["minion"], after["at"])
    raise SwarmError(f"{store.where}/{LEADER}: the election record keeps vanishing; retry")


def _elect_with_lease(store, me: str, record: dict, ttl: float) -> Election:
    for _ in range(3):
        lease = store.grant(ttl)
        # One transaction: only while no record exists and nothing is published.
        won, current = store.create(LEADER, record, lease=lease, unless=(MANAGERS,))
        if won:
            return Election(True, me, record["at"], lease=lease)
        if current is not None and check_leader(current, store.where)["minion"] == me:
            # Our own record from an earlier run that died: move it onto this lease.
            took, _ = store.replace(LEADER, current, record, lease=lease)
            if took:
                return Election(True, me, record["at"], lease=lease)
        _revoke_quietly(store, lease)
        if current is None:
            if store.get(MANAGERS) is not None:
                return Election(False, "", 0.0, published=True)
            continue  # the record lapsed between our compare and read: try again
        current = check_leader(current, store.where)
        if current["minion"] != me:
            return Election(False, current["minion"], current["at"])
    raise SwarmError(f"{store.where}/{LEADER}: the election record keeps vanishing; retry")


def _unless_published(store, me: str, won: Election) -> Election:
    # A store without transactions: join data may have landed between our read and
    # our write; then they win, and this node joins instead of making a second swarm.
    if store.get(MANAGERS) is None:
        return won
    resign(store, me)
    return Election(False, "", 0.0, published=True)


def resign(store, me: str, election: Election | None = None) -> bool:
    """Give up the election record if ``me`` holds it (after a failed init); True if so.

    With a lease, revoking it removes the record."""
    if election is not None and election.lease is not None:
        return _revoke_quietly(store, election.lease)
    current = store.get(LEADER)
    if current is None or check_leader(current, store.where)["minion"] != me:
        return False
    store.delete(LEADER)
    return True


def _revoke_quietly(store, lease: int) -> bool:
    try:
        return store.revoke(lease)
    except SwarmError as exc:
        log.warning("swarm: could not revoke etcd lease %x (it runs out by itself): %s", lease, exc)
        return False


def leader(store) -> dict | None:
    current = store.get(LEADER)
    return None if current is None else check_leader(current, store.where)


def vacant(store, ttl: float | None = None, now=time.time) -> bool:
    """True when nobody holds the election: no record (on etcd: its lease ran out), or,
    on a store without leases, a record older than ``ttl`` seconds."""
    current = leader(store)
    if current is None:
        return True
    return not store.supports_leases and ttl is not None and now() - current["at"] > ttl


class holding:  # noqa: N801 - used like a function: ``with holding(store, election):``
    """Keep an election's lease alive while the body runs (init and publish), in a
    thread renewing it every third of its TTL; revoke it afterwards, which removes
    the record. ``lost`` turns true if etcd says the lease is gone. Without a lease
    (other stores) this does nothing."""

    def __init__(self, store, election: Election, ttl: float | None = None):
        self.store = store
        self.lease = election.lease
        self.interval = max(0.2, (ttl or DEFAULT_LEASE_TTL) / 3)
        self.lost = False
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.lease is not None:
            self._thread = threading.Thread(
                target=self._run, name="swarm-election-lease", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            _revoke_quietly(self.store, self.lease)
        return False

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                left = self.store.keepalive(self.lease)
            except SwarmError as exc:
                log.warning("swarm: renewing the election lease failed (will retry): %s", exc)
                continue
            if left <= 0:
                self.lost = True
                log.warning("swarm: the election lease in %s ran out", self.store.where)
                return
            self.renewals += 1


# -- join data --------------------------------------------------------------------------


def publish(store, managers, tokens: dict, election: Election | None = None) -> list[str]:
    """Write both tokens, then the manager addresses; returns the key names written
    (no secrets). ``tokens`` is ``{worker, manager, cluster_id}`` as a manager reads
    them. With an election on a lease, all three are written in one transaction and
    only while this node's record still lives on that lease: a node whose lease ran
    out (another may have initialized meanwhile) publishes nothing and gets an error.
    """
    values = _published_values(managers, tokens, store.where)
    lease_of = (LEADER, election.lease) if election and election.lease is not None else None
    if not store.set_many(values, lease_of=lease_of):
        raise SwarmError(
            f"{store.where}/{LEADER}: this node's election lease ran out before it published "
            "(another manager may have initialized a swarm meanwhile); nothing was published"
        )
    return list(values)


def _published_values(managers, tokens, where: str) -> dict:
    if not isinstance(tokens, dict):
        raise SwarmError(f"{where}: join tokens must be a mapping of worker, manager, cluster_id")
    values = {}
    for role, key in TOKEN_KEYS.items():
        entry = {"cluster_id": tokens.get("cluster_id"), "token": tokens.get(role)}
        values[key] = check_token_entry(entry, f"{where}/{key}")
    check_managers(managers, where)
    values[MANAGERS] = list(managers)
    return values


def token_entries(tokens: dict) -> dict:
    """``{worker, manager, cluster_id}`` -> the values of worker_token and manager_token."""
    return {
        key: {"cluster_id": tokens["cluster_id"], "token": tokens[role]}
        for role, key in TOKEN_KEYS.items()
    }


def read_join_data(store, role: str) -> JoinData | None:
    """The managers and ``role``'s token, or None while they are not there yet; bad
    data raise, and so does a store in salt-swarm 0.1's layout (``OldLayout``).

    ``managers`` is read first: it is written last, so once it is there the tokens are.
    """
    check_role(role)
    managers = store.get(MANAGERS)
    if managers is None:
        return None
    key = TOKEN_KEYS[role]
    entry = store.get(key)
    if entry is None:
        check_not_old_layout(store)
        return None
    check_managers(managers, store.where)
    entry = check_token_entry(entry, f"{store.where}/{key}")
    return JoinData(role, list(managers), entry["token"], entry["cluster_id"])


def check_not_old_layout(store) -> None:
    """Raise ``OldLayout`` when the store holds salt-swarm 0.1's ``tokens`` key (a
    profile that may not read it, as a worker's, sees nothing to complain about)."""
    try:
        old = store.get(OLD_TOKENS)
    except SwarmError:
        return  # e.g. etcd: permission denied for a worker's role
    if old is not None:
        raise OldLayout(
            f"{store.where}: holds join data in salt-swarm 0.1's layout (both tokens in the "
            f"key {OLD_TOKENS}, which workers could read): run `state.apply swarm` once on "
            "a manager that is already in the swarm; it moves them to worker_token and "
            "manager_token and removes tokens and node_labels. Then give workers the "
            "narrower store permissions (docs/token-store.md)"
        )


def old_layout_cluster(store) -> str | None:
    """The cluster id in salt-swarm 0.1's ``tokens`` key, if any."""
    old = store.get(OLD_TOKENS)
    if isinstance(old, dict) and isinstance(old.get("cluster_id"), str):
        return old["cluster_id"]
    return None


def wait_for_join_data(
    store,
    role: str,
    timeout: float,
    poll: float = 2.0,
    clock=time.monotonic,
    sleep=time.sleep,
    until_vacant: bool = False,
    ttl: float | None = None,
) -> JoinData | None:
    """Poll until the managers and ``role``'s token are published, or raise once
    ``timeout`` has passed. With ``until_vacant`` (a manager that may init), return
    None as soon as nobody holds the election either (its holder died or gave up)."""
    deadline = clock() + timeout
    while True:
        data = read_join_data(store, role)
        if data is not None:
            return data
        if until_vacant and vacant(store, ttl):
            return None
        left = deadline - clock()
        if left <= 0:
            raise SwarmError(_nothing_published(store, role, timeout))
        sleep(min(poll, left))


def check_managers(managers, where: str = "store") -> list:
    if not isinstance(managers, list) or not managers:
        raise SwarmError(f"{where}/{MANAGERS}: must be a non-empty list of manager addresses")
    for addr in managers:
        _check_address(addr, f"{where}/{MANAGERS}")
    return managers


def check_token_entry(entry, where: str) -> dict:
    """A worker_token or manager_token value: ``{cluster_id, token}``."""
    if not isinstance(entry, dict):
        raise SwarmError(f"{where}: must be a mapping {{cluster_id, token}}")
    check_token(entry.get("token"), f"{where}: token")
    cluster_id = entry.get("cluster_id")
    if not isinstance(cluster_id, str) or not cluster_id:
        raise SwarmError(f"{where}: cluster_id must be a non-empty string")
    return {"cluster_id": cluster_id, "token": entry["token"]}


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


def _nothing_published(store, role: str, timeout: float) -> str:
    key = TOKEN_KEYS[role]
    text = f"{store.where}: no join data ({MANAGERS} and {key}) after {timeout:g} s"
    try:
        if store.get(MANAGERS) is not None:
            return text + (
                f"; {MANAGERS} is published but {key} is not (a store in salt-swarm 0.1's "
                "layout is moved to the new keys by a run on a manager of the swarm)"
            )
        holder = leader(store)
    except SwarmError:
        return text  # e.g. a worker's role may not read the election record
    if holder is None:
        return text + "; no node holds the election either"
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(holder["at"]))
    return text + f"; {holder['minion']} won the election at {since} but has not published"


# -- read-modify-write: the manager list ----------------------------------------------


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


# -- node labels: one key per worker ----------------------------------------------------


def label_key(hostname: str) -> str:
    if not isinstance(hostname, str) or not HOSTNAME_RE.fullmatch(hostname):
        raise SwarmError(
            f"node labels: hostname {hostname!r} cannot name a key in the store "
            "(letters, digits, '.', '_', '-'; starting with a letter or digit)"
        )
    return LABELS + hostname


def label_entry(node_id: str, hostname: str, labels: dict, owned=None) -> dict:
    entry = {"node_id": node_id, "hostname": hostname, "labels": dict(labels)}
    if owned is not None:
        entry["owned"] = sorted(owned)
    return entry


def put_node_labels(
    store, node_id: str, hostname: str, labels: dict, owned=None, test: bool = False
) -> bool:
    """Publish the labels this worker's grains give (``labels/<hostname>``) and the
    label globs its rules own on this run (``owned``: a rule whose grain is missing
    owns nothing), for a manager to check and apply; True if the entry changed (or
    would, with ``test``)."""
    key = label_key(hostname)
    entry = label_entry(node_id, hostname, labels, owned)
    listed = store.supports_list or hostname in _index(store)
    if store.get(key) == entry and listed:
        return False
    if not test:
        store.set(key, entry)
        if not listed:
            modify(store, LABELS_INDEX, lambda cur: sorted({*_names(cur), hostname}))
    return True


def published_labels(store) -> dict:
    """{name under labels/: value} of every published label entry, unchecked."""
    if store.supports_list:
        return {n: v for n, v in store.list(LABELS).items() if v is not None}
    found = {}
    for name in _index(store):
        value = store.get(LABELS + name)
        if value is not None:
            found[name] = value
    return found


def remove_node_labels(store, name: str, expected) -> bool:
    """Delete ``labels/<name>`` if it still holds ``expected`` (a worker may have
    written it again meanwhile); True if deleted."""
    removed = store.remove(LABELS + name, expected)
    if removed and not store.supports_list:
        modify(store, LABELS_INDEX, lambda cur: [n for n in _names(cur) if n != name])
    return removed


def _index(store) -> list[str]:
    return _names(store.get(LABELS_INDEX))


def _names(value) -> list[str]:
    if not isinstance(value, list):
        return []
    return [n for n in value if isinstance(n, str) and HOSTNAME_RE.fullmatch(n)]
