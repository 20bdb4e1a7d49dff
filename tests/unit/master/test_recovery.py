"""swarm.recover's workflow (master/recovery.py) on a fake Fleet: refused while quorum
holds or no manager stands; otherwise the survivor forces a new cluster, the dead
managers go, the living ones join again, and each step is reported as done."""

import pytest

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError
from salt_swarm.master import recovery


def view(id_, host, status="ready", reach="reachable", leader=False):
    return NodeView(id_, host, "manager", "drain", status, "198.18.0.1", {}, reach, leader)


def info(node_id):
    return {"state": "active", "node_id": node_id, "manager": True, "cluster_id": "c1"}


class FakeFleet:
    def __init__(self, infos, listable, after):
        self.infos_, self.listable, self.after = infos, listable, after
        self.calls = []

    def swarm_pillar(self):
        return {"managers": {"tgt": "m*"}}

    def matched(self, tgt, tgt_type):
        return ["m1", "m2", "m3"], []

    def infos(self, minions):
        return {m: self.infos_.get(m) for m in minions}, set(self.infos_)

    def nodes_from(self, candidates):
        if not candidates:
            raise SwarmError("no active manager could list the nodes")
        if self.calls:  # after force-new-cluster
            return candidates[0], self.after
        if self.listable is None:
            raise SwarmError("m1: swarm.nodes: no leader")
        return candidates[0], self.listable

    def call(self, minion, fun, arg=(), **kwargs):
        self.calls.append((minion, fun, list(arg)))
        return True


def test_quorum_lost_is_rebuilt_around_the_first_standing_manager():
    after = [view("n1", "h1", leader=True), view("n3", "h3", "down", "unreachable")]
    fleet = FakeFleet({"m1": info("n1"), "m2": info("n2"), "m3": None}, None, after)
    steps = []
    got = recovery.recover(fleet, 5, steps)
    assert got == {
        "survivor": "m1",
        "steps": [
            "m1: force-new-cluster",
            "h3: down manager demoted and removed",
            "m2: left the broken swarm and joined again as a manager",
        ],
        "still_down": ["m3"],
    }
    assert [(m, f) for m, f, _ in fleet.calls] == [
        ("m1", "swarm.init"),
        ("m1", "swarm.remove_node"),
        ("m1", "swarm.mine_refresh"),
        ("m2", "swarm.leave"),
        ("m2", "state.sls"),
    ]


def test_refused_while_quorum_holds():
    listed = [view("n1", "h1", leader=True), view("n2", "h2"), view("n3", "h3", "down", "down")]
    fleet = FakeFleet({"m1": info("n1"), "m2": info("n2")}, listed, [])
    with pytest.raises(SwarmError, match="quorum is there .2 of 3 managers reachable"):
        recovery.recover(fleet, 5, [])
    assert fleet.calls == []


def test_refused_when_no_manager_stands():
    fleet = FakeFleet({}, None, [])
    with pytest.raises(SwarmError, match="no pillar manager's dockerd answers as a manager"):
        recovery.recover(fleet, 5, [])
    assert fleet.calls == []
