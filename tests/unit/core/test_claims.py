"""A minion's report about its own node, checked against the record, the other
reports and a manager's node list (salt_swarm.core.claims)."""

import pytest

from salt_swarm.core.claims import doubtful, trusted, well_formed
from salt_swarm.core.cluster import NodeView


def info(node_id, hostname, manager=False, state="active"):
    return {
        "state": state,
        "node_id": node_id,
        "hostname": hostname,
        "manager": manager,
        "address": "10.0.0.9",
        "cluster_id": "c1" if manager else None,
        "remote_managers": ["10.0.0.1:2377"],
    }


def node(node_id, hostname, role="worker", status="ready"):
    return NodeView(node_id, hostname, role, "active", status, "10.0.0.9")


NODES = [node("m1id", "manager1", "manager"), node("w1id", "worker1"), node("w2id", "worker2")]
RECORD = {"m1id": "manager1", "w1id": "worker1", "w2id": "worker2"}
ACCEPTED = {"manager1", "worker1", "worker2"}


def test_honest_reports_hold_up():
    infos = {
        "manager1": info("m1id", "manager1", manager=True),
        "worker1": info("w1id", "worker1"),
        "worker2": None,  # did not answer: nothing to doubt
    }
    assert doubtful(infos, RECORD, ACCEPTED, NODES) == {}
    assert set(trusted(infos, {})) == {"manager1", "worker1"}


def test_a_worker_reporting_a_managers_node_id_and_hostname_is_doubted_with_the_manager():
    infos = {
        "manager1": info("m1id", "manager1", manager=True),
        "worker1": info("m1id", "manager1", manager=True),  # the compromised worker's lie
    }
    doubts = doubtful(infos, RECORD, ACCEPTED, NODES)
    assert "as worker1 also do(es)" in doubts["manager1"]  # both named: who lies is unknown
    assert "which the master's record gives to manager1" in doubts["worker1"]
    assert trusted(infos, doubts) == {}


def test_the_record_keeps_a_node_with_its_minion_while_the_owner_is_silent():
    infos = {"worker1": info("m1id", "manager1", manager=True)}  # manager1 down: no report
    doubts = doubtful(infos, RECORD, ACCEPTED, NODES)
    assert "record gives to manager1" in doubts["worker1"]
    # ... unless the owner's key is gone (a host rebuilt under another minion id).
    assert "record gives" not in doubtful(infos, RECORD, {"worker1"}, NODES).get("worker1", "")


def test_a_report_that_contradicts_the_node_list_is_doubted():
    infos = {"worker1": info("w1id", "worker9")}
    assert 'the swarm lists it as "worker1"' in doubtful(infos, RECORD, ACCEPTED, NODES)["worker1"]
    infos = {"worker1": info("w1id", "worker1", manager=True)}
    assert (
        "as a manager, the swarm lists a worker"
        in doubtful(infos, RECORD, ACCEPTED, NODES)["worker1"]
    )


def test_taking_another_minions_hostname_for_a_new_node_is_doubted():
    # worker1 rebuilt its dockerd under the hostname of manager1 (down, not reporting).
    infos = {"worker1": info("new", "manager1")}
    doubts = doubtful(infos, RECORD, ACCEPTED, NODES + [node("new", "manager1")])
    assert "the name of manager1's node m1id" in doubts["worker1"]


def test_two_members_with_one_hostname_are_both_doubted_even_before_joining():
    infos = {"a": info(None, "web", state="inactive"), "b": info(None, "web", state="inactive")}
    doubts = doubtful(infos, {}, {"a", "b"})
    assert set(doubts) == {"a", "b"} and 'hostname "web"' in doubts["a"]


def test_a_node_listed_before_its_description_is_not_a_contradiction():
    infos = {"worker3": info("w3id", "worker3")}
    assert doubtful(infos, {}, {"worker3"}, [node("w3id", "")]) == {}


def test_hostile_hostnames_are_refused_and_shown_escaped_on_one_line():
    evil = "x\nevil: [1]"
    infos = {
        "a": info("w1id", evil),
        "b": info("w2id", "b" * 254),
        "c": info("w3id", "ok-host.lab"),
    }
    doubts = doubtful(infos, {}, {"a", "b", "c"})
    assert '"x\\nevil: [1]", which is no hostname' in doubts["a"] and "\n" not in doubts["a"]
    assert "which is no hostname" in doubts["b"]
    assert "c" not in doubts


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "active",
        {"state": "active", "manager": "yes", "node_id": "x"},
        {"state": "owned", "manager": True},
        {"state": "active", "manager": True, "node_id": 5},
        {"state": "active", "manager": True, "remote_managers": "10.0.0.1:2377"},
    ],
)
def test_a_return_not_in_swarm_infos_shape_is_not_read(bad):
    assert well_formed(bad) is None


def test_a_return_in_shape_is_kept_as_is():
    good = info("w1id", "worker1")
    assert well_formed(good) is good
