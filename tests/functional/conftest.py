"""Functional tier: salt-swarm's loader modules in-process, against one real dockerd (lab host1)."""

import pytest
import salt.config
import salt.loader


def load_minion_mods(tmp_path, docker_url):
    opts = salt.config.minion_config(None)
    opts.update(
        id="functional",
        root_dir=str(tmp_path),
        cachedir=str(tmp_path / "cache"),
        pki_dir=str(tmp_path / "pki"),
        file_client="local",
        pillar={},
        swarm={"docker_url": docker_url, "timeout": 10},
    )
    opts["grains"] = salt.loader.grains(opts)
    utils = salt.loader.utils(opts)
    return salt.loader.minion_mods(opts, utils=utils)


@pytest.fixture
def host(lab):
    return lab.hosts[0]


@pytest.fixture
def salt_mods(tmp_path, lab, host):
    """``__salt__`` of a minion whose swarm module talks to ``host``'s dockerd."""
    return load_minion_mods(tmp_path, lab.docker_url(host))
