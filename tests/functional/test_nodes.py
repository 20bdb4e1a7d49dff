"""nodes, node_update (labels, availability, role), promote/demote, remove_node, health."""

import pytest
from salt.exceptions import CommandExecutionError

from lab import swarms
from lab.wait import wait_for


def spec_of(lab, manager, hostname):
    return swarms.node_states(lab, manager)[hostname]["Spec"]


def test_nodes_lists_every_node_with_its_role(swarm3):
    mgr, w1, w2 = swarm3
    listed = {n["hostname"]: n for n in mgr("nodes")}
    assert sorted(listed) == sorted(n.name for n in swarm3)
    assert listed[mgr.name]["role"] == "manager" and listed[mgr.name]["leader"] is True
    assert listed[w1.name]["role"] == "worker" and listed[w1.name]["reachability"] is None
    assert all(n["status"] == "ready" for n in listed.values())
    assert listed[w2.name]["addr"] == w2.addr


def test_node_functions_refuse_on_a_worker(swarm3):
    with pytest.raises(CommandExecutionError, match="run this on a swarm manager"):
        swarm3[1]("nodes")


def test_labels_merge_replace_remove(lab, swarm3):
    mgr, w1, _ = swarm3
    changes = mgr("node_update", w1.name, labels={"zone": "a", "disk": "ssd"})
    assert changes == {"labels": {"added": {"zone": "a", "disk": "ssd"}}}
    assert spec_of(lab, mgr.name, w1.name)["Labels"] == {"zone": "a", "disk": "ssd"}

    changes = mgr("node_update", w1.name, labels={"zone": "b"})  # merge keeps disk
    assert changes == {"labels": {"changed": {"zone": {"old": "a", "new": "b"}}}}
    assert spec_of(lab, mgr.name, w1.name)["Labels"] == {"zone": "b", "disk": "ssd"}

    changes = mgr("node_update", w1.name, labels={"rack": "r1"}, labels_mode="replace")
    assert changes["labels"]["removed"] == ["disk", "zone"]
    assert spec_of(lab, mgr.name, w1.name)["Labels"] == {"rack": "r1"}

    changes = mgr("node_update", w1.name, labels_remove=["rack"])
    assert changes == {"labels": {"removed": ["rack"]}}
    assert spec_of(lab, mgr.name, w1.name)["Labels"] == {}
    assert mgr("node_update", w1.name, labels_remove=["rack"]) == {}


def test_node_update_test_mode_predicts_and_changes_nothing(lab, swarm3):
    mgr, w1, _ = swarm3
    changes = mgr("node_update", w1.name, availability="drain", labels={"zone": "a"}, test=True)
    assert changes == {
        "availability": {"old": "active", "new": "drain"},
        "labels": {"added": {"zone": "a"}},
    }
    spec = spec_of(lab, mgr.name, w1.name)
    assert spec["Availability"] == "active" and not spec.get("Labels")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"labels": {"bad key": "x"}}, "bad label key"),
        ({"labels": {"-lead": "x"}}, "bad label key"),
        ({"labels": {"k": {"nested": 1}}}, "must be a string"),
        ({"labels": ["zone=a"]}, "expected a mapping"),
        ({"labels_mode": "append", "labels": {"k": "v"}}, "labels_mode"),
        ({"availability": "drained"}, "availability"),
        ({"role": "boss"}, "role"),
    ],
)
def test_bad_node_input_is_refused_before_any_change(lab, swarm3, kwargs, match):
    mgr, w1, _ = swarm3
    before = spec_of(lab, mgr.name, w1.name)
    with pytest.raises(CommandExecutionError, match=match):
        mgr("node_update", w1.name, **kwargs)
    assert spec_of(lab, mgr.name, w1.name) == before


def test_unknown_node_is_named(swarm3):
    with pytest.raises(CommandExecutionError, match="no node 'nosuch'"):
        swarm3[0]("node_update", "nosuch", availability="drain")


def test_drain_and_activate(lab, swarm3):
    mgr, w1, _ = swarm3
    assert mgr("node_update", w1.name, availability="drain") == {
        "availability": {"old": "active", "new": "drain"}
    }
    assert spec_of(lab, mgr.name, w1.name)["Availability"] == "drain"
    assert mgr("node_update", w1.name, availability="drain") == {}
    mgr("node_update", w1.name, availability="active")
    assert spec_of(lab, mgr.name, w1.name)["Availability"] == "active"


def test_promote_then_demote(lab, swarm3):
    mgr, w1, _ = swarm3
    assert mgr("promote", w1.name) == {"role": {"old": "worker", "new": "manager"}}
    wait_for(lambda: swarms.local_state(lab, w1.name)["ControlAvailable"], 30, "promoted")
    assert mgr("promote", w1.name) == {}
    assert mgr("demote", w1.name) == {"role": {"old": "manager", "new": "worker"}}
    wait_for(lambda: not swarms.local_state(lab, w1.name)["ControlAvailable"], 30, "demoted")


def test_demote_the_last_manager_is_refused(lab, swarm3):
    mgr = swarm3[0]
    for force in (False, True):
        with pytest.raises(CommandExecutionError, match="last manager"):
            mgr("demote", mgr.name, force=force)
    assert spec_of(lab, mgr.name, mgr.name)["Role"] == "manager"


def test_demote_refused_when_it_would_break_quorum(lab, managers3):
    a, b, c = managers3
    lab.stop_daemon(c.name, "dockerd")
    try:
        wait_for(lambda: a("health")["reachable"] == 2, 60, "stopped manager unreachable")
        with pytest.raises(CommandExecutionError, match=r"1 of 2 managers reachable.*quorum of 2"):
            a("demote", b.name)
        assert spec_of(lab, a.name, b.name)["Role"] == "manager"
        # Demoting the unreachable one keeps 2 of 2: allowed.
        assert a("demote", c.name) == {"role": {"old": "manager", "new": "worker"}}
    finally:
        lab.start_daemon(c.name, "dockerd")


def test_health_numbers(managers3):
    health = managers3[0]("health")
    assert health["managers"] == 3 and health["reachable"] == 3
    assert health["quorum"] == 2 and health["failures_tolerated"] == 1
    assert health["has_quorum"] is True and health["leader"] == managers3[0].name


def test_remove_a_live_node_needs_force(lab, swarm3):
    mgr, w1, _ = swarm3
    with pytest.raises(CommandExecutionError, match="it is up"):
        mgr("remove_node", w1.name)
    assert w1.name in swarms.node_states(lab, mgr.name)


def test_remove_after_leave(lab, swarm3):
    mgr, w1, _ = swarm3
    w1("leave")
    wait_for(
        lambda: swarms.node_states(lab, mgr.name)[w1.name]["Status"]["State"] == "down",
        60,
        "left node seen down",
    )
    res = mgr("remove_node", w1.name, test=True)
    assert res["steps"] == ["removed"]
    assert w1.name in swarms.node_states(lab, mgr.name)
    mgr("remove_node", w1.name)
    assert w1.name not in swarms.node_states(lab, mgr.name)


def test_remove_self_is_refused(swarm3):
    with pytest.raises(CommandExecutionError, match="use swarm.leave"):
        swarm3[0]("remove_node", swarm3[0].name, force=True)


def test_remove_a_down_manager_demotes_it_first(lab, managers3):
    a, b, c = managers3
    lab.stop_daemon(c.name, "dockerd")
    try:
        wait_for(
            lambda: swarms.node_states(lab, a.name)[c.name]["Status"]["State"] == "down",
            60,
            "stopped manager seen down",
        )
        res = a("remove_node", c.name)
        assert res["steps"] == ["demoted", "removed"]
        assert c.name not in swarms.node_states(lab, a.name)
        health = a("health")
        assert (health["managers"], health["reachable"], health["has_quorum"]) == (2, 2, True)
    finally:
        lab.start_daemon(c.name, "dockerd")


def test_a_write_planned_before_a_status_change_lands_at_the_new_version(lab, swarm3):
    """The node's version moves when it goes down; a write from the older read used
    to fail with Docker's "update out of sequence"."""
    import docker

    from salt_swarm.core import nodes as node_ops
    from salt_swarm.core.cluster import find_node

    mgr, w1, _ = swarm3
    client = docker.DockerClient(base_url=lab.docker_url(mgr.name), timeout=30)
    read = find_node(node_ops.list_nodes(client), w1.name)
    spec = client.api.inspect_node(read.id)["Spec"]
    w1("leave")
    wait_for(
        lambda: swarms.node_states(lab, mgr.name)[w1.name]["Status"]["State"] == "down",
        60,
        "left node seen down",
    )
    assert client.api.inspect_node(read.id)["Version"]["Index"] != read.version
    node_ops.write(client, read, spec, {"Labels": {"zone": "b"}})
    assert spec_of(lab, mgr.name, w1.name)["Labels"] == {"zone": "b"}
