"""A join Docker times out on but finishes in the background is waited for, not undone."""

import pytest

from salt_swarm.core import swarm_join
from salt_swarm.core.errors import SwarmError

TOKEN = "SWMTKN-1-" + "a" * 50 + "-" + "m" * 25
SLOW = (
    "Timeout was reached before node joined. The attempt to join the swarm will continue "
    'in the background. Use the "docker info" command to see the current swarm status.'
)


class Slow(Exception):
    explanation = SLOW


class FakeAPI:
    def __init__(self, client):
        self.client = client
        self.left = 0

    def _url(self, path):
        return path

    def _post_json(self, url, data):
        raise Slow()

    def _raise_for_status(self, resp):
        pass

    def leave_swarm(self, force=False):
        self.left += 1


class FakeClient:
    """``states``: the LocalNodeState that successive ``info()`` calls report."""

    def __init__(self, states, manager=True):
        self.states = list(states)
        self.manager = manager
        self.api = FakeAPI(self)

    def info(self):
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        swarm = {"LocalNodeState": state, "NodeID": "n1" if state == "active" else ""}
        swarm["ControlAvailable"] = self.manager and state == "active"
        return {"Swarm": swarm}


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(swarm_join.time, "sleep", lambda s: None)


def request():
    return swarm_join.JoinRequest(role="manager", managers=("10.0.0.1:2377",), token=TOKEN)


def test_a_join_finished_in_the_background_counts_as_joined():
    client = FakeClient(["inactive", "pending", "pending", "active"])
    got = swarm_join.join(client, request(), probe=lambda addr: True)
    assert got["changed"] and got["role"] == "manager"
    assert "in the background" in got["comment"]
    assert client.api.left == 0


def test_a_background_join_that_gives_up_is_cleaned_up_and_reported(monkeypatch):
    client = FakeClient(["inactive", "pending", "error", "error"])
    with pytest.raises(SwarmError, match="could not join as manager.*continue in the background"):
        swarm_join.join(client, request(), probe=lambda addr: True)
    assert client.api.left == 1


def test_waiting_for_a_background_join_has_a_deadline(monkeypatch):
    clock = iter(range(0, 1000, 5))
    monkeypatch.setattr(swarm_join.time, "monotonic", lambda: next(clock))
    assert swarm_join._background_join_done(FakeClient(["pending"]), seconds=30) is False
