"""A node write that meets "update out of sequence" (the node's version moved on a
status change) is retried at the new version; a spec changed by someone else is not
overwritten; other errors pass through."""

import docker.errors
import pytest

from salt_swarm.core import nodes
from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError

SPEC = {"Role": "worker", "Availability": "active", "Labels": {}}


class MovingAPI:
    """A node whose version moves ``moves`` times before a write lands."""

    def __init__(
        self, moves=1, spec_after=None, error="rpc error: update out of sequence", spec=SPEC
    ):
        self.version, self.moves, self.error = 7, moves, error
        self.spec = dict(spec)
        self.spec_after = spec_after
        self.writes = []

    def update_node(self, node_id, version, spec):
        if self.moves:
            self.moves -= 1
            self.version += 1
            if self.spec_after is not None:
                self.spec = self.spec_after
            raise docker.errors.APIError(self.error)
        assert version == self.version, "written at a stale version"
        self.writes.append((version, spec))

    def inspect_node(self, node_id):
        return {"ID": node_id, "Version": {"Index": self.version}, "Spec": self.spec}


class Client:
    def __init__(self, api):
        self.api = api


def node(role="worker", status="ready", version=7):
    return NodeView(
        id="n1",
        hostname="w1",
        role=role,
        availability="active",
        status=status,
        addr="",
        version=version,
    )


def test_a_status_change_between_read_and_write_is_retried_at_the_new_version():
    api = MovingAPI(moves=2)
    nodes.write(Client(api), node(), dict(SPEC), {"Availability": "drain"})
    assert api.writes == [(9, {**SPEC, "Availability": "drain"})]


def test_a_spec_changed_by_someone_else_is_not_overwritten():
    api = MovingAPI(moves=1, spec_after={**SPEC, "Labels": {"zone": "b"}})
    with pytest.raises(SwarmError, match="w1 was changed by someone else.*nothing was overwritten"):
        nodes.write(Client(api), node(), dict(SPEC), {"Availability": "drain"})
    assert api.writes == []


def test_a_node_that_keeps_moving_gives_up_with_dockers_message():
    api = MovingAPI(moves=nodes.WRITE_ATTEMPTS)
    with pytest.raises(docker.errors.APIError, match="out of sequence"):
        nodes.write(Client(api), node(), dict(SPEC), {"Availability": "drain"})
    assert api.writes == []


def test_other_errors_are_not_retried():
    api = MovingAPI(moves=1, error="node not found")
    with pytest.raises(docker.errors.APIError, match="node not found"):
        nodes.write(Client(api), node(), dict(SPEC), {"Availability": "drain"})
    assert api.moves == 0 and api.writes == []


MANAGER_SPEC = {**SPEC, "Role": "manager"}


def test_a_demotion_before_removal_is_retried_at_the_new_version():
    # listed at version 3, read again at 7, moved on to 8 by a status change
    api = MovingAPI(moves=1, spec=MANAGER_SPEC)
    assert nodes._demote_member(Client(api), node("manager", "down", version=3))
    assert api.writes == [(8, {**MANAGER_SPEC, "Role": "worker"})]


def test_a_demotion_raft_no_longer_counts_is_skipped():
    api = MovingAPI(
        moves=1, spec=MANAGER_SPEC, error="rpc error: node is not in the raft memberlist"
    )
    assert not nodes._demote_member(Client(api), node("manager", "down"))
    assert api.writes == []
