"""Tokens, unlock keys, autolock and cluster settings on real daemons."""

import re

import pytest
from salt.exceptions import CommandExecutionError

from lab import swarms
from lab.wait import wait_for

TOKEN = re.compile(r"^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$")


def test_join_tokens_and_rotation(lab, swarm3):
    mgr = swarm3[0]
    worker, manager = mgr("join_token", "worker"), mgr("join_token", "manager")
    assert TOKEN.match(worker) and TOKEN.match(manager) and worker != manager
    rotated = mgr("join_token", "worker", rotate=True)
    assert TOKEN.match(rotated) and rotated != worker
    assert mgr("join_token", "manager") == manager  # the other one is untouched
    # Members are not affected by rotation.
    assert all(n["status"] == "ready" for n in mgr("nodes"))


def test_join_with_a_rotated_out_token_fails(lab, nodes):
    first, _, wrk = nodes
    first.init()
    old = first("join_token", "worker")
    first("join_token", "worker", rotate=True)
    with pytest.raises(CommandExecutionError, match="could not join"):
        wrk("join", managers=[first.addr], token=old)
    assert swarms.local_state(lab, wrk.name)["LocalNodeState"] == "inactive"


def test_join_token_refused_on_a_worker(swarm3):
    with pytest.raises(CommandExecutionError, match="manager"):
        swarm3[1]("join_token", "worker")


def test_update_settings_is_idempotent(lab, swarm3):
    mgr = swarm3[0]
    changes = mgr("update", cert_expiry="30d", task_history_limit=3)
    assert changes == {
        "cert_expiry": {"old": 90 * 86400 * 10**9, "new": 30 * 86400 * 10**9},
        "task_history_limit": {"old": 5, "new": 3},
    }
    spec = lab.docker_client(mgr.name).api.inspect_swarm()["Spec"]
    assert spec["CAConfig"]["NodeCertExpiry"] == 30 * 86400 * 10**9
    assert spec["Orchestration"]["TaskHistoryRetentionLimit"] == 3
    assert mgr("update", cert_expiry="720h", task_history_limit=3) == {}
    assert mgr("settings")["task_history_limit"] == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cert_expiry": "10m"}, "minimum of 1 hour"),
        ({"cert_expiry": "1w"}, "not a duration"),
        ({"task_history_limit": -1}, "non-negative"),
        ({"autolock": "yes"}, "true or false"),
        ({"rotate_unlock_key": True}, "autolock is off"),
    ],
)
def test_bad_settings_are_refused(lab, swarm3, kwargs, match):
    mgr = swarm3[0]
    before = lab.docker_client(mgr.name).api.inspect_swarm()["Spec"]
    with pytest.raises(CommandExecutionError, match=match):
        mgr("update", **kwargs)
    assert lab.docker_client(mgr.name).api.inspect_swarm()["Spec"] == before


def test_unlock_key_needs_autolock(swarm3):
    with pytest.raises(CommandExecutionError, match="autolock is off"):
        swarm3[0]("unlock_key")


def test_autolock_restart_locks_and_unlock_opens(lab, nodes):
    mgr = nodes[0]
    mgr.init(autolock=True)
    key = mgr("unlock_key")
    assert re.match(r"^SWMKEY-1-\S+$", key)
    rotated = mgr("unlock_key", rotate=True)
    assert rotated != key
    lab.stop_daemon(mgr.name, "dockerd")
    lab.start_daemon(mgr.name, "dockerd")
    assert swarms.local_state(lab, mgr.name)["LocalNodeState"] == "locked"
    assert mgr("info")["state"] == "locked"
    with pytest.raises(CommandExecutionError) as err:
        mgr("unlock", key=key)  # the key from before the rotation
    assert key not in str(err.value)
    assert mgr("unlock", key=rotated)["changed"] is True
    wait_for(
        lambda: swarms.local_state(lab, mgr.name)["LocalNodeState"] == "active", 30, "unlocked"
    )
    assert mgr("unlock", key=rotated)["changed"] is False


@pytest.mark.parametrize("key", ["not-a-key", "SWMTKN-1-abc"])
def test_unlock_refuses_a_malformed_key(nodes, key):
    with pytest.raises(CommandExecutionError, match="unlock key"):
        nodes[0]("unlock", key=key)
