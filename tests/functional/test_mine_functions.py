"""Mine functions answer only on an active manager, and never with an error text."""

import re

from .conftest import load_minion_mods


def test_nothing_on_a_bare_node(nodes):
    assert nodes[0]("manager_addr") is None
    assert nodes[0]("join_tokens") is None


def test_nothing_on_a_worker_everything_on_a_manager(swarm3):
    mgr, wrk, _ = swarm3
    assert wrk("manager_addr") is None
    assert wrk("join_tokens") is None
    assert mgr("manager_addr") == f"{mgr.addr}:2377"
    tokens = mgr("join_tokens")
    assert set(tokens) == {"cluster_id", "manager", "worker"}
    assert re.match(r"^SWMTKN-1-", tokens["worker"])


def test_nothing_when_docker_is_unreachable(tmp_path):
    mods = load_minion_mods(tmp_path, f"unix://{tmp_path}/none.sock")
    assert mods["swarm.manager_addr"]() is None
    assert mods["swarm.join_tokens"]() is None
