"""init, join, leave on real dockerds (lab hosts), checked through the Docker API."""

import pytest
from salt.exceptions import CommandExecutionError

from lab import swarms
from lab.layout import HOST_NETWORK
from tests.functional.conftest import Node

# Lab addresses where no host lives
UNUSED_ADDR = str(HOST_NETWORK.network_address + 250)
UNUSED_ADDR2 = str(HOST_NETWORK.network_address + 251)
FAKE_TOKEN = "SWMTKN-1-" + "0" * 50 + "-" + "1" * 25  # well-formed, belongs to no swarm


def state_of(node):
    return swarms.local_state(node.lab, node.name)


def test_init_makes_a_manager_and_is_idempotent(nodes):
    first = nodes[0]
    res = first.init()
    assert res["changed"] is True
    after = state_of(first)
    assert after["LocalNodeState"] == "active" and after["ControlAvailable"] is True
    assert res["node_id"] == after["NodeID"]
    assert after["NodeAddr"] == first.addr
    again = first.init()
    assert again["changed"] is False
    assert state_of(first)["NodeID"] == after["NodeID"]


def test_init_test_mode_changes_nothing(nodes):
    res = nodes[0].init(test=True)
    assert res["changed"] is True
    assert state_of(nodes[0])["LocalNodeState"] == "inactive"


def test_init_options_reach_docker(nodes):
    first = nodes[0]
    first.init(
        default_addr_pool=["198.19.64.0/18"], subnet_size=26, data_path_port=4790, autolock=True
    )
    client = first.lab.docker_client(first.name)
    swarm = client.api.inspect_swarm()
    assert swarm["DefaultAddrPool"] == ["198.19.64.0/18"]
    assert swarm["SubnetSize"] == 26
    assert swarm["DataPathPort"] == 4790
    assert swarm["Spec"]["EncryptionConfig"]["AutoLockManagers"] is True


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"default_addr_pool": ["198.19.0.0/33"]}, "default_addr_pool"),
        ({"default_addr_pool": ["fd00::/64"]}, "default_addr_pool"),
        ({"default_addr_pool": "not-a-pool"}, "default_addr_pool"),
        ({"subnet_size": 31}, "subnet_size"),
        ({"default_addr_pool": ["198.19.0.0/24"], "subnet_size": 16}, "subnet_size"),
        ({"data_path_port": 80}, "data_path_port"),
        ({"data_path_port": 70000}, "data_path_port"),
        ({"availability": "drained"}, "availability"),
        ({"advertise_addr": f"{UNUSED_ADDR}/31"}, "advertise_addr"),  # no address of ours there
        ({"advertise_addr": "300.1.2.3"}, "advertise_addr"),
        ({"advertise_addr": "nosuch0"}, "advertise_addr"),  # missing interface
    ],
)
def test_init_bad_input_is_refused_before_any_change(nodes, kwargs, field):
    with pytest.raises(CommandExecutionError, match=field):
        nodes[0].init(**kwargs)
    assert state_of(nodes[0])["LocalNodeState"] == "inactive"


def test_init_on_a_worker_of_another_swarm_is_refused(nodes):
    first, other = nodes[0], nodes[1]
    first.init()
    other("join", role="worker", managers=[first.addr], token=first("join_token", "worker"))
    with pytest.raises(CommandExecutionError, match="worker in a swarm"):
        other.init()
    assert state_of(other)["ControlAvailable"] is False


def test_join_worker_and_manager_then_no_op(nodes):
    first, mgr, wrk = nodes
    first.init()
    res = mgr("join", role="manager", managers=[first.addr], token=first("join_token", "manager"))
    assert res["changed"] is True and res["role"] == "manager"
    assert state_of(mgr)["ControlAvailable"] is True
    wtoken = first("join_token", "worker")
    res = wrk("join", role="worker", managers=[first.addr], token=wtoken)
    assert res["changed"] is True and res["role"] == "worker"
    assert state_of(wrk)["LocalNodeState"] == "active"
    assert state_of(wrk)["ControlAvailable"] is False
    assert wrk("join", role="worker", managers=[first.addr], token=wtoken)["changed"] is False
    assert "SWMTKN" not in str(res)


def test_join_tries_the_next_manager_when_one_is_down(nodes):
    first, _, wrk = nodes
    first.init()
    dead = f"{UNUSED_ADDR}:2377"
    res = wrk("join", managers=[dead, first.addr], token=first("join_token", "worker"))
    assert res["manager"] == f"{first.addr}:2377"
    assert state_of(wrk)["LocalNodeState"] == "active"


def test_join_through_unreachable_managers_fails_and_leaves_nothing(nodes):
    wrk = nodes[2]
    with pytest.raises(CommandExecutionError, match=f"{UNUSED_ADDR}:2377: no answer") as err:
        wrk("join", managers=[UNUSED_ADDR, f"{UNUSED_ADDR2}:2377"], token=FAKE_TOKEN)
    assert f"{UNUSED_ADDR2}:2377" in str(err.value)
    assert state_of(wrk)["LocalNodeState"] == "inactive"


def test_join_with_a_wrong_token_reports_docker_and_leaves_nothing(nodes):
    first, _, wrk = nodes
    first.init()
    with pytest.raises(CommandExecutionError) as err:
        wrk("join", managers=[first.addr], token=FAKE_TOKEN)
    message = str(err.value)
    assert first.addr in message
    # The secret half of the token never shows (the CA digest half is public anyway).
    assert "1" * 25 not in message and FAKE_TOKEN not in message
    assert state_of(wrk)["LocalNodeState"] == "inactive"


@pytest.mark.parametrize("token", ["SWMTKN-1-short", "hello", "", 42])
def test_join_with_a_malformed_token_is_refused_before_any_change(nodes, token):
    with pytest.raises(CommandExecutionError, match="token"):
        nodes[2]("join", managers=[UNUSED_ADDR], token=token)
    assert state_of(nodes[2])["LocalNodeState"] == "inactive"


def test_join_as_manager_with_a_worker_token_is_undone(nodes):
    first, mgr, _ = nodes
    first.init()
    with pytest.raises(CommandExecutionError, match="joined as worker, not manager"):
        mgr("join", role="manager", managers=[first.addr], token=first("join_token", "worker"))
    assert state_of(mgr)["LocalNodeState"] == "inactive"


def test_join_bad_role_is_refused(nodes):
    with pytest.raises(CommandExecutionError, match="role"):
        nodes[1]("join", role="leader", managers=[UNUSED_ADDR], token=FAKE_TOKEN)


def test_join_another_swarm_needs_force(nodes):
    a, b, wrk = nodes
    a.init()
    b.init()
    wrk("join", managers=[a.addr], token=a("join_token", "worker"))
    b_token = b("join_token", "worker")
    with pytest.raises(CommandExecutionError, match="another swarm"):
        wrk("join", managers=[b.addr], token=b_token)
    assert f"{a.addr}:2377" in [m["Addr"] for m in state_of(wrk)["RemoteManagers"]]
    res = wrk("join", managers=[b.addr], token=b_token, force=True)
    assert res["changed"] is True
    assert [m["Addr"] for m in state_of(wrk)["RemoteManagers"]] == [f"{b.addr}:2377"]


def test_a_worker_asked_to_be_manager_is_told_to_promote(nodes):
    first, _, wrk = nodes
    first.init()
    wrk("join", managers=[first.addr], token=first("join_token", "worker"))
    with pytest.raises(CommandExecutionError, match="promote"):
        wrk("join", role="manager", managers=[first.addr], token=first("join_token", "manager"))


def test_leave_worker_then_remove(nodes):
    first, _, wrk = nodes
    first.init()
    wrk("join", managers=[first.addr], token=first("join_token", "worker"))
    res = wrk("leave")
    assert res["changed"] is True
    assert state_of(wrk)["LocalNodeState"] == "inactive"
    assert wrk("leave")["changed"] is False


def test_leave_manager_demotes_first(nodes):
    first, second, third = nodes
    first.init()
    for node in (second, third):
        node("join", role="manager", managers=[first.addr], token=first("join_token", "manager"))
    res = third("leave")
    assert "demoted" in res["comment"]
    assert state_of(third)["LocalNodeState"] == "inactive"
    seen = swarms.node_states(first.lab, first.name)
    assert seen[third.name]["Spec"]["Role"] == "worker"
    assert sum(1 for n in seen.values() if n["Spec"]["Role"] == "manager") == 2


def test_last_manager_leaves_only_with_force(nodes):
    first = nodes[0]
    first.init()
    with pytest.raises(CommandExecutionError, match="last manager"):
        first("leave")
    assert state_of(first)["LocalNodeState"] == "active"
    assert first("leave", force=True)["changed"] is True
    assert state_of(first)["LocalNodeState"] == "inactive"


def test_leave_refused_when_it_would_break_quorum(nodes, lab):
    first, second, third = nodes
    first.init()
    for node in (second, third):
        node("join", role="manager", managers=[first.addr], token=first("join_token", "manager"))
    swarms.wait_ready(lab, first.name, [n.name for n in nodes])
    lab.stop_daemon(third.name, "dockerd")
    try:
        from lab.wait import wait_for

        wait_for(
            lambda: second("health")["reachable"] == 2, 60, "the stopped manager seen unreachable"
        )
        with pytest.raises(CommandExecutionError, match="1 of 2 managers reachable"):
            second("leave")
        assert state_of(second)["ControlAvailable"] is True
    finally:
        lab.start_daemon(third.name, "dockerd")


def test_joining_as_worker_with_a_manager_token_leaves_no_manager_behind(lab, nodes):
    first, other, _ = nodes
    first.init()
    with pytest.raises(CommandExecutionError, match="joined as manager, not worker"):
        other("join", role="worker", managers=[first.addr], token=first("join_token", "manager"))
    assert state_of(other)["LocalNodeState"] == "inactive"
    seen = swarms.node_states(lab, first.name)
    assert [n for n, s in seen.items() if s["Spec"]["Role"] == "manager"] == [first.name]


def test_forced_leave_of_one_of_three_managers_still_demotes_first(lab, nodes):
    first, second, third = nodes
    first.init()
    for node in (second, third):
        node("join", role="manager", managers=[first.addr], token=first("join_token", "manager"))
    res = third("leave", force=True)
    assert "demoted" in res["comment"]
    assert swarms.node_states(lab, first.name)[third.name]["Spec"]["Role"] == "worker"


def test_member_rejoin_without_managers_is_a_quick_no_op(nodes):
    """No mine here (in-process minion): a member must not wait on it."""
    import time

    first, other, _ = nodes
    first.init()
    other("join", managers=[first.addr], token=first("join_token", "worker"))
    began = time.monotonic()
    res = other("join", mine_timeout=120)
    # A member's answer comes from its own dockerd; the mine is not waited for.
    assert res["changed"] is False and res["role"] == "worker"
    assert res["comment"] == "already a worker of its swarm"
    print(f"member re-join answered in {time.monotonic() - began:.2f} s (mine_timeout 120 s)")
    with pytest.raises(CommandExecutionError, match="promote"):
        other("join", role="manager", mine_timeout=120)


def test_init_accepts_a_pool_given_as_one_string(lab, nodes):
    nodes[0].init(default_addr_pool="198.19.64.0/18", subnet_size=26)
    assert lab.docker_client(nodes[0].name).api.inspect_swarm()["DefaultAddrPool"] == [
        "198.19.64.0/18"
    ]


def test_join_through_the_mine_needs_to_know_whose_entries_to_trust(lab, bare_hosts, tmp_path):
    """Any minion can store mine entries under its own id: without swarm:managers
    (or swarm:mine:target) a joiner does not read every minion's, it refuses; a
    target by grain is refused too (a minion sets its own grains)."""
    name = lab.hosts[1]
    for extra, why in (
        ({"managers": ""}, "no swarm:managers in pillar"),
        ({"managers": {"tgt": "role:manager", "tgt_type": "grain"}}, "matches on grains"),
    ):
        node = Node(lab, name, tmp_path / why.split()[0], extra=extra)
        with pytest.raises(CommandExecutionError, match=why):
            node("join", mine_timeout=1)
        assert swarms.local_state(lab, name)["LocalNodeState"] == "inactive"
