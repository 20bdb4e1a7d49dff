"""Every swarm state: test=True predicts and touches nothing, a real run changes, a re-run is a no-op."""

import re

import pytest

from lab import swarms
from lab.layout import SWARM_ADDR_POOL
from lab.wait import wait_for

SECRET = re.compile(r"SWMTKN-1-[0-9a-z]{50}|SWMKEY-1-[A-Za-z0-9+/]{20,}")


def no_secret(ret):
    assert not SECRET.search(repr(ret)), ret
    return ret


def local(node):
    return swarms.local_state(node.lab, node.name)


def init_args(node):
    return dict(advertise_addr=node.addr, default_addr_pool=[SWARM_ADDR_POOL], subnet_size=24)


def test_initialized(nodes):
    n = nodes[0]
    ret = no_secret(n.state("initialized", test=True, **init_args(n)))
    assert ret["result"] is None
    assert ret["changes"]["swarm"] == {"old": "inactive", "new": {"state": "active manager"}}
    assert local(n)["LocalNodeState"] == "inactive"

    ret = no_secret(n.state("initialized", **init_args(n)))
    assert ret["result"] is True
    assert ret["changes"]["swarm"]["new"]["node_id"] == local(n)["NodeID"]

    ret = n.state("initialized", **init_args(n))
    assert ret["result"] is True and ret["changes"] == {}
    assert n.state("initialized", test=True, **init_args(n))["changes"] == {}


def test_initialized_on_a_worker_fails_naming_the_node(swarm3):
    ret = swarm3[1].state("initialized", **init_args(swarm3[1]))
    assert ret["result"] is False
    assert "worker" in ret["comment"] and "functional" in ret["comment"]


@pytest.mark.parametrize("role", ["worker", "manager"])
def test_join_states(nodes, role):
    first, other, _ = nodes
    first.init()
    args = dict(managers=[first.addr], token=first("join_token", role), advertise_addr=other.addr)

    ret = no_secret(other.state(role, test=True, **args))
    assert ret["result"] is None and ret["changes"]["swarm"] == {"old": "inactive", "new": role}
    assert local(other)["LocalNodeState"] == "inactive"

    ret = no_secret(other.state(role, **args))
    assert ret["result"] is True and ret["changes"]["swarm"] == {"old": "inactive", "new": role}
    assert ret["changes"]["node_id"] == local(other)["NodeID"]
    assert local(other)["ControlAvailable"] is (role == "manager")

    ret = other.state(role, **args)
    assert ret["result"] is True and ret["changes"] == {}
    assert other.state(role, test=True, **args)["changes"] == {}


def test_worker_state_in_test_mode_without_a_manager_in_the_mine(nodes):
    ret = nodes[2].state("worker", test=True)
    assert ret["result"] is None
    assert "once a manager is in the mine" in ret["comment"]


def test_manager_state_on_a_worker_says_promote(swarm3):
    mgr, wrk, _ = swarm3
    ret = no_secret(wrk.state("manager", managers=[mgr.addr], token=mgr("join_token", "manager")))
    assert ret["result"] is False and "promote" in ret["comment"]


def test_worker_with_a_bad_token_fails_and_stays_out(nodes):
    first, other, _ = nodes
    first.init()
    ret = no_secret(other.state("worker", managers=[first.addr], token="SWMTKN-1-nope"))
    assert ret["result"] is False and "token" in ret["comment"]
    assert local(other)["LocalNodeState"] == "inactive"


def test_left(swarm3):
    _, wrk, _ = swarm3
    ret = wrk.state("left", test=True)
    assert ret["result"] is None and ret["changes"]["swarm"] == {"old": "worker", "new": "inactive"}
    assert local(wrk)["LocalNodeState"] == "active"
    ret = wrk.state("left")
    assert ret["result"] is True and ret["changes"]["swarm"]["new"] == "inactive"
    assert local(wrk)["LocalNodeState"] == "inactive"
    ret = wrk.state("left")
    assert ret["result"] is True and ret["changes"] == {}


def test_left_last_manager_needs_force(swarm3):
    mgr = swarm3[0]
    ret = mgr.state("left")
    assert ret["result"] is False and "last manager" in ret["comment"]
    assert local(mgr)["LocalNodeState"] == "active"


def test_node(lab, swarm3):
    mgr, wrk, _ = swarm3
    args = dict(availability="drain", labels={"zone": "a", "tier": "web"})
    ret = mgr.state("node", name=wrk.name, test=True, **args)
    assert ret["result"] is None
    assert ret["changes"] == {
        "availability": {"old": "active", "new": "drain"},
        "labels": {"added": {"zone": "a", "tier": "web"}},
    }
    assert swarms.node_states(lab, mgr.name)[wrk.name]["Spec"]["Availability"] == "active"

    ret = mgr.state("node", name=wrk.name, **args)
    assert ret["result"] is True and ret["changes"]["availability"]["new"] == "drain"
    spec = swarms.node_states(lab, mgr.name)[wrk.name]["Spec"]
    assert spec["Availability"] == "drain" and spec["Labels"] == {"zone": "a", "tier": "web"}

    ret = mgr.state("node", name=wrk.name, **args)
    assert ret["result"] is True and ret["changes"] == {}


def test_node_with_a_bad_label_fails_naming_the_node(lab, swarm3):
    mgr, wrk, _ = swarm3
    ret = mgr.state("node", name=wrk.name, labels={"bad key": "x"})
    assert ret["result"] is False and wrk.name in ret["comment"] and "label" in ret["comment"]


def test_node_role_change(lab, swarm3):
    mgr, wrk, _ = swarm3
    ret = mgr.state("node", name=wrk.name, role="manager")
    assert ret["result"] is True and ret["changes"] == {"role": {"old": "worker", "new": "manager"}}
    wait_for(lambda: local(wrk)["ControlAvailable"], 30, "promoted")
    assert mgr.state("node", name=wrk.name, role="manager")["changes"] == {}


def test_node_absent(lab, swarm3):
    mgr, wrk, _ = swarm3
    ret = mgr.state("node_absent", name=wrk.name)
    assert ret["result"] is False and "it is up" in ret["comment"]

    wrk("leave")
    wait_for(
        lambda: swarms.node_states(lab, mgr.name)[wrk.name]["Status"]["State"] == "down",
        60,
        "left node seen down",
    )
    ret = mgr.state("node_absent", name=wrk.name, test=True)
    assert ret["result"] is None and ret["changes"]["steps"] == ["removed"]
    assert wrk.name in swarms.node_states(lab, mgr.name)

    ret = mgr.state("node_absent", name=wrk.name)
    assert ret["result"] is True and ret["changes"]["node"]["new"] is None
    assert wrk.name not in swarms.node_states(lab, mgr.name)
    ret = mgr.state("node_absent", name=wrk.name)
    assert ret["result"] is True and ret["changes"] == {}


def test_settings(lab, swarm3):
    mgr = swarm3[0]
    args = dict(autolock=True, task_history_limit=2)
    ret = no_secret(mgr.state("settings", test=True, **args))
    assert ret["result"] is None
    assert ret["changes"] == {
        "autolock": {"old": False, "new": True},
        "task_history_limit": {"old": 5, "new": 2},
    }
    spec = lab.docker_client(mgr.name).api.inspect_swarm()["Spec"]
    assert spec["EncryptionConfig"]["AutoLockManagers"] is False

    ret = no_secret(mgr.state("settings", **args))
    assert ret["result"] is True and "swarm:unlock_key" in ret["comment"]
    spec = lab.docker_client(mgr.name).api.inspect_swarm()["Spec"]
    assert spec["EncryptionConfig"]["AutoLockManagers"] is True

    ret = mgr.state("settings", **args)
    assert ret["result"] is True and ret["changes"] == {}


def test_manager_state_unlocks_a_locked_manager_with_the_pillar_key(lab, nodes):
    mgr = nodes[0]
    mgr.init(autolock=True)
    key = mgr("unlock_key")
    lab.stop_daemon(mgr.name, "dockerd")
    lab.start_daemon(mgr.name, "dockerd")
    assert local(mgr)["LocalNodeState"] == "locked"
    mgr.opts["swarm"]["unlock_key"] = key
    try:
        ret = no_secret(mgr.state("initialized", test=True, **init_args(mgr)))
        assert ret["result"] is None and ret["changes"] == {"unlocked": True}
        assert local(mgr)["LocalNodeState"] == "locked"
        ret = no_secret(mgr.state("initialized", **init_args(mgr)))
        assert ret["result"] is True and ret["changes"] == {"unlocked": True}
        assert local(mgr)["LocalNodeState"] == "active"
    finally:
        del mgr.opts["swarm"]["unlock_key"]
