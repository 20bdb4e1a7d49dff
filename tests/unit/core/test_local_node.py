from salt_swarm.core.local_node import summarize

MANAGER_INFO = {
    "Name": "manager1",
    "ServerVersion": "20.10.24",
    "Swarm": {
        "LocalNodeState": "active",
        "NodeID": "n1",
        "NodeAddr": "198.18.0.10",
        "ControlAvailable": True,
        "Cluster": {"ID": "c1"},
        "Managers": 3,
        "Nodes": 5,
        "RemoteManagers": [
            {"NodeID": "n2", "Addr": "198.18.0.11:2377"},
            {"NodeID": "n1", "Addr": "198.18.0.10:2377"},
        ],
    },
}


def test_manager_facts():
    info = summarize(MANAGER_INFO)
    assert info["state"] == "active"
    assert info["manager"] is True
    assert info["node_id"] == "n1"
    assert info["address"] == "198.18.0.10"
    assert info["cluster_id"] == "c1"
    assert (info["managers"], info["nodes"]) == (3, 5)
    assert info["remote_managers"] == ["198.18.0.10:2377", "198.18.0.11:2377"]
    assert info["hostname"] == "manager1"


def test_inactive_node_has_no_ids():
    info = summarize(
        {"Name": "h", "Swarm": {"LocalNodeState": "inactive", "NodeID": "", "NodeAddr": ""}}
    )
    assert info["state"] == "inactive"
    assert info["node_id"] is None
    assert info["address"] is None
    assert info["manager"] is False
    assert info["cluster_id"] is None
    assert info["remote_managers"] == []


def test_worker_reports_no_cluster():
    info = summarize(
        {"Swarm": {"LocalNodeState": "active", "NodeID": "w", "ControlAvailable": False}}
    )
    assert info["manager"] is False
    assert info["cluster_id"] is None


def test_missing_swarm_section_reads_as_inactive():
    assert summarize({})["state"] == "inactive"


def test_error_state_keeps_docker_message():
    info = summarize({"Swarm": {"LocalNodeState": "error", "Error": "rpc error: timeout"}})
    assert info["state"] == "error"
    assert info["error"] == "rpc error: timeout"
