"""The swarm beacon module: its configuration is checked, a manager reports node
changes from its list, a dockerd that stops answering is a local event."""

import pytest

from salt_swarm.beacons import swarm as beacon


@pytest.fixture
def minion(monkeypatch):
    answers = {"info": {"state": "active", "manager": True, "node_id": "m1"}, "nodes": []}

    def info():
        found = answers["info"]
        if isinstance(found, Exception):
            raise found
        return found

    salt = {"swarm.info": info, "swarm.nodes": lambda: answers["nodes"]}
    monkeypatch.setattr(beacon, "__salt__", salt, raising=False)
    monkeypatch.setattr(beacon, "_LAST", {})
    return answers


@pytest.mark.parametrize(
    "config, ok",
    [
        ([{"interval": 2}], True),
        ([{"nodes": "yes"}], False),
        ([{"nodez": True}], False),
        ({}, False),
    ],
)
def test_validate(config, ok):
    assert beacon.validate(config)[0] is ok


def test_a_manager_reports_a_node_change_and_a_dockerd_that_stops_is_local_news(minion):
    row = {
        "id": "w1",
        "hostname": "host4",
        "status": "ready",
        "availability": "active",
        "role": "worker",
        "reachability": None,
        "leader": False,
    }
    minion["nodes"] = [row]
    (first,) = beacon.beacon([{"interval": 1}])
    assert first == {"tag": "watching", "state": "active", "manager": True}
    minion["nodes"] = [{**row, "status": "down"}]
    (event,) = beacon.beacon([{"interval": 1}])
    assert event["tag"] == "node/changed" and event["changes"]["status"]["new"] == "down"
    minion["info"] = OSError("connection refused")
    (event,) = beacon.beacon([{"nodes": False}])
    assert event["tag"] == "local" and event["changes"]["state"]["new"] == "unreachable"
