"""swarm.check through the members that answer: a member whose dockerd is down is a
difference of its own, and its node (found through the record) is compared too."""

import pytest

from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError
from salt_swarm.master import inspection
from salt_swarm.master.fleet import Preflight


def view(id_, host, role="worker", status="ready", availability="active", reach=None, **kw):
    return NodeView(
        id_,
        host,
        role,
        availability,
        status,
        "198.18.0.1",
        labels=kw.get("labels", {}),
        reachability=reach if role == "manager" else None,
        leader=kw.get("leader", False),
    )


def info(node_id, host, manager=False):
    return {
        "state": "active",
        "node_id": node_id,
        "hostname": host,
        "manager": manager,
        "cluster_id": "c1" if manager else None,
    }


NODES = [
    view("n1", "h1", "manager", availability="drain", reach="reachable", leader=True),
    view("n2", "h2", "manager", status="down", availability="drain", reach="unreachable"),
    view("n3", "h3", "manager", availability="drain", reach="reachable"),
    view("n4", "h4", labels={"zone": "a"}),
]


class FakeFleet:
    opts = {}

    def __init__(self, live, infos, problems=None, record=None):
        self.pre = Preflight(infos=infos, live=set(live), problems=problems or {})
        self._record = record or {}

    def matched(self, tgt, tgt_type):
        everyone = ["m1", "m2", "m3", "w4"]
        if tgt == "m*":
            return [m for m in everyone if m.startswith("m")], []
        if tgt == "w*":
            return ["w4"], []
        return [tgt] if tgt in everyone else [], [] if tgt in everyone else [tgt]

    def preflight(self, minions, grain_rules=None):
        return self.pre

    def nodes_from(self, candidates):
        return candidates[0], list(NODES)

    def record(self):
        return dict(self._record)

    def check_reports(self, infos, nodes=None):
        return {}


def fleet_with_m2_dockerd_down(record=True):
    infos = {"m1": info("n1", "h1", True), "m2": None, "m3": info("n3", "h3", True)}
    infos["w4"] = info("n4", "h4")
    problems = {"m2": ["dockerd: Error while fetching server API version"]}
    return FakeFleet(infos, infos, problems, {"n2": "m2"} if record else {})


def check(fleet, labels=()):
    return inspection.check(fleet, "m*", "w*", list(labels), True)


def test_a_manager_whose_dockerd_is_down_is_named_and_its_node_compared():
    got = check(fleet_with_m2_dockerd_down(), [{"tgt": "w4", "labels": {"zone": "b"}}])
    assert got["result"] is False and got["manager"] == "m1"
    assert got["differences"] == [
        "m2: cannot tell its node's state (dockerd: Error while fetching server API version)",
        "m2 (h2): status down, not ready",
        "w4 (h4): label zone='a', pillar says 'b'",
        "quorum at risk: unreachable managers h2; survives 0 more manager failure(s) "
        "(1 with all reachable)",
    ]


def test_without_a_record_the_silent_member_is_still_named():
    got = check(fleet_with_m2_dockerd_down(record=False))
    assert got["differences"][:2] == [
        "m2: cannot tell its node's state (dockerd: Error while fetching server API version)",
        "m2: not in the swarm (pillar: manager)",
    ]
    assert "h2: a manager node (n2, down) that pillar does not name" in got["differences"]


def test_a_silent_minion_is_named():
    fleet = fleet_with_m2_dockerd_down()
    fleet.pre.live.discard("m2")
    assert check(fleet)["differences"][0] == "m2: its minion does not answer"


def test_nothing_to_compare_without_an_active_manager():
    infos = {m: None for m in ("m1", "m2", "m3", "w4")}
    with pytest.raises(SwarmError, match="no manager pillar names is active in a swarm"):
        check(FakeFleet(infos, infos))


def test_bad_targets_are_still_refused():
    fleet = fleet_with_m2_dockerd_down()
    with pytest.raises(SwarmError, match="unknown minions: ghost"):
        inspection.check(fleet, "m*", "ghost", [], True)
