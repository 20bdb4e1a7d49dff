"""Mine functions answer only on an active manager, and never with an error text."""

import re

from .conftest import load_minion_mods

FUNCTIONS = ("manager_addr", "worker_token", "manager_token")


def test_nothing_on_a_bare_node(nodes):
    assert [nodes[0](f) for f in FUNCTIONS] == [None, None, None]


def test_nothing_on_a_worker_one_token_per_entry_on_a_manager(swarm3):
    mgr, wrk, _ = swarm3
    assert [wrk(f) for f in FUNCTIONS] == [None, None, None]
    assert mgr("manager_addr") == f"{mgr.addr}:2377"
    worker, manager = mgr("worker_token"), mgr("manager_token")
    # Each entry holds its own token only: its mine ACL decides who reads which.
    assert set(worker) == {"cluster_id", "worker"} and set(manager) == {"cluster_id", "manager"}
    assert worker["cluster_id"] == manager["cluster_id"]
    assert re.match(r"^SWMTKN-1-", worker["worker"]) and re.match(r"^SWMTKN-1-", manager["manager"])
    assert worker["worker"] != manager["manager"]


def test_nothing_when_docker_is_unreachable(tmp_path):
    mods = load_minion_mods(tmp_path, f"unix://{tmp_path}/none.sock")
    assert [mods[f"swarm.{f}"]() for f in FUNCTIONS] == [None, None, None]
