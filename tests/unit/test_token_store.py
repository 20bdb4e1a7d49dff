"""Unit tests for salt_swarm.core.token_store against an in-memory store.

Tokens here are fake, built from repeated characters.
"""

import threading

import pytest

from salt_swarm.core import token_store
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import MASK

WORKER = "SWMTKN-1-" + "a" * 50 + "-" + "w" * 25
MANAGER = "SWMTKN-1-" + "a" * 50 + "-" + "m" * 25
OTHER_SWARM_MANAGER = "SWMTKN-1-" + "b" * 50 + "-" + "m" * 25
TOKENS = {"worker": WORKER, "manager": MANAGER, "cluster_id": "c1"}


class MemoryStore:
    """A store with a real compare-and-set: create/replace hold one lock."""

    supports_cas = True
    where = "sdb://mem/swarm"

    def __init__(self, data=None):
        self.data = dict(data or {})
        self.lock = threading.Lock()

    def get(self, name):
        return self.data.get(name)

    def set(self, name, value):
        self.data[name] = value

    def delete(self, name):
        self.data.pop(name, None)

    def create(self, name, value):
        with self.lock:
            if name in self.data:
                return False, self.data[name]
            self.data[name] = value
            return True, value

    def replace(self, name, expected, value):
        with self.lock:
            if self.data.get(name) != expected:
                return False, self.data.get(name)
            self.data[name] = value
            return True, value


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


# -- election -------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(20))
def test_two_callers_racing_elect_exactly_one(attempt):
    store = MemoryStore()
    results = race(2, lambda i: token_store.elect(store, f"host{i + 1}"))
    assert sorted(r.won for r in results) == [False, True]
    winner = next(r.leader for r in results if r.won)
    assert all(r.leader == winner for r in results)
    assert store.data["leader"]["minion"] == winner


def test_the_holder_wins_again_on_a_rerun():
    store = MemoryStore()
    first = token_store.elect(store, "host1")
    again = token_store.elect(store, "host1")
    assert first.won and again.won and again.at == first.at


def test_a_fresh_record_is_not_taken_over():
    clock = FakeClock()
    store = MemoryStore({"leader": {"minion": "host1", "at": clock.now - 10}})
    result = token_store.elect(store, "host2", ttl=60, now=clock)
    assert (result.won, result.leader) == (False, "host1")


def test_without_ttl_a_record_is_never_taken_over():
    store = MemoryStore({"leader": {"minion": "host1", "at": 0}})
    assert not token_store.elect(store, "host2").won


def test_a_stale_record_is_taken_over_by_exactly_one():
    clock = FakeClock()
    store = MemoryStore({"leader": {"minion": "dead", "at": clock.now - 600}})
    results = race(2, lambda i: token_store.elect(store, f"host{i + 1}", ttl=60, now=clock))
    assert sorted(r.won for r in results) == [False, True]
    winner = next(r for r in results if r.won)
    assert winner.took_over_from == "dead"
    assert store.data["leader"]["minion"] == winner.leader


def test_resign_frees_the_record_only_for_its_holder():
    store = MemoryStore()
    token_store.elect(store, "host1")
    assert not token_store.resign(store, "host2")
    assert token_store.resign(store, "host1")
    assert token_store.elect(store, "host2").won


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


# -- publish and read -----------------------------------------------------------------


def test_publish_then_read_round_trips():
    store = MemoryStore()
    written = token_store.publish(store, ["198.18.0.10:2377", "198.18.0.11:2377"], TOKENS)
    assert written == ["tokens", "managers"]
    data = token_store.read_join_data(store)
    assert data.managers == ["198.18.0.10:2377", "198.18.0.11:2377"]
    assert data.token("worker") == WORKER and data.cluster_id == "c1"


def test_join_data_repr_hides_tokens():
    token_store.publish(store := MemoryStore(), ["198.18.0.10"], TOKENS)
    text = repr(token_store.read_join_data(store))
    assert WORKER not in text and MANAGER not in text and MASK in text


def test_partial_data_reads_as_not_there_yet():
    assert token_store.read_join_data(MemoryStore({"tokens": TOKENS})) is None
    assert token_store.read_join_data(MemoryStore({"managers": ["198.18.0.10"]})) is None


def test_publish_refuses_bad_data_and_writes_nothing():
    store = MemoryStore()
    with pytest.raises(SwarmError, match="managers: must be a non-empty list"):
        token_store.publish(store, [], TOKENS)
    assert store.data == {}


@pytest.mark.parametrize(
    "managers, tokens, message",
    [
        ("198.18.0.10", TOKENS, r"/managers: must be a non-empty list"),
        (["198.18.0.10", ""], TOKENS, r"/managers: '' is not a manager address"),
        ([WORKER], TOKENS, r"/managers: 'SWMTKN-1-\*+' is not a manager address"),
        (["198.18.0.10"], [WORKER, MANAGER], r"/tokens: must be a mapping"),
        (["198.18.0.10"], {**TOKENS, "worker": "oops"}, r"/tokens: worker: not a swarm join"),
        (["198.18.0.10"], {**TOKENS, "manager": None}, r"/tokens: manager: not a swarm join"),
        (
            ["198.18.0.10"],
            {**TOKENS, "manager": OTHER_SWARM_MANAGER},
            r"/tokens: worker and manager tokens are of different swarms",
        ),
        (["198.18.0.10"], {**TOKENS, "cluster_id": ""}, r"/tokens: cluster_id must be"),
    ],
)
def test_bad_data_in_the_store_gives_a_clear_error(managers, tokens, message):
    store = MemoryStore({"managers": managers, "tokens": tokens})
    with pytest.raises(SwarmError, match=message) as err:
        token_store.read_join_data(store)
    assert str(err.value).startswith("sdb://mem/swarm/")
    assert WORKER not in str(err.value) and MANAGER not in str(err.value)


# -- waiting --------------------------------------------------------------------------


class PublishesLater(MemoryStore):
    """Publishes the join data on the n-th read of the tokens key."""

    def __init__(self, after_reads):
        super().__init__()
        self.reads = 0
        self.after_reads = after_reads

    def get(self, name):
        if name == "tokens":
            self.reads += 1
            if self.reads == self.after_reads:
                token_store.publish(self, ["198.18.0.10"], TOKENS)
        return super().get(name)


def test_wait_returns_once_published():
    clock = FakeClock()
    store = PublishesLater(after_reads=4)
    data = token_store.wait_for_join_data(store, 60, poll=2, clock=clock, sleep=clock.sleep)
    assert data.managers == ["198.18.0.10"]
    assert clock.now == 1006.0  # three polls of 2 s before the fourth read found it


def test_wait_gives_up_at_the_deadline_naming_the_leader():
    clock = FakeClock()
    store = MemoryStore({"leader": {"minion": "host1", "at": 0}})
    with pytest.raises(SwarmError) as err:
        token_store.wait_for_join_data(store, 10, poll=3, clock=clock, sleep=clock.sleep)
    assert clock.now == 1010.0  # the last sleep is cut to the deadline
    message = str(err.value)
    assert message.startswith("sdb://mem/swarm: no join data (managers and tokens) after 10 s")
    assert "host1 won the election at 1970-01-01T00:00:00Z but has not published" in message


def test_wait_without_any_leader_says_so():
    clock = FakeClock()
    with pytest.raises(SwarmError, match="no node holds the election"):
        token_store.wait_for_join_data(MemoryStore(), 1, clock=clock, sleep=clock.sleep)


def test_wait_stops_at_once_on_bad_data():
    clock = FakeClock()
    store = MemoryStore({"managers": ["198.18.0.10"], "tokens": {"worker": "x"}})
    with pytest.raises(SwarmError, match="tokens: worker"):
        token_store.wait_for_join_data(store, 60, clock=clock, sleep=clock.sleep)
    assert clock.now == 1000.0


def test_a_bad_port_in_a_manager_address_is_named():
    store = MemoryStore({"managers": ["198.18.0.10:99999"], "tokens": TOKENS})
    with pytest.raises(SwarmError, match=r"sdb://mem/swarm/managers: bad port"):
        token_store.read_join_data(store)


# -- read-modify-write: manager list and node labels ----------------------------------


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


def test_node_labels_round_trip_and_no_write_when_same():
    store = MemoryStore()
    assert token_store.put_node_labels(store, "w1", {"docker.role": "web"}, ["docker.*"])
    assert not token_store.put_node_labels(store, "w1", {"docker.role": "web"}, ["docker.*"])
    assert token_store.node_labels(store) == {
        "w1": {"labels": {"docker.role": "web"}, "owned": ["docker.*"]}
    }


def test_node_labels_drop_bad_entries():
    store = MemoryStore({"node_labels": {"w1": "text", "w2": {"labels": {}}, "nonce": "ab"}})
    assert token_store.node_labels(store) == {"w2": {"labels": {}}}


def test_modify_gives_up_when_always_beaten():
    class Beaten(MemoryStore):
        def replace(self, name, expected, value):
            return False, "someone else"

    with pytest.raises(SwarmError, match="3 writers in a row"):
        token_store.modify(Beaten(), "managers", lambda cur: ["x:2377"], tries=3)
