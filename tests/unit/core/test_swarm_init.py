"""An init that loses to another run says so, never Docker's advice to leave."""

import pytest

from salt_swarm.core import membership, swarm_init
from salt_swarm.core.errors import SwarmError

TAKEN = (
    'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm '
    "and join another one."
)


class Refused(Exception):
    def __init__(self, text):
        super().__init__(text)
        self.explanation = text


class FakeAPI:
    def __init__(self, client, error):
        self.client, self.error = client, error

    def _url(self, path):
        return path

    def _post_json(self, url, data):
        self.client.states.pop(0)  # the other run's init lands first
        raise Refused(self.error)

    def leave_swarm(self, force=False):
        raise AssertionError("an init that lost must not leave the swarm it lost to")


class FakeClient:
    """``states``: what successive ``info()`` calls report, (state, manager)."""

    def __init__(self, states, error=TAKEN):
        self.states = list(states)
        self.api = FakeAPI(self, error)

    def info(self):
        state, manager = self.states[0]
        swarm = {"LocalNodeState": state, "NodeID": "n1" if state == "active" else ""}
        swarm["ControlAvailable"] = manager
        if manager:
            swarm["Cluster"] = {"ID": "c0ffee"}
        return {"Swarm": swarm}


@pytest.mark.parametrize("manager, role", [(True, "a manager"), (False, "a worker")])
def test_an_init_another_run_beat_names_that_run_and_the_swarm(manager, role):
    client = FakeClient([("inactive", False), ("active", manager)])
    with pytest.raises(SwarmError) as err:
        swarm_init.init(client, swarm_init.InitOptions())
    text = str(err.value)
    assert f"another run made this node {role} of swarm" in text
    assert "run it again and it converges" in text
    assert "swarm leave" not in text


def test_other_init_errors_keep_dockers_words():
    client = FakeClient([("inactive", False), ("inactive", False)], error="invalid CIDR")
    with pytest.raises(Refused, match="invalid CIDR"):
        swarm_init.init(client, swarm_init.InitOptions())


class Settling(FakeClient):
    """Reports each of ``states`` once, in order, then the last one for good."""

    def info(self):
        reading = super().info()
        if len(self.states) > 1:
            self.states.pop(0)
        return reading


def test_a_node_pending_under_another_runs_init_is_waited_for_not_left(monkeypatch):
    monkeypatch.setattr(membership.time, "sleep", lambda s: None)
    client = Settling([("pending", False), ("pending", False), ("active", True)])
    got = swarm_init.init(client, swarm_init.InitOptions())
    assert got["changed"] is False and "already a manager of swarm c0ffee" in got["comment"]
