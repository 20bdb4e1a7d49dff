"""Error paths of membership through a token store: refused before anything changes.

The behaviour itself (elections, joins, labels) is proven in the lab:
tests/integration/test_masterless_store.py.
"""

import pytest

from salt_swarm.core import store_join
from salt_swarm.core.errors import SwarmError
from tests.unit.test_token_store import TOKENS, MemoryStore


class RecordingApi:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append(name)
            raise AssertionError(f"the Docker API was called: {name}")

        return call


class FakeClient:
    def __init__(self, swarm):
        self.swarm = swarm
        self.api = RecordingApi()

    def info(self):
        return {"Name": "host1", "Swarm": self.swarm}


INACTIVE = {"LocalNodeState": "inactive"}
WORKER = {
    "LocalNodeState": "active",
    "NodeID": "n1",
    "NodeAddr": "198.18.0.12",
    "ControlAvailable": False,
    "RemoteManagers": [{"NodeID": "m9", "Addr": "198.18.0.99:2377"}],
}


class DownStore(MemoryStore):
    def get(self, name):
        raise SwarmError("etcd unreachable: http://198.18.0.1:2379: connection refused")


def want(role="worker", **kw):
    return store_join.StoreJoin(me="host1", role=role, wait=0, **kw)


def test_a_store_that_is_down_fails_before_any_docker_change():
    client = FakeClient(INACTIVE)
    with pytest.raises(SwarmError, match="etcd unreachable"):
        store_join.converge(client, DownStore(), want("manager"))
    assert client.api.calls == []


def test_a_bad_role_is_refused():
    with pytest.raises(SwarmError, match="role"):
        store_join.converge(FakeClient(INACTIVE), MemoryStore(), want("boss"))


def test_a_worker_with_nothing_published_times_out_naming_the_store():
    client = FakeClient(INACTIVE)
    with pytest.raises(SwarmError, match="sdb://mem/swarm: no join data"):
        store_join.converge(client, MemoryStore(), want("worker"))
    assert client.api.calls == []


def test_a_worker_of_another_swarm_is_refused():
    store = MemoryStore({"tokens": TOKENS, "managers": ["198.18.0.10:2377"]})
    with pytest.raises(SwarmError, match="in another swarm; leave it first"):
        store_join.converge(FakeClient(WORKER), store, want("worker"))


def test_a_worker_asked_to_be_a_manager_is_refused():
    store = MemoryStore({"tokens": TOKENS, "managers": ["198.18.0.99:2377"]})
    with pytest.raises(SwarmError, match="already a worker"):
        store_join.converge(FakeClient(WORKER), store, want("manager"))


def test_test_mode_on_a_bare_manager_writes_nothing():
    store = MemoryStore()
    out = store_join.converge(FakeClient(INACTIVE), store, want("manager"), test=True)
    assert out["changed"] and out["action"] == "init"
    assert "would init a new swarm if elected" in out["comment"]
    assert store.data == {}


def test_a_manager_that_is_not_first_manager_only_waits():
    store = MemoryStore()
    client = FakeClient(INACTIVE)
    with pytest.raises(SwarmError, match="no join data"):
        store_join.converge(client, store, want("manager", may_init=False))
    assert store.data == {} and client.api.calls == []
