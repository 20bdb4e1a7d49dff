"""Unit tests for salt_swarm.core.token_store against in-memory stores.

``MemoryStore`` has a real compare-and-set and lists keys; ``LeaseStore`` adds leases
(a key written with one vanishes when it ends), as etcd does; ``IndexStore`` can
neither list nor lease, as the generic sdb path. The real etcd behind the same code is
tested in tests/functional/test_etcd_sdb.py. Tokens here are fake, built from repeated
characters.
"""

import threading
import time

import pytest

from salt_swarm.core import token_store
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import MASK

WORKER = "SWMTKN-1-" + "a" * 50 + "-" + "w" * 25
MANAGER = "SWMTKN-1-" + "a" * 50 + "-" + "m" * 25
TOKENS = {"worker": WORKER, "manager": MANAGER, "cluster_id": "c1"}
WORKER_ENTRY = {"cluster_id": "c1", "token": WORKER}
MANAGER_ENTRY = {"cluster_id": "c1", "token": MANAGER}
PUBLISHED = {
    "worker_token": WORKER_ENTRY,
    "manager_token": MANAGER_ENTRY,
    "managers": ["198.18.0.10:2377"],
}


class MemoryStore:
    """A store with a real compare-and-set (create/replace hold one lock) and listing;
    ``reads`` records every key read."""

    supports_cas = True
    supports_leases = False
    supports_list = True
    where = "sdb://mem/swarm"

    def __init__(self, data=None):
        self.data = dict(data or {})
        self.lock = threading.RLock()
        self.reads = []

    def get(self, name):
        self.reads.append(name)
        return self.data.get(name)

    def list(self, prefix):
        return {k[len(prefix) :]: v for k, v in self.data.items() if k.startswith(prefix)}

    def set(self, name, value):
        self.data[name] = value

    def set_many(self, values, lease_of=None):
        assert lease_of is None, "no leases here"
        with self.lock:
            self.data.update(values)
        return True

    def delete(self, name):
        self.data.pop(name, None)

    def remove(self, name, expected):
        with self.lock:
            if name not in self.data or self.data[name] != expected:
                return False
            del self.data[name]
            return True

    def create(self, name, value, unless=()):
        with self.lock:
            if name in self.data or any(k in self.data for k in unless):
                return False, self.data.get(name)
            self.data[name] = value
            return True, value

    def replace(self, name, expected, value):
        with self.lock:
            if self.data.get(name) != expected:
                return False, self.data.get(name)
            self.data[name] = value
            return True, value


class LeaseStore(MemoryStore):
    """MemoryStore with etcd-like leases; ``expire`` ends one as its TTL would."""

    supports_leases = True

    def __init__(self, data=None):
        super().__init__(data)
        self.leases = {}  # id -> ttl
        self.on_lease = {}  # key -> lease id
        self.keepalives = 0

    def grant(self, ttl):
        with self.lock:
            lease = len(self.leases) + 100
            self.leases[lease] = ttl
            return lease

    def keepalive(self, lease):
        self.keepalives += 1
        return self.leases.get(lease, 0)

    def revoke(self, lease):
        with self.lock:
            if self.leases.pop(lease, None) is None:
                return False
            for key in [k for k, v in self.on_lease.items() if v == lease]:
                del self.on_lease[key]
                self.data.pop(key, None)
            return True

    expire = revoke

    def create(self, name, value, lease=None, unless=()):
        with self.lock:
            won, current = super().create(name, value, unless)
            if won and lease is not None:
                assert lease in self.leases
                self.on_lease[name] = lease
            return won, current

    def replace(self, name, expected, value, lease=None):
        with self.lock:
            won, current = super().replace(name, expected, value)
            if won and lease is not None:
                self.on_lease[name] = lease
            return won, current

    def set_many(self, values, lease_of=None):
        with self.lock:
            if lease_of is not None and self.on_lease.get(lease_of[0]) != lease_of[1]:
                return False
            self.data.update(values)
            return True


class IndexStore(MemoryStore):
    """As the generic sdb path: no listing, no leases."""

    supports_list = False

    def list(self, prefix):
        raise AssertionError("this store cannot list keys")


class FakeClock:
    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def race(n, fn):
    """Run fn(i) in n threads released at the same moment; results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def wait_until(check, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s")
        time.sleep(0.01)


# -- election -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [MemoryStore, LeaseStore])
@pytest.mark.parametrize("attempt", range(10))
def test_two_callers_racing_elect_exactly_one(kind, attempt):
    store = kind()
    results = race(2, lambda i: token_store.elect(store, f"host{i + 1}"))
    assert sorted(r.won for r in results) == [False, True]
    winner = next(r for r in results if r.won)
    assert all(r.leader == winner.leader for r in results)
    assert store.data["leader"]["minion"] == winner.leader
    if kind is LeaseStore:
        assert store.on_lease["leader"] == winner.lease
        assert list(store.leases) == [winner.lease]  # the loser revoked its own lease


@pytest.mark.parametrize("kind", [MemoryStore, LeaseStore])
def test_the_holder_wins_again_on_a_rerun(kind):
    store = kind()
    first = token_store.elect(store, "host1")
    again = token_store.elect(store, "host1")
    assert first.won and again.won
    if kind is LeaseStore:  # the record moved onto the new run's lease
        assert store.on_lease["leader"] == again.lease != first.lease


@pytest.mark.parametrize("kind", [MemoryStore, LeaseStore])
def test_nobody_wins_once_join_data_are_published(kind):
    store = kind(PUBLISHED)
    result = token_store.elect(store, "host1")
    assert (result.won, result.published) == (False, True)
    assert "leader" not in store.data


def test_with_a_lease_a_dead_holder_loses_the_record_when_its_lease_ends():
    store = LeaseStore()
    dead = token_store.elect(store, "host1")
    assert not token_store.elect(store, "host2").won
    assert not token_store.vacant(store)
    store.expire(dead.lease)  # host1 died: nobody renews its lease
    assert token_store.vacant(store)
    second = token_store.elect(store, "host2")
    assert second.won and store.data["leader"]["minion"] == "host2"


def test_with_a_lease_the_wall_clock_ttl_plays_no_part():
    clock = FakeClock()
    store = LeaseStore()
    token_store.elect(store, "host1", ttl=5, now=lambda: 0)
    assert not token_store.elect(store, "host2", ttl=5, now=clock).won
    assert not token_store.vacant(store, ttl=5, now=clock)


def test_without_leases_a_fresh_record_is_not_taken_over():
    clock = FakeClock()
    store = MemoryStore({"leader": {"minion": "host1", "at": clock.now - 10}})
    result = token_store.elect(store, "host2", ttl=60, now=clock)
    assert (result.won, result.leader) == (False, "host1")
    assert not token_store.vacant(store, ttl=60, now=clock)


def test_without_leases_and_ttl_a_record_is_never_taken_over():
    store = MemoryStore({"leader": {"minion": "host1", "at": 0}})
    assert not token_store.elect(store, "host2").won
    assert not token_store.vacant(store)


def test_without_leases_a_stale_record_is_taken_over_by_exactly_one():
    clock = FakeClock()
    store = MemoryStore({"leader": {"minion": "dead", "at": clock.now - 600}})
    assert token_store.vacant(store, ttl=60, now=clock)
    results = race(2, lambda i: token_store.elect(store, f"host{i + 1}", ttl=60, now=clock))
    assert sorted(r.won for r in results) == [False, True]
    winner = next(r for r in results if r.won)
    assert winner.took_over_from == "dead"
    assert store.data["leader"]["minion"] == winner.leader


def test_without_transactions_data_published_during_the_election_win():
    class PublishedMeanwhile(MemoryStore):
        def create(self, name, value, unless=()):
            won = super().create(name, value, unless)
            self.data.update(PUBLISHED)  # the real leader published while we wrote
            return won

    store = PublishedMeanwhile()
    result = token_store.elect(store, "late")
    assert (result.won, result.published) == (False, True)
    assert "leader" not in store.data  # it resigned at once


def test_resign_frees_the_record_only_for_its_holder():
    store = MemoryStore()
    token_store.elect(store, "host1")
    assert not token_store.resign(store, "host2")
    assert token_store.resign(store, "host1")
    assert token_store.elect(store, "host2").won


def test_resign_with_a_lease_revokes_it():
    store = LeaseStore()
    won = token_store.elect(store, "host1")
    assert token_store.resign(store, "host1", won)
    assert "leader" not in store.data and won.lease not in store.leases
    assert not token_store.resign(store, "host1", won)  # already gone: no error


def test_a_bad_election_record_names_the_key():
    store = MemoryStore({"leader": "host1"})
    with pytest.raises(SwarmError, match=r"sdb://mem/swarm/leader: must be a mapping"):
        token_store.elect(store, "host2")
    store = MemoryStore({"leader": {"minion": "host1", "at": "yesterday"}})
    with pytest.raises(SwarmError, match=r"leader: at must be a time"):
        token_store.elect(store, "host2")


def test_elect_needs_a_minion_id():
    with pytest.raises(SwarmError, match="minion id"):
        token_store.elect(MemoryStore(), "")


# -- keeping the lease alive ------------------------------------------------------------


def test_holding_renews_the_lease_and_revokes_it_afterwards():
    store = LeaseStore()
    won = token_store.elect(store, "host1", ttl=0.6)
    with token_store.holding(store, won, ttl=0.6) as hold:
        wait_until(lambda: hold.renewals >= 2, what="two renewals")
        assert store.data["leader"]["minion"] == "host1"
    assert "leader" not in store.data and won.lease not in store.leases
    assert not hold.lost


def test_holding_notices_a_lease_that_ran_out():
    store = LeaseStore()
    won = token_store.elect(store, "host1", ttl=0.6)
    with token_store.holding(store, won, ttl=0.6) as hold:
        store.expire(won.lease)
        wait_until(lambda: hold.lost, what="the lost lease noticed")
    with pytest.raises(SwarmError, match=r"leader: this node's election lease ran out"):
        token_store.publish(store, ["198.18.0.10:2377"], TOKENS, election=won)
    assert "managers" not in store.data and "worker_token" not in store.data


def test_holding_retries_after_a_failed_renewal():
    class Flaky(LeaseStore):
        failures = 1

        def keepalive(self, lease):
            if self.failures:
                self.failures -= 1
                raise SwarmError("etcd unreachable: http://127.0.0.1:1 (connection refused)")
            return super().keepalive(lease)

    store = Flaky()
    won = token_store.elect(store, "host1", ttl=0.6)
    with token_store.holding(store, won, ttl=0.6) as hold:
        wait_until(lambda: hold.renewals >= 1, what="a renewal after the failure")
    assert store.failures == 0 and not hold.lost


def test_holding_without_a_lease_does_nothing():
    store = MemoryStore()
    won = token_store.elect(store, "host1")
    with token_store.holding(store, won) as hold:
        pass
    assert hold._thread is None and store.data["leader"]["minion"] == "host1"


# -- publish and read -----------------------------------------------------------------


def test_publish_writes_each_token_in_its_own_key():
    store = MemoryStore()
    written = token_store.publish(store, ["198.18.0.10:2377", "198.18.0.11:2377"], TOKENS)
    assert written == ["worker_token", "manager_token", "managers"]
    assert store.data == {
        "worker_token": WORKER_ENTRY,
        "manager_token": MANAGER_ENTRY,
        "managers": ["198.18.0.10:2377", "198.18.0.11:2377"],
    }


@pytest.mark.parametrize("role, token", [("worker", WORKER), ("manager", MANAGER)])
def test_each_role_reads_only_its_own_token(role, token):
    store = MemoryStore(PUBLISHED)
    data = token_store.read_join_data(store, role)
    assert (data.role, data.token, data.cluster_id) == (role, token, "c1")
    assert data.managers == ["198.18.0.10:2377"]
    other = "manager_token" if role == "worker" else "worker_token"
    assert other not in store.reads


def test_a_worker_never_reads_the_manager_token_while_waiting():
    clock = FakeClock()
    store = MemoryStore({"managers": ["198.18.0.10:2377"]})
    with pytest.raises(SwarmError):
        token_store.wait_for_join_data(store, "worker", 4, clock=clock, sleep=clock.sleep)
    assert "manager_token" not in store.reads and "leader" not in store.reads


def test_publish_with_a_live_lease_writes_everything():
    store = LeaseStore()
    won = token_store.elect(store, "host1")
    token_store.publish(store, ["198.18.0.10:2377"], TOKENS, election=won)
    assert token_store.read_join_data(store, "manager").token == MANAGER


def test_join_data_repr_hides_the_token():
    text = repr(token_store.read_join_data(MemoryStore(PUBLISHED), "manager"))
    assert MANAGER not in text and MASK in text


def test_partial_data_reads_as_not_there_yet():
    assert token_store.read_join_data(MemoryStore({"worker_token": WORKER_ENTRY}), "worker") is None
    managers_only = MemoryStore({"managers": ["198.18.0.10"], "manager_token": MANAGER_ENTRY})
    assert token_store.read_join_data(managers_only, "worker") is None


def test_publish_refuses_bad_data_and_writes_nothing():
    store = MemoryStore()
    with pytest.raises(SwarmError, match="managers: must be a non-empty list"):
        token_store.publish(store, [], TOKENS)
    with pytest.raises(SwarmError, match="worker_token: token: not a swarm join"):
        token_store.publish(store, ["198.18.0.10"], {**TOKENS, "worker": "x"})
    assert store.data == {}


@pytest.mark.parametrize(
    "data, message",
    [
        ({**PUBLISHED, "managers": "198.18.0.10"}, r"/managers: must be a non-empty list"),
        ({**PUBLISHED, "managers": ["198.18.0.10", ""]}, r"/managers: '' is not a manager"),
        ({**PUBLISHED, "managers": [WORKER]}, r"/managers: 'SWMTKN-1-\*+' is not a manager"),
        ({**PUBLISHED, "managers": ["198.18.0.10:99999"]}, r"/managers: bad port"),
        ({**PUBLISHED, "worker_token": WORKER}, r"/worker_token: must be a mapping"),
        (
            {**PUBLISHED, "worker_token": {**WORKER_ENTRY, "token": "oops"}},
            r"/worker_token: token: not a swarm join",
        ),
        (
            {**PUBLISHED, "worker_token": {**WORKER_ENTRY, "cluster_id": ""}},
            r"/worker_token: cluster_id must be",
        ),
    ],
)
def test_bad_data_in_the_store_gives_a_clear_error(data, message):
    with pytest.raises(SwarmError, match=message) as err:
        token_store.read_join_data(MemoryStore(data), "worker")
    assert str(err.value).startswith("sdb://mem/swarm/")
    assert WORKER not in str(err.value) and MANAGER not in str(err.value)


# -- salt-swarm 0.1's layout ------------------------------------------------------------

OLD = {"tokens": TOKENS, "managers": ["198.18.0.10:2377"], "node_labels": {}}


@pytest.mark.parametrize("role", ["worker", "manager"])
def test_the_old_layout_is_a_clear_error_saying_how_to_move_it(role):
    with pytest.raises(token_store.OldLayout) as err:
        token_store.read_join_data(MemoryStore(OLD), role)
    message = str(err.value)
    assert message.startswith("sdb://mem/swarm: holds join data in salt-swarm 0.1's layout")
    assert "run `state.apply swarm` once on a manager that is already in the swarm" in message
    assert WORKER not in message and MANAGER not in message
    assert token_store.old_layout_cluster(MemoryStore(OLD)) == "c1"


def test_a_profile_that_may_not_read_the_old_key_just_sees_nothing():
    class Denied(MemoryStore):
        def get(self, name):
            if name == "tokens":
                raise SwarmError("etcd http://x/v3/kv/range: etcdserver: permission denied")
            return super().get(name)

    assert token_store.read_join_data(Denied(OLD), "worker") is None


# -- waiting --------------------------------------------------------------------------


class PublishesLater(MemoryStore):
    """Publishes the join data on the n-th read of the managers key."""

    def __init__(self, after_reads):
        super().__init__()
        self.count = 0
        self.after_reads = after_reads

    def get(self, name):
        if name == "managers":
            self.count += 1
            if self.count == self.after_reads:
                token_store.publish(self, ["198.18.0.10"], TOKENS)
        return super().get(name)


def test_wait_returns_once_published():
    clock = FakeClock()
    store = PublishesLater(after_reads=4)
    data = token_store.wait_for_join_data(
        store, "worker", 60, poll=2, clock=clock, sleep=clock.sleep
    )
    assert data.managers == ["198.18.0.10"] and data.token == WORKER
    assert clock.now == 1006.0  # three polls of 2 s before the fourth read found it


def test_wait_gives_up_at_the_deadline_naming_the_leader():
    clock = FakeClock()
    store = MemoryStore({"leader": {"minion": "host1", "at": 0}})
    with pytest.raises(SwarmError) as err:
        token_store.wait_for_join_data(store, "manager", 10, poll=3, clock=clock, sleep=clock.sleep)
    assert clock.now == 1010.0  # the last sleep is cut to the deadline
    message = str(err.value)
    assert message.startswith(
        "sdb://mem/swarm: no join data (managers and manager_token) after 10 s"
    )
    assert "host1 won the election at 1970-01-01T00:00:00Z but has not published" in message


def test_wait_without_any_leader_says_so():
    clock = FakeClock()
    with pytest.raises(SwarmError, match="no node holds the election"):
        token_store.wait_for_join_data(MemoryStore(), "worker", 1, clock=clock, sleep=clock.sleep)


def test_wait_names_a_missing_token_when_the_managers_are_there():
    clock = FakeClock()
    store = MemoryStore({"managers": ["198.18.0.10"]})
    with pytest.raises(SwarmError, match="managers is published but worker_token is not"):
        token_store.wait_for_join_data(store, "worker", 1, clock=clock, sleep=clock.sleep)


def test_wait_until_vacant_returns_none_when_the_holder_is_gone():
    clock = FakeClock()
    store = LeaseStore()
    held = token_store.elect(store, "host1")

    def sleep(seconds):
        clock.sleep(seconds)
        if clock.now >= 1004:
            store.expire(held.lease)

    found = token_store.wait_for_join_data(
        store, "manager", 60, poll=2, clock=clock, sleep=sleep, until_vacant=True
    )
    assert found is None and clock.now == 1004.0


def test_wait_stops_at_once_on_bad_data():
    clock = FakeClock()
    store = MemoryStore({"managers": ["198.18.0.10"], "worker_token": {"token": "x"}})
    with pytest.raises(SwarmError, match="worker_token: token"):
        token_store.wait_for_join_data(store, "worker", 60, clock=clock, sleep=clock.sleep)
    assert clock.now == 1000.0


# -- the manager list -------------------------------------------------------------------


def test_add_manager_appends_once():
    store = MemoryStore({"managers": ["198.18.0.10:2377"]})
    assert token_store.add_manager(store, "198.18.0.11:2377") is True
    assert token_store.add_manager(store, "198.18.0.11:2377") is False
    assert store.data["managers"] == ["198.18.0.10:2377", "198.18.0.11:2377"]


def test_add_manager_refuses_a_token_for_an_address():
    with pytest.raises(SwarmError, match="is not a manager address") as err:
        token_store.add_manager(MemoryStore(), MANAGER)
    assert MANAGER not in str(err.value)


def test_racing_adds_keep_every_address():
    store = MemoryStore({"managers": []})
    race(8, lambda i: token_store.add_manager(store, f"198.18.0.{10 + i}:2377"))
    assert sorted(store.data["managers"]) == sorted(f"198.18.0.{10 + i}:2377" for i in range(8))


def test_modify_gives_up_when_always_beaten():
    class Beaten(MemoryStore):
        def replace(self, name, expected, value):
            return False, "someone else"

    with pytest.raises(SwarmError, match="3 writers in a row"):
        token_store.modify(Beaten(), "managers", lambda cur: ["x:2377"], tries=3)


# -- node labels ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [MemoryStore, IndexStore])
def test_node_labels_one_key_per_worker(kind):
    store = kind()
    assert token_store.put_node_labels(store, "n1", "w1", {"docker.role": "web"})
    assert not token_store.put_node_labels(store, "n1", "w1", {"docker.role": "web"})
    assert token_store.put_node_labels(store, "n2", "w2", {})
    assert store.data["labels/w1"] == {
        "node_id": "n1",
        "hostname": "w1",
        "labels": {"docker.role": "web"},
    }
    assert token_store.published_labels(store) == {
        "w1": store.data["labels/w1"],
        "w2": store.data["labels/w2"],
    }
    if kind is IndexStore:
        assert store.data["labels/.index"] == ["w1", "w2"]


@pytest.mark.parametrize("kind", [MemoryStore, IndexStore])
def test_remove_node_labels_only_when_unchanged(kind):
    store = kind()
    token_store.put_node_labels(store, "n1", "w1", {"a": "1"})
    seen = store.data["labels/w1"]
    token_store.put_node_labels(store, "n9", "w1", {"a": "1"})  # rebuilt: a new node id
    assert not token_store.remove_node_labels(store, "w1", seen)
    assert token_store.remove_node_labels(store, "w1", store.data["labels/w1"])
    assert token_store.published_labels(store) == {}
    if kind is IndexStore:
        assert store.data["labels/.index"] == []


def test_put_node_labels_in_test_mode_writes_nothing():
    store = MemoryStore()
    assert token_store.put_node_labels(store, "n1", "w1", {"a": "1"}, test=True)
    assert store.data == {}


def test_the_index_of_a_store_that_cannot_list_drops_odd_names():
    store = IndexStore({"labels/.index": ["w1", "../manager_token", 5], "labels/w1": {"x": 1}})
    assert token_store.published_labels(store) == {"w1": {"x": 1}}
    assert "../manager_token" not in store.reads and "labels/../manager_token" not in store.reads


@pytest.mark.parametrize("hostname", ["", "a/b", ".index", "-x", "a b", "a\nb", None])
def test_a_hostname_that_cannot_name_a_key_is_refused(hostname):
    with pytest.raises(SwarmError, match="cannot name a key"):
        token_store.label_key(hostname)
