"""Init, join and the cluster settings are decided first (a plan), then applied: a
test run reports the very plan a real run carries out, and deciding touches nothing."""

import pytest

from salt_swarm.core import cluster_settings, swarm_init, swarm_join
from salt_swarm.core.errors import SwarmError

TOKEN = "SWMTKN-1-" + "a" * 50 + "-" + "b" * 25


class API:
    def __init__(self, client):
        self.client, self.calls = client, []

    def _url(self, path):
        return path

    def _post_json(self, url, data):
        self.calls.append(("post", url))
        self.client.state, self.client.manager = "active", url == "/swarm/init"
        return Answer()

    def _result(self, answer, json=False):
        return "n1"

    def _raise_for_status(self, answer):
        pass

    def leave_swarm(self, force=False):
        self.calls.append(("leave", force))
        self.client.state = "inactive"

    def inspect_swarm(self):
        spec = {"Dispatcher": {"HeartbeatPeriod": 5_000_000_000}, "EncryptionConfig": {}}
        return {"Spec": spec, "Version": {"Index": 7}, "JoinTokens": {"Worker": TOKEN}}

    def update_swarm(self, **kwargs):
        self.calls.append(("update_swarm", kwargs["version"]))


class Answer:
    pass


class Client:
    def __init__(self, state, manager=False):
        self.state, self.manager = state, manager
        self.api = API(self)

    def info(self):
        swarm = {"LocalNodeState": self.state, "NodeID": "n1", "ControlAvailable": self.manager}
        if self.state == "active":
            swarm["RemoteManagers"] = [{"Addr": "10.0.0.1:2377"}]
            swarm["Cluster"] = {"ID": "c0ffee"}
        return {"Swarm": swarm}


@pytest.mark.parametrize(
    "state, manager, steps",
    [
        ("inactive", False, ("init",)),
        ("error", False, ("drop_stale", "init")),
        ("active", True, ()),
    ],
)
def test_init_plan_is_what_a_test_run_reports_and_a_real_run_does(state, manager, steps):
    client = Client(state, manager)
    plan = swarm_init.init_plan(client, swarm_init.InitOptions())
    assert plan.steps == steps
    assert client.api.calls == []  # deciding changes nothing
    told = swarm_init.init(client, swarm_init.InitOptions(), test=True)
    assert told == plan.report() and told["changed"] == bool(steps)
    assert client.api.calls == []
    done = swarm_init.init(client, swarm_init.InitOptions())
    assert done["changed"] == bool(steps)
    expected = ([("leave", True)] if "drop_stale" in steps else []) + (
        [("post", "/swarm/init")] if steps else []
    )
    assert client.api.calls == expected


def test_init_plan_refuses_a_worker_and_a_locked_node():
    with pytest.raises(SwarmError, match="worker in a swarm"):
        swarm_init.init_plan(Client("active", False), swarm_init.InitOptions())
    with pytest.raises(SwarmError, match="locked"):
        swarm_init.init_plan(Client("locked", True), swarm_init.InitOptions())


def request(role="worker"):
    return swarm_join.JoinRequest(role=role, managers=("10.0.0.1",), token=TOKEN)


@pytest.mark.parametrize(
    "state, steps", [("inactive", ("join",)), ("pending", ("drop_current", "join"))]
)
def test_join_plan_is_what_a_test_run_reports_and_a_real_run_does(monkeypatch, state, steps):
    monkeypatch.setattr(swarm_join, "settled_info", swarm_join.info)
    client = Client(state)
    plan = swarm_join.join_plan(client, request())
    assert plan.steps == steps and client.api.calls == []
    assert swarm_join.join(client, request(), test=True) == plan.report()
    assert client.api.calls == []
    done = swarm_join.join(client, request(), probe=lambda addr: True)
    assert done["changed"] and done["role"] == "worker"
    dropped = [("leave", True)] if "drop_current" in steps else []
    assert client.api.calls == [*dropped, ("post", "/swarm/join")]
    if dropped:
        assert f"left {state} state first" in done["comment"]


def test_join_plan_of_a_member_of_that_swarm_is_empty_and_a_role_change_refused():
    client = Client("active")
    assert swarm_join.join_plan(client, request()).steps == ()
    with pytest.raises(SwarmError, match="already a worker"):
        swarm_join.join_plan(client, request("manager"))
    assert client.api.calls == []


def test_settings_plan_reports_changes_and_only_the_real_run_updates():
    client = Client("active", manager=True)
    plan = cluster_settings.settings_plan(client, {"heartbeat_period": "10s"})
    assert set(plan.changes) == {"heartbeat_period"} and plan.version == 7
    assert cluster_settings.update(client, {"heartbeat_period": "10s"}, test=True) == (plan.changes)
    assert client.api.calls == []
    assert cluster_settings.update(client, {"heartbeat_period": "10s"}) == plan.changes
    assert client.api.calls == [("update_swarm", 7)]
    unchanged = cluster_settings.settings_plan(client, {"heartbeat_period": "5s"})
    assert unchanged.changes == {}
    assert cluster_settings.apply_settings(client, unchanged) == {}
    assert client.api.calls == [("update_swarm", 7)]
