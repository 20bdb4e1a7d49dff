"""Leaving is decided first (swarm_leave.leave_plan), then applied: test=True reports the
very plan a real run carries out."""

import pytest

from salt_swarm.core import swarm_leave
from salt_swarm.core.errors import SwarmError


class API:
    def __init__(self, nodes):
        self.listed, self.calls = nodes, []

    def nodes(self):
        if isinstance(self.listed, Exception):
            raise self.listed
        return self.listed

    def leave_swarm(self, force=False):
        self.calls.append(("leave", force))

    def inspect_node(self, node_id):
        return {"ID": node_id, "Spec": {"Role": "manager"}, "Version": {"Index": 1}}

    def update_node(self, node_id, version, node_spec=None):
        self.calls.append(("demote", node_id, node_spec["Role"]))
        self.client.manager = node_spec["Role"] == "manager"


class Client:
    def __init__(self, state, manager=False, nodes=()):
        self.state, self.manager = state, manager
        self.api = API(list(nodes) if not isinstance(nodes, Exception) else nodes)
        self.api.client = self

    def info(self):
        swarm = {"LocalNodeState": self.state, "NodeID": "n1", "ControlAvailable": self.manager}
        return {"Swarm": swarm}


def manager(id_, reach="reachable"):
    return {
        "ID": id_,
        "Spec": {"Role": "manager", "Availability": "drain"},
        "Status": {"State": "ready" if reach == "reachable" else "down"},
        "ManagerStatus": {"Reachability": reach},
        "Description": {"Hostname": id_},
    }


@pytest.mark.parametrize(
    "client, force, steps",
    [
        (Client("inactive"), False, ()),
        (Client("pending"), False, ("force_leave",)),
        (Client("active"), False, ("leave",)),
        (
            Client("active", True, [manager("n1"), manager("n2"), manager("n3")]),
            False,
            ("demote", "leave"),
        ),
        (
            Client("active", True, [manager("n1"), manager("n2"), manager("n3", "unreachable")]),
            True,
            ("force_leave",),
        ),
        (Client("active", True, RuntimeError("no leader")), True, ("force_leave",)),
    ],
)
def test_the_plan_is_what_test_mode_says_and_what_a_run_does(client, force, steps):
    plan = swarm_leave.leave_plan(client, force)
    assert plan.steps == steps
    told = swarm_leave.leave(client, force=force, test=True)
    assert client.api.calls == []  # test=True touched nothing
    assert told["comment"] == (plan.would if steps else plan.done)
    done = swarm_leave.leave(client, force=force)
    assert done["comment"] == plan.done and done["changed"] is bool(steps)
    assert [c[0] for c in client.api.calls] == [s.replace("force_", "") for s in steps]


def test_leaving_that_would_break_quorum_or_blindly_is_refused_without_force():
    at_risk = Client("active", True, [manager("n1"), manager("n2"), manager("n3", "unreachable")])
    with pytest.raises(SwarmError, match="refusing to leave as a manager"):
        swarm_leave.leave_plan(at_risk)
    with pytest.raises(SwarmError, match="cannot list its swarm"):
        swarm_leave.leave_plan(Client("active", True, RuntimeError("no leader")))
    assert at_risk.api.calls == []
