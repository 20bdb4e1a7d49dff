"""salt-swarm's loader modules on the Salt installed in this venv (3006, 3007 or 3008;
scripts/test-salt-versions runs this in each): they are the ones Salt loads, and a Salt
too old for them refuses them by name and version."""

import pytest
import salt.config
import salt.loader

from salt_swarm import salt_internals
from salt_swarm.modules import swarm as swarm_module
from salt_swarm.runners import swarm as swarm_runner
from salt_swarm.states import swarm as swarm_states


@pytest.fixture(scope="module")
def minion_loaders(tmp_path_factory):
    root = tmp_path_factory.mktemp("minion")
    opts = salt.config.minion_config(None)
    opts.update(
        id="m1",
        root_dir=str(root),
        cachedir=str(root / "cache"),
        pki_dir=str(root / "pki"),
        file_client="local",
        pillar={},
    )
    opts["grains"] = salt.loader.grains(opts)
    utils = salt.loader.utils(opts)
    mods = salt.loader.minion_mods(opts, utils=utils)
    return mods, salt.loader.states(opts, mods, utils, {})


def test_the_swarm_execution_module_is_salt_swarms(minion_loaders):
    """Salt 3006 and 3007 ship an old ``salt.modules.swarm`` under the same name
    (``swarm.swarm_init``, ``swarm.swarm_tokens`` ...): the extension's must win."""
    mods, _ = minion_loaders
    assert mods["swarm.info"].__globals__["__file__"] == swarm_module.__file__
    assert "swarm.bootstrap_plan" in mods
    assert not [
        f for f in ("swarm.swarm_init", "swarm.swarm_tokens", "swarm.joinswarm") if f in mods
    ]


def test_the_swarm_states_and_runner_are_loaded(minion_loaders, tmp_path):
    _, states = minion_loaders
    assert states["swarm.initialized"].__globals__["__file__"] == swarm_states.__file__
    assert "swarm.worker" in states and "swarm.members_joined" in states
    opts = salt.config.master_config(None)
    opts.update(root_dir=str(tmp_path), cachedir=str(tmp_path / "cache"))
    runners = salt.loader.runner(opts)
    assert runners["swarm.check"].__globals__["__file__"] == swarm_runner.__file__


def test_this_salt_is_supported():
    assert salt_internals.unsupported_salt() is None
    assert swarm_runner.__virtual__() == "swarm"


def test_an_older_salt_refuses_the_modules_naming_its_version(monkeypatch):
    monkeypatch.setattr(salt_internals, "salt_version", lambda: (3005, 1))
    monkeypatch.setattr(salt_internals, "salt_version_text", lambda: "3005.1")
    why = salt_internals.unsupported_salt()
    assert "Salt 3006 or later" in why and "this is Salt 3005.1" in why
    if swarm_module.HAS_DOCKER_SDK:
        assert swarm_module.__virtual__() == (False, f"swarm: {why}")
    assert swarm_runner.__virtual__() == (False, f"swarm runner: {why}")
