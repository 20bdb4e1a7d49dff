"""swarm.bootstrap_plan: the plan in the orchestrate's render runs only on the master,
and a refused plan comes back as data the SLS turns into a failing step."""

from types import SimpleNamespace

import pytest
from salt.exceptions import CommandExecutionError

from salt_swarm.core.errors import SwarmError
from salt_swarm.master import planning
from salt_swarm.modules import swarm as module


def test_on_a_minion_it_refuses_and_names_the_runner(monkeypatch):
    monkeypatch.setattr(module, "__opts__", {"__role": "minion"}, raising=False)
    with pytest.raises(CommandExecutionError, match="salt-run swarm.plan"):
        module.bootstrap_plan({"managers": "m*"})


def test_a_bad_pillar_key_comes_back_as_an_error_before_any_publish(monkeypatch):
    monkeypatch.setattr(module, "__opts__", {"__role": "master"}, raising=False)

    def no_publish(*args, **kwargs):
        raise AssertionError("planned despite a bad pillar key")

    monkeypatch.setattr(planning, "plan", no_publish)
    monkeypatch.setattr("salt_swarm.master.fleet.Fleet", lambda *a, **k: SimpleNamespace(opts={}))
    found = module.bootstrap_plan({"managers": "m*", "drain_managers": "sometimes"})
    assert found["retcode"] == 1
    assert "drain_managers" in found["error"]


@pytest.mark.parametrize(
    "key, seen", [("SWMKEY-1-secret", "SWMKEY-1-hidden"), ("oops", "not an unlock key")]
)
def test_the_plan_sees_a_stand_in_for_the_unlock_key(monkeypatch, key, seen):
    monkeypatch.setattr(module, "__opts__", {"__role": "master"}, raising=False)
    given = []

    def from_settings(fleet, settings):
        given.append(settings)
        raise SwarmError("stop here")

    monkeypatch.setattr(planning, "from_settings", from_settings)
    monkeypatch.setattr("salt_swarm.master.fleet.Fleet", lambda *a, **k: SimpleNamespace(opts={}))
    pillar = {"managers": "m*", "unlock_key": key}
    module.bootstrap_plan(pillar)
    assert given[0]["unlock_key"] == seen
    assert pillar["unlock_key"] == key  # the caller's pillar is not changed
