"""The swarm beacon's events: what changed between two looks, hostnames as data."""

from salt_swarm.core import watch_events as we


def node(
    ident, hostname, status="ready", availability="active", role="worker", leader=False, reach=None
):
    return {
        "id": ident,
        "hostname": hostname,
        "status": status,
        "availability": availability,
        "role": role,
        "reachability": reach,
        "leader": leader,
        "labels": {"secret-ish": "not watched"},
    }


BEFORE = [node("m1", "host1", role="manager", leader=True, reach="reachable"), node("w1", "host4")]


def test_the_first_look_only_records():
    assert we.node_events(None, we.node_snapshot(BEFORE)) == []
    assert we.local_events(None, {"state": "active"}) == []


def test_a_worker_going_down_and_drained_is_one_event_with_both_changes():
    after = [BEFORE[0], node("w1", "host4", status="down", availability="drain")]
    (event,) = we.node_events(we.node_snapshot(BEFORE), we.node_snapshot(after))
    assert event == {
        "tag": "node/changed",
        "node_id": "w1",
        "hostname": "host4",
        "changes": {
            "status": {"old": "ready", "new": "down"},
            "availability": {"old": "active", "new": "drain"},
        },
    }


def test_nodes_added_and_removed_and_a_new_leader():
    after = [
        node("m1", "host1", role="manager", reach="unreachable", status="down"),
        node("m2", "host2", role="manager", leader=True, reach="reachable"),
    ]
    events = we.node_events(we.node_snapshot(BEFORE), we.node_snapshot(after))
    tags = [e["tag"] for e in events]
    assert tags == ["node/changed", "node/added", "node/removed", "leader"]
    assert events[-1] == {
        "tag": "leader",
        "old": "m1",
        "new": "m2",
        "old_hostname": "host1",
        "new_hostname": "host2",
    }


def test_a_hostile_hostname_stays_data():
    hostile = "x\n- local.cmd.run: rm"
    events = we.node_events(
        we.node_snapshot(BEFORE), we.node_snapshot([*BEFORE, node("w9", hostile)])
    )
    assert events == [
        {
            "tag": "node/added",
            "node_id": "w9",
            **{k: v for k, v in node("w9", hostile).items() if k in we.NODE_FIELDS},
        }
    ]
    assert all("\n" not in e["tag"] for e in events)


def test_the_local_state_change_of_a_locked_manager():
    (event,) = we.local_events(
        {"state": "active", "manager": True, "node_id": "m1"},
        {"state": "locked", "manager": True, "node_id": "m1"},
    )
    assert event == {"tag": "local", "changes": {"state": {"old": "active", "new": "locked"}}}
