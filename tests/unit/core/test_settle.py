"""Node settings: one node list, role changes one at a time (promotions first), the
rest written side by side, and a failure that says what already changed."""

import threading

import pytest

from salt_swarm.core import settle
from salt_swarm.core.errors import SwarmError


def raw_node(host, role="worker", availability="active", labels=None, version=7):
    return {
        "ID": f"id-{host}",
        "Version": {"Index": version},
        "Spec": {"Role": role, "Availability": availability, "Labels": labels or {}},
        "Status": {"State": "ready", "Addr": "10.0.0.1"},
        "ManagerStatus": {"Reachability": "reachable"} if role == "manager" else None,
        "Description": {"Hostname": host},
    }


class FakeAPI:
    """The node calls settle makes, recorded; ``fail`` names hosts whose write fails."""

    def __init__(self, nodes, fail=()):
        self.listed = [raw_node(**n) if isinstance(n, dict) else raw_node(n) for n in nodes]
        self.fail = set(fail)
        self.lists = 0
        self.writes = []
        self.lock = threading.Lock()

    def nodes(self):
        self.lists += 1
        return self.listed

    def update_node(self, node_id, version, spec):
        host = node_id.removeprefix("id-")
        if host in self.fail:
            raise RuntimeError("rpc error: node not found")
        with self.lock:
            self.writes.append((host, version, spec))


class FakeClient:
    def __init__(self, api):
        self.api = api

    def info(self):
        return {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True, "NodeID": "id-m1"}}


@pytest.fixture
def role_calls(monkeypatch):
    seen = []

    def update(
        client, host, role=None, availability=None, labels=None, labels_owned=None, test=False
    ):
        seen.append((host, role))
        if host == "boom":
            raise SwarmError("refusing to demote boom: it would leave 1 of 2 managers reachable")
        return {"role": {"old": "x", "new": role}}

    monkeypatch.setattr(settle.node_ops, "update", update)
    monkeypatch.setattr(settle.prune, "remove_stale_twins", lambda client, test, wait: [])
    return seen


def test_role_changes_go_one_at_a_time_promotions_first(role_calls):
    api = FakeAPI(["a", "b", "c"])
    wanted = {"a": {"role": "worker"}, "b": {"role": "manager"}, "c": {"role": "manager"}}
    result = settle.settle(FakeClient(api), wanted)
    assert role_calls == [("b", "manager"), ("c", "manager")]  # a is a worker already
    assert sorted(result["nodes"]) == ["b", "c"] and result["removed"] == []


def test_a_refused_demotion_names_the_nodes_already_changed(role_calls):
    api = FakeAPI([{"host": "a"}, {"host": "boom", "role": "manager"}])
    with pytest.raises(SwarmError, match=r"boom: refusing .* \(nodes already changed: a\)"):
        settle.settle(FakeClient(api), {"a": {"role": "manager"}, "boom": {"role": "worker"}})


def test_other_changes_come_from_one_list_and_are_all_written(role_calls):
    hosts = [f"w{i}" for i in range(20)]
    api = FakeAPI(hosts + [{"host": "m1", "role": "manager"}])
    wanted = {h: {"role": "worker", "labels": {"tier": "app"}} for h in hosts}
    wanted["m1"] = {"role": "manager", "availability": "drain"}
    result = settle.settle(FakeClient(api), wanted)
    assert api.lists == 1 and role_calls == []
    assert sorted(h for h, _, _ in api.writes) == sorted([*hosts, "m1"])
    written = {h: (v, spec) for h, v, spec in api.writes}
    assert written["w3"] == (
        7,
        {"Role": "worker", "Availability": "active", "Labels": {"tier": "app"}},
    )
    assert written["m1"][1]["Availability"] == "drain"
    assert result["nodes"]["w3"] == {"labels": {"added": {"tier": "app"}}}


def test_nodes_already_as_wanted_are_not_written(role_calls):
    api = FakeAPI([{"host": "w1", "labels": {"tier": "app"}}])
    result = settle.settle(FakeClient(api), {"w1": {"role": "worker", "labels": {"tier": "app"}}})
    assert api.writes == [] and result["nodes"] == {}


def test_test_mode_writes_nothing_but_reports(role_calls):
    api = FakeAPI(["w1"])
    result = settle.settle(FakeClient(api), {"w1": {"labels": {"tier": "app"}}}, test=True)
    assert api.writes == [] and "labels" in result["nodes"]["w1"]


def test_failed_writes_are_named_with_what_did_change(role_calls):
    api = FakeAPI(["w1", "w2", "w3"], fail={"w2"})
    wanted = {h: {"labels": {"tier": "app"}} for h in ("w1", "w2", "w3")}
    with pytest.raises(
        SwarmError, match=r"w2: rpc error: node not found \(nodes already changed: w1, w3\)"
    ):
        settle.settle(FakeClient(api), wanted)


def test_bad_settings_are_refused_before_anything_changes(role_calls):
    api = FakeAPI(["w1", "w2"])
    with pytest.raises(SwarmError, match="availability"):
        settle.settle(
            FakeClient(api), {"w1": {"labels": {"a": "b"}}, "w2": {"availability": "off"}}
        )
    assert api.writes == [] and api.lists == 0


def test_nodes_must_be_a_mapping(role_calls):
    with pytest.raises(SwarmError, match="nodes: expected a mapping"):
        settle.settle(None, ["a"])


def test_nodes_still_joining_are_waited_for_and_the_late_ones_named(role_calls, monkeypatch):
    api = FakeAPI(["w1"])
    late = raw_node("w2")
    lists = iter([api.listed, api.listed, [*api.listed, late]])

    def nodes():
        api.lists += 1
        return next(lists, [*api.listed, late])

    api.nodes = nodes
    monkeypatch.setattr(settle.time, "sleep", lambda s: None)
    wanted = {h: {"labels": {"tier": "app"}} for h in ("w1", "w2", "w3")}
    result = settle.settle(FakeClient(api), wanted, wait_for=["w1", "w2", "w3"], wait=0.5)
    assert result["missing"] == ["w3"]
    assert sorted(h for h, _, _ in api.writes) == ["w1", "w2"]


def test_a_rebuilt_hosts_old_node_is_not_the_one_waited_for(role_calls, monkeypatch):
    old = dict(raw_node("w1"), Status={"State": "down", "Addr": "10.0.0.1"})
    new = dict(raw_node("w1"), ID="id-w1-new")
    views = iter([[old], [old], [old, new]])
    api = FakeAPI([])
    api.nodes = lambda: next(views, [old, new])
    monkeypatch.setattr(settle.time, "sleep", lambda s: None)
    result = settle.settle(
        FakeClient(api), {"w1": {"labels": {"a": "b"}}}, wait_for={"w1": ["id-w1"]}, wait=5
    )
    assert "missing" not in result
    assert [(h, spec["Labels"]) for h, _, spec in api.writes] == [("w1-new", {"a": "b"})]
