"""Membership through a token store: error paths refused before anything changes, and
the checks a manager makes on label entries workers published.

The behaviour itself (elections, joins, labels) is proven in the lab:
tests/integration/test_masterless_store.py.
"""

import pytest

from salt_swarm.core import store_join, token_store
from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError
from tests.unit.core.test_token_store import OLD, PUBLISHED, MemoryStore


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
    store = MemoryStore({**PUBLISHED, "managers": ["198.18.0.10:2377"]})
    with pytest.raises(SwarmError, match="in another swarm; leave it first"):
        store_join.converge(FakeClient(WORKER), store, want("worker"))


def test_a_worker_asked_to_be_a_manager_is_refused():
    store = MemoryStore({**PUBLISHED, "managers": ["198.18.0.99:2377"]})
    with pytest.raises(SwarmError, match="already a worker"):
        store_join.converge(FakeClient(WORKER), store, want("manager"))


@pytest.mark.parametrize("role", ["worker", "manager"])
def test_a_bare_node_on_a_store_in_the_old_layout_is_told_how_to_move_it(role):
    client = FakeClient(INACTIVE)
    store = MemoryStore(OLD)
    with pytest.raises(token_store.OldLayout, match="on a manager that is already in the swarm"):
        store_join.converge(client, store, want(role))
    assert client.api.calls == [] and store.data == OLD


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


def test_a_manager_waiting_on_a_holder_that_never_publishes_gives_up_naming_it():
    store = MemoryStore({"leader": {"minion": "host9", "at": 0}})
    client = FakeClient(INACTIVE)
    with pytest.raises(SwarmError, match="host9 won the election .* but has not published"):
        store_join.converge(client, store, want("manager"))
    assert client.api.calls == []


# -- label entries a worker published -------------------------------------------------


def node(id_, hostname, role="worker"):
    return NodeView(id_, hostname, role, "active", "ready", "198.18.0.20")


NODES = [node("m1", "mgr1", "manager"), node("w1", "web1"), node("w2", "web2")]
OWNED = ["docker.*"]


def entry(node_id, hostname, **labels):
    return {"node_id": node_id, "hostname": hostname, "labels": labels}


def vet(entries, owned=OWNED, nodes=NODES):
    plan, skipped, gone = store_join.vet_label_entries(entries, nodes, owned)
    return {n.id: labels for n, labels, _ in plan}, skipped, gone


def owned_by_entry(entries, owned=OWNED):
    plan, _, _ = store_join.vet_label_entries(entries, NODES, owned)
    return {n.id: globs for n, _, globs in plan}


def test_an_entry_owns_what_it_says_among_the_managers_globs_and_no_more():
    owned = ["docker.*", "dc.*"]
    said = {
        "web1": {**entry("w1", "web1"), "owned": ["dc.*"]},  # its ec2_tags grain is missing
        "web2": {**entry("w2", "web2"), "owned": ["docker.*", "node.*", 5]},
    }
    assert owned_by_entry(said, owned) == {"w1": ["dc.*"], "w2": ["docker.*"]}


def test_an_entry_that_does_not_say_what_it_owns_owns_every_glob():
    assert owned_by_entry({"web1": entry("w1", "web1")}) == {"w1": OWNED}
    assert owned_by_entry({"web1": {**entry("w1", "web1"), "owned": "docker.*"}}) == {"w1": OWNED}


def test_a_matching_entry_is_applied_to_its_own_worker():
    plan, skipped, gone = vet({"web1": entry("w1", "web1", **{"docker.role": "web"})})
    assert plan == {"w1": {"docker.role": "web"}} and skipped == [] and gone == []


def test_only_keys_inside_this_managers_rules_are_applied():
    labels = {"docker.role": "web", "node.admin": "1", "zone": "a"}
    plan, skipped, _ = vet({"web1": entry("w1", "web1", **labels)})
    assert plan == {"w1": {"docker.role": "web"}}
    assert skipped == ["labels/web1: keys outside swarm:grain_labels: node.admin, zone"]


def test_an_entry_on_a_managers_node_is_skipped_and_removed():
    plan, skipped, gone = vet({"mgr1": entry("m1", "mgr1", **{"docker.role": "db"})})
    assert plan == {} and gone == ["mgr1"]
    assert skipped == ["labels/mgr1: mgr1 is a manager (its labels come from its own grains)"]


def test_an_entry_for_a_node_not_in_the_swarm_is_skipped_and_removed():
    plan, skipped, gone = vet({"web9": entry("w9", "web9", **{"docker.role": "db"})})
    assert plan == {} and gone == ["web9"]
    assert skipped == ["labels/web9: node w9 is not in the swarm"]


@pytest.mark.parametrize(
    "name, value, why",
    [
        # another worker's node id under one's own hostname, and the other way round
        ("web1", entry("w2", "web1"), "labels/web1: node w2 is web2, not web1"),
        ("web2", entry("w2", "web1"), "labels/web2: names hostname web1, not web2"),
        ("web1", {"labels": {}}, "labels/web1: not an entry {node_id, hostname, labels}"),
        ("web1", "text", "labels/web1: not an entry {node_id, hostname, labels}"),
        ("web1", entry(["w1"], "web1"), "labels/web1: not an entry"),
        ("a/b", entry("w1", "a/b"), "labels/'a/b': not a hostname key"),
        (".index", ["web1"], "labels/'.index': not a hostname key"),
    ],
)
def test_entries_that_do_not_match_their_node_are_skipped(name, value, why):
    plan, skipped, gone = vet({name: value})
    assert plan == {} and gone == []
    assert len(skipped) == 1 and skipped[0].startswith(why)


def test_without_rules_on_this_manager_nothing_published_is_applied():
    plan, skipped, _ = vet({"web1": entry("w1", "web1", **{"docker.role": "web"})}, owned=[])
    assert plan == {}
    assert skipped == ["labels/web1: this manager has no swarm:grain_labels rules"]


def test_a_bad_label_value_skips_the_entry_without_showing_it():
    secret_ish = "line1\nline2-payload"
    plan, skipped, _ = vet({"web1": entry("w1", "web1", **{"docker.role": secret_ish})})
    assert plan == {}
    assert len(skipped) == 1 and skipped[0].startswith("labels/web1: value of 'docker.role'")
    assert "payload" not in skipped[0]


def test_what_a_worker_wrote_reaches_the_log_on_one_line_and_cut_short():
    forged = entry("x" * 500 + "\nFAKE LOG LINE", "web1")
    _, skipped, _ = vet({"web1": forged})
    assert "\n" not in skipped[0] and len(skipped[0]) < 200


def test_twins_of_one_hostname_are_told_apart_by_node_id():
    nodes = [*NODES, node("w1old", "web1")]
    nodes[1] = NodeView("w1", "web1", "worker", "active", "ready", "198.18.0.21")
    plan, skipped, _ = vet({"web1": entry("w1", "web1", **{"docker.a": "1"})}, nodes=nodes)
    assert plan == {"w1": {"docker.a": "1"}} and skipped == []
