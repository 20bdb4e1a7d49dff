"""Functional tier: salt-swarm's loader modules in-process, each against a real lab dockerd.

Assertions read the daemons straight through the Docker API (``lab.swarms``),
not through the code under test.
"""

import pytest
import salt.config
import salt.loader

from lab import swarms
from lab.layout import SWARM_ADDR_POOL
from tests.functional.kept_swarm import KeptSwarm


def load_minion(tmp_path, docker_url, extra=None):
    opts = salt.config.minion_config(None)
    opts.update(
        id="functional",
        root_dir=str(tmp_path),
        cachedir=str(tmp_path / "cache"),
        pki_dir=str(tmp_path / "pki"),
        file_client="local",
        pillar={},
        test=False,
        # No master here: the mine is the minion's own; every minion's entries count.
        swarm={"docker_url": docker_url, "timeout": 30, "managers": "*", **(extra or {})},
    )
    opts["grains"] = salt.loader.grains(opts)
    utils = salt.loader.utils(opts)
    mods = salt.loader.minion_mods(opts, utils=utils)
    # A loaded module keeps the __opts__ it was loaded with: one state loader per mode.
    states = {
        test: salt.loader.states(dict(opts, test=test), mods, utils, {}) for test in (False, True)
    }
    return opts, mods, states


def load_minion_mods(tmp_path, docker_url):
    return load_minion(tmp_path, docker_url)[1]


class Node:
    """One lab host, driven through in-process ``__salt__`` and state functions."""

    def __init__(self, lab, name, tmp_path, extra=None):
        self.lab = lab
        self.name = name
        self.addr = lab.addr(name)
        self.opts, self.mods, self.states = load_minion(
            tmp_path / name, lab.docker_url(name), extra
        )

    def __call__(self, fun, *args, **kwargs):
        return self.mods[f"swarm.{fun}"](*args, **kwargs)

    def state(self, fun, name="swarm", test=False, **kwargs):
        return self.states[test][f"swarm.{fun}"](name, **kwargs)

    def init(self, **kwargs):
        kwargs.setdefault("advertise_addr", self.addr)
        kwargs.setdefault("default_addr_pool", [SWARM_ADDR_POOL])
        kwargs.setdefault("subnet_size", 24)
        return self("init", **kwargs)


@pytest.fixture
def host(lab):
    return lab.hosts[0]


@pytest.fixture
def salt_mods(tmp_path, lab, host):
    """``__salt__`` of a minion whose swarm module talks to ``host``'s dockerd."""
    return load_minion_mods(tmp_path, lab.docker_url(host))


@pytest.fixture(scope="session")
def loaded_nodes(lab, tmp_path_factory):
    # Loading grains and modules takes about a second per minion: do it once.
    base = tmp_path_factory.mktemp("minions")
    return [Node(lab, name, base) for name in lab.hosts[:3]]


@pytest.fixture
def nodes(lab, loaded_nodes, bare_hosts):
    """Three lab hosts out of any swarm, each as a Node."""
    KEPT.forget(lab)  # bare_hosts takes it down
    return loaded_nodes


KEPT = KeptSwarm()


@pytest.fixture(scope="module", autouse=True)
def no_swarm_kept_past_the_module(lab):
    yield
    KEPT.forget(lab, take_down=True)


@pytest.fixture
def swarm3(lab, loaded_nodes):
    """host1 manager, host2 and host3 workers, all ready; returns the Nodes. A swarm3
    the test before left untouched is used again; one a test changed is taken down."""
    manager, *workers = [n.name for n in loaded_nodes]
    shape = ((manager,), tuple(workers))
    if not KEPT.standing(lab, shape):
        KEPT.build(lab, [manager], workers)
    yield loaded_nodes
    if not KEPT.standing(lab, shape):
        KEPT.forget(lab, take_down=True)


@pytest.fixture
def managers3(lab, nodes):
    """Three managers, all ready and reachable."""
    swarms.build(lab, [n.name for n in nodes])
    swarms.wait_ready(lab, nodes[0].name, [n.name for n in nodes])
    return nodes
