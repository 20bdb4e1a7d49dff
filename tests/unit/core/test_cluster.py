"""Unit tests for salt_swarm.core.cluster (node views, health, node lookup)."""

import pytest

from salt_swarm.core.cluster import (
    AVAILABILITIES,
    NodeView,
    check_availability,
    find_node,
    health,
    node_view,
)
from salt_swarm.core.errors import SwarmError


def api_node(
    node_id,
    hostname,
    role="worker",
    state="ready",
    addr="198.18.0.20",
    availability="active",
    labels=None,
    manager=None,
    engine="24.0.7",
    index=10,
):
    """A node object as Docker's GET /nodes returns it."""
    attrs = {
        "ID": node_id,
        "Version": {"Index": index},
        "Spec": {"Role": role, "Availability": availability, "Labels": labels or {}},
        "Description": {
            "Hostname": hostname,
            "Platform": {"Architecture": "x86_64", "OS": "linux"},
            "Engine": {"EngineVersion": engine},
        },
        "Status": {"State": state, "Addr": addr},
    }
    if manager is not None:
        attrs["ManagerStatus"] = manager
    return attrs


def view(node_id, hostname, role="worker", status="ready", reachability=None, leader=False):
    return NodeView(
        id=node_id,
        hostname=hostname,
        role=role,
        availability="active",
        status=status,
        addr="198.18.0.1",
        reachability=reachability,
        leader=leader,
    )


# -- node_view -----------------------------------------------------------------------


def test_node_view_of_a_leader_manager():
    attrs = api_node(
        "m1id",
        "manager1",
        role="manager",
        addr="198.18.0.10",
        labels={"zone": "a"},
        manager={"Leader": True, "Reachability": "reachable", "Addr": "198.18.0.10:2377"},
        index=42,
    )
    node = node_view(attrs)
    assert node == NodeView(
        id="m1id",
        hostname="manager1",
        role="manager",
        availability="active",
        status="ready",
        addr="198.18.0.10",
        labels={"zone": "a"},
        reachability="reachable",
        leader=True,
        engine_version="24.0.7",
        version=42,
    )
    assert node.is_manager
    assert node.reachable


def test_node_view_of_a_follower_manager_without_leader_key():
    attrs = api_node(
        "m2id",
        "manager2",
        role="manager",
        manager={"Reachability": "unreachable", "Addr": "198.18.0.11:2377"},
        state="down",
    )
    node = node_view(attrs)
    assert node.leader is False
    assert node.reachability == "unreachable"
    assert node.reachable is False
    assert node.status == "down"


def test_node_view_of_a_worker():
    attrs = api_node("w1id", "worker1", addr="198.18.0.20", availability="drain")
    node = node_view(attrs)
    assert node.role == "worker"
    assert not node.is_manager
    assert node.reachability is None
    assert node.reachable is False
    assert node.leader is False
    assert node.addr == "198.18.0.20"
    assert node.availability == "drain"


@pytest.mark.parametrize(
    ("status_addr", "manager_addr", "expected"),
    [
        ("0.0.0.0", "198.18.0.10:2377", "198.18.0.10"),
        ("", "198.18.0.10:2377", "198.18.0.10"),
        (None, "198.18.0.10:2377", "198.18.0.10"),
        ("198.18.0.12", "198.18.0.10:2377", "198.18.0.12"),  # a real Status.Addr wins
        ("0.0.0.0", None, "0.0.0.0"),  # nothing to fall back on
    ],
)
def test_node_view_addr_falls_back_to_manager_addr(status_addr, manager_addr, expected):
    manager = {"Reachability": "reachable"}
    if manager_addr is not None:
        manager["Addr"] = manager_addr
    attrs = api_node("m1id", "manager1", role="manager", addr=status_addr, manager=manager)
    assert node_view(attrs).addr == expected


def test_node_view_ipv6_manager_addr_fallback_is_a_bare_ip():
    attrs = api_node(
        "m1id",
        "manager1",
        role="manager",
        addr="0.0.0.0",
        manager={"Reachability": "reachable", "Addr": "[fd00::10]:2377"},
    )
    assert node_view(attrs).addr == "fd00::10"


def test_node_view_of_a_sparse_object_uses_defaults():
    node = node_view({"ID": "x1"})
    assert node == NodeView(
        id="x1",
        hostname="",
        role="worker",
        availability="active",
        status="unknown",
        addr="",
        labels={},
        reachability=None,
        leader=False,
        engine_version=None,
        version=0,
    )


def test_node_view_of_null_sections_uses_defaults():
    node = node_view(
        {
            "ID": "x1",
            "Spec": None,
            "Status": None,
            "ManagerStatus": None,
            "Description": {"Hostname": "h", "Engine": None},
            "Version": None,
        }
    )
    assert (node.role, node.status, node.engine_version, node.version) == (
        "worker",
        "unknown",
        None,
        0,
    )
    assert node.labels == {}


def test_node_view_needs_an_id():
    with pytest.raises(KeyError):
        node_view({"Spec": {}})


def test_node_view_copies_labels():
    labels = {"zone": "a"}
    attrs = api_node("w1id", "worker1", labels=labels)
    node = node_view(attrs)
    attrs["Spec"]["Labels"]["zone"] = "b"
    assert node.labels == {"zone": "a"}


def test_as_dict():
    attrs = api_node(
        "m1id",
        "manager1",
        role="manager",
        labels={"zone": "a"},
        manager={"Leader": True, "Reachability": "reachable", "Addr": "198.18.0.10:2377"},
        addr="198.18.0.10",
    )
    node = node_view(attrs)
    out = node.as_dict()
    assert out == {
        "id": "m1id",
        "hostname": "manager1",
        "role": "manager",
        "availability": "active",
        "status": "ready",
        "addr": "198.18.0.10",
        "labels": {"zone": "a"},
        "reachability": "reachable",
        "leader": True,
        "engine_version": "24.0.7",
    }
    out["labels"]["zone"] = "changed"
    assert node.labels == {"zone": "a"}


# -- health --------------------------------------------------------------------------

CLUSTER = [
    view("m1", "manager1", "manager", "ready", "reachable", leader=True),
    view("m2", "manager2", "manager", "ready", "reachable"),
    view("m3", "manager3", "manager", "down", "unreachable"),
    view("w1", "worker1"),
    view("w2", "worker2", status="down"),
    view("w3", "worker3", status="disconnected"),
]


def test_health_of_a_cluster_with_one_manager_down():
    assert health(CLUSTER) == {
        "managers": 3,
        "reachable": 2,
        "unreachable": ["manager3"],
        "leader": "manager1",
        "quorum": 2,
        "has_quorum": True,
        "failures_tolerated": 1,
        "more_failures_tolerated": 0,
        "workers": 3,
        "nodes_ready": 3,
        "nodes_down": ["manager3", "worker2", "worker3"],
    }


def test_health_without_quorum_or_leader():
    nodes = [
        view("m1", "manager1", "manager", "down", "unreachable"),
        view("m2", "manager2", "manager", "ready", "reachable"),
        view("m3", "manager3", "manager", "unknown", "unknown"),
    ]
    h = health(nodes)
    assert h["has_quorum"] is False
    assert h["leader"] is None
    assert h["reachable"] == 1
    assert h["unreachable"] == ["manager1", "manager3"]
    assert h["quorum"] == 2
    assert h["nodes_down"] == ["manager1", "manager3"]


def test_health_of_no_nodes():
    assert health([]) == {
        "managers": 0,
        "reachable": 0,
        "unreachable": [],
        "leader": None,
        "quorum": 0,
        "has_quorum": False,
        "failures_tolerated": 0,
        "more_failures_tolerated": 0,
        "workers": 0,
        "nodes_ready": 0,
        "nodes_down": [],
    }


@pytest.mark.parametrize(
    ("managers", "reachable", "quorum", "tolerated", "has_quorum"),
    [(1, 1, 1, 0, True), (4, 2, 3, 1, False), (5, 3, 3, 2, True), (7, 3, 4, 3, False)],
)
def test_health_quorum_fields(managers, reachable, quorum, tolerated, has_quorum):
    nodes = [
        view(
            f"m{i}",
            f"manager{i}",
            "manager",
            reachability="reachable" if i < reachable else "unreachable",
        )
        for i in range(managers)
    ]
    h = health(nodes)
    assert (h["managers"], h["reachable"], h["quorum"]) == (managers, reachable, quorum)
    assert (h["failures_tolerated"], h["has_quorum"]) == (tolerated, has_quorum)
    assert len(h["unreachable"]) == managers - reachable
    assert h["workers"] == 0


def test_health_from_api_objects():
    nodes = [
        node_view(
            api_node(
                "m1id",
                "manager1",
                role="manager",
                manager={"Leader": True, "Reachability": "reachable", "Addr": "198.18.0.10:2377"},
            )
        ),
        node_view(api_node("w1id", "worker1", state="down")),
    ]
    h = health(nodes)
    assert (h["managers"], h["workers"], h["leader"]) == (1, 1, "manager1")
    assert h["nodes_down"] == ["worker1"]


# -- find_node -----------------------------------------------------------------------

NODES = [
    view("abc123", "manager1", "manager", "ready", "reachable", leader=True),
    view("abd456", "worker1"),
    view("xyz789", "worker2", status="down"),  # old incarnation of worker2
    view("xyz000", "worker2"),  # re-joined worker2
    view("def111", "worker3"),
    view("def222", "worker3"),  # two ready twins
    view("ghi333", "worker4", status="down"),
    view("ghi444", "worker4", status="down"),  # two down twins
    view("manager1x", "other"),  # an id that is also a prefix clash with a hostname
]


@pytest.mark.parametrize(
    ("ref", "expected_id"),
    [
        ("abc123", "abc123"),  # by id
        ("manager1", "abc123"),  # by hostname (exact hostname beats id prefix 'manager1x')
        ("worker1", "abd456"),
        ("worker2", "xyz000"),  # ready twin preferred over down twin
        ("abc", "abc123"),  # unique id prefix
        ("abd", "abd456"),
        ("xyz7", "xyz789"),
        ("manager1x", "manager1x"),  # exact id
        ("other", "manager1x"),
    ],
)
def test_find_node(ref, expected_id):
    assert find_node(NODES, ref).id == expected_id


def test_exact_id_beats_hostname():
    nodes = [view("n1", "n2"), view("n2", "host")]
    assert find_node(nodes, "n2").id == "n2"


@pytest.mark.parametrize(
    ("ref", "ids"),
    [
        ("worker3", "def111 (ready), def222 (ready)"),
        ("worker4", "ghi333 (down), ghi444 (down)"),
    ],
)
def test_ambiguous_hostname_is_an_error(ref, ids):
    with pytest.raises(SwarmError, match=f"^node: hostname '{ref}' is ambiguous") as err:
        find_node(NODES, ref)
    assert ids in str(err.value)
    assert "give the node id" in str(err.value)


@pytest.mark.parametrize("ref", ["nope", "worker", "ABC123"])
def test_unknown_node_is_an_error(ref):
    with pytest.raises(SwarmError, match=f"^node: no node '{ref}' in this swarm"):
        find_node(NODES, ref)


@pytest.mark.parametrize("ref", ["ab", "xyz"])
def test_ambiguous_id_prefix_is_an_error(ref):
    with pytest.raises(SwarmError, match=f"^node: id prefix '{ref}' matches [0-9]+ nodes"):
        find_node(NODES, ref)


@pytest.mark.parametrize("ref", ["", None, 42])
def test_bad_ref_is_an_error(ref):
    with pytest.raises(SwarmError, match="^node: expected a node id or hostname"):
        find_node(NODES, ref)


def test_find_node_in_an_empty_swarm():
    with pytest.raises(SwarmError, match="no node 'manager1'"):
        find_node([], "manager1")


# -- check_availability --------------------------------------------------------------


@pytest.mark.parametrize("value", AVAILABILITIES)
def test_check_availability_accepts(value):
    assert check_availability(value) == value


@pytest.mark.parametrize("value", ["Active", "paused", "drained", "", None, 1])
def test_check_availability_refuses(value):
    with pytest.raises(SwarmError, match=r"^availability: .* is not one of active, pause, drain"):
        check_availability(value)


def test_check_availability_names_the_given_field():
    with pytest.raises(SwarmError, match="^node_availability: 'off'"):
        check_availability("off", field="node_availability")
