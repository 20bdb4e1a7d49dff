"""One salt-swarm version everywhere: the plan names members that run another one,
and a master that serves a formula of another version than its extension."""

from types import SimpleNamespace

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.master import planning
from salt_swarm.version import __version__


def test_members_on_another_version_are_named_with_theirs():
    assert planning._version_problems({"m1": __version__, "w1": __version__}) == []
    (found,) = planning._version_problems({"m1": __version__, "w1": "0.1.0", "w2": None})
    assert found.startswith(f"salt-swarm versions differ: the master runs {__version__}, ")
    assert "w1 (0.1.0), w2 (older than 0.2)" in found and "m1" not in found


def test_a_formula_of_another_version_than_the_masters_extension_is_refused_first(monkeypatch):
    monkeypatch.setattr(planning, "plan", lambda *a, **k: pytest.fail("planned anyway"))
    fleet = SimpleNamespace(opts={})
    with pytest.raises(SwarmError, match="the formula it serves is 0.1.0"):
        planning.from_settings(fleet, {"managers": "m*", "formula_version": "0.1.0"})
