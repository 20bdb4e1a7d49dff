"""The highstate's choices are made in Python (core/highstate_steps.py); the SLS only
writes them out (their renders: tests/unit/formula)."""

import pytest

from salt_swarm.core import highstate_steps
from salt_swarm.core.errors import SwarmError


def steps_for(sls, settings, role="workers", version="1.0"):
    return highstate_steps.for_sls(sls, settings, lambda: role, "w1", version, "Debian")


@pytest.mark.parametrize(
    "role, settings, include",
    [
        ("workers", {}, ["swarm.worker"]),
        ("managers", {}, ["swarm.manager"]),
        ("managers", {"first_manager": "w1"}, ["swarm.first"]),
        ("managers", {"first_manager": "other"}, ["swarm.manager"]),
        ("workers", {"token_store": "sdb://s/k"}, ["swarm.store"]),
    ],
)
def test_the_highstate_includes_the_sls_of_the_minions_role(role, settings, include):
    found = steps_for("swarm", {"formula_version": "1.0", **settings}, role)
    assert found == {"include": include, "steps": []}


def test_a_minion_in_no_role_gets_one_no_op():
    found = steps_for("swarm", {"formula_version": "1.0"}, role=None)
    assert found["include"] == [] and [s["state"] for s in found["steps"]] == ["test.nop"]


def test_a_formula_of_another_version_is_refused_on_the_highstate():
    with pytest.raises(SwarmError, match="this minion runs the extension 1.0, the formula"):
        steps_for("swarm", {"formula_version": "0.9"})


def test_the_store_refuses_a_minion_in_no_role_and_an_unknown_sls_is_refused():
    with pytest.raises(SwarmError, match="neither swarm:managers nor swarm:workers"):
        steps_for("swarm.store", {"token_store": "sdb://s/k"}, role=None)
    with pytest.raises(SwarmError, match="'swarm.bootstrap' is not an SLS"):
        steps_for("swarm.bootstrap", {})


def test_first_manager_passes_only_the_init_options_pillar_sets():
    (first,) = steps_for("swarm.first", {"init": {"subnet_size": 26, "autolock": None}})["steps"]
    assert first["args"] == [
        {"advertise_addr": None},
        {"listen_addr": None},
        {"mine_update": True},
        {"subnet_size": 26},
    ]
