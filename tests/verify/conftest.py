"""What a host must look like once the formula built it: the expectations, and reading a node.

The checks in this folder take testinfra's ``host`` fixture, so they run wherever
testinfra reaches:

    # Test Kitchen (kitchen.yml's verifier): docker exec into the instance
    pytest --confcutdir=tests/verify tests/verify --hosts=docker://<container> \\
        --swarm-expect=tests/verify/expect/single.yml

    # the lab: through the lab's salt-master, commands run by each host's minion
    SALT_MASTER_CONFIG=/var/lib/salt-swarm-lab/master/etc/salt/master \\
        pytest --confcutdir=tests/verify tests/verify \\
        --hosts=salt://host1,salt://host4 --swarm-expect=lab.yml

(tests/integration/test_verify_in_lab.py does the second after a bootstrap.)

The expectations file is YAML: ``defaults`` for every host, and ``hosts`` by
hostname (``uname -n``, which is also the Docker node's hostname), merged over the
defaults::

    defaults:
      role: manager            # manager or worker (required)
      leader: true             # a manager that is (true) or is not (false) the Raft leader
      labels: {zone: a}        # node labels that must be there (read on managers)
      autolock: true           # the swarm's autolock setting (read on managers)
      docker_service: docker   # a service that must be running and enabled
      docker_host: unix:///run/docker.sock   # `docker -H`, when not the default socket
      secret_scan: [/var/log/salt]           # folders with no join token or unlock key
      highstate_test: salt-call --local --out=json state.highstate test=True
                               # prints a test-mode state run: nothing may be left to do
    hosts:
      worker1: {role: worker}

Left out, a check does not apply to that host and is skipped (``secret_scan``
defaults to ``[/var/log/salt]``). Without ``--swarm-expect`` (or
``SWARM_VERIFY_EXPECT``) every check is skipped: that is what happens when the whole
test suite runs, since these checks are about a host the formula built.
"""

from __future__ import annotations

import json
import os
import shlex

import pytest
import yaml

KEYS = {
    "role",
    "leader",
    "labels",
    "autolock",
    "docker_service",
    "docker_host",
    "secret_scan",
    "highstate_test",
}
DEFAULT_SECRET_SCAN = ["/var/log/salt"]


def pytest_addoption(parser):
    parser.addoption(
        "--swarm-expect",
        action="store",
        default=None,
        help="YAML file of what each host must look like (tests/verify/conftest.py)",
    )


def load_expectations(path: str) -> dict:
    with open(path) as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict) or set(data) - {"defaults", "hosts"}:
        raise ValueError(f"{path}: expected a mapping with `defaults` and `hosts`")
    data.setdefault("defaults", {})
    data["hosts"] = data.get("hosts") or {}
    for where, want in [("defaults", data["defaults"]), *data["hosts"].items()]:
        unknown = set(want or {}) - KEYS
        if unknown:
            raise ValueError(
                f"{path}: {where}: unknown keys {sorted(unknown)}; known {sorted(KEYS)}"
            )
    return data


@pytest.fixture(scope="session")
def expectations(request) -> dict:
    path = request.config.getoption("swarm_expect", default=None) or os.environ.get(
        "SWARM_VERIFY_EXPECT"
    )
    if not path:
        pytest.skip(
            "no --swarm-expect: these checks verify a host the formula built "
            "(kitchen.yml's verifier, tests/integration/test_verify_in_lab.py)"
        )
    return load_expectations(path)


@pytest.fixture(scope="module")
def expect(host, expectations) -> dict:
    """This host's expectations, with its ``hostname``."""
    hostname = host.check_output("uname -n").strip()
    want = {**expectations["defaults"], **(expectations["hosts"].get(hostname) or {})}
    if want.get("role") not in ("manager", "worker"):
        pytest.fail(f"{hostname}: the expectations give no role (manager or worker)")
    want["hostname"] = hostname
    want.setdefault("secret_scan", DEFAULT_SECRET_SCAN)
    return want


class Docker:
    """The docker CLI on the host, against its own daemon."""

    def __init__(self, host, docker_host=None):
        self.host = host
        self.prefix = "docker" + (f" -H {shlex.quote(docker_host)}" if docker_host else "")

    def run(self, *args):
        return self.host.run(" ".join([self.prefix, *map(shlex.quote, args)]))

    def json(self, *args):
        out = self.run(*args)
        assert out.rc == 0, f"docker {' '.join(args)} failed ({out.rc}): {out.stderr.strip()}"
        return json.loads(out.stdout)


@pytest.fixture(scope="module")
def docker(host, expect) -> Docker:
    return Docker(host, expect.get("docker_host"))


@pytest.fixture(scope="module")
def swarm(docker) -> dict:
    """The ``Swarm`` section of ``docker info`` on this host."""
    return docker.json("info", "--format", "{{json .Swarm}}")


@pytest.fixture(scope="module")
def node(docker, expect) -> dict:
    """``docker node inspect self``; managers only (workers cannot list nodes)."""
    if expect["role"] != "manager":
        pytest.skip("a worker cannot inspect nodes: node details are read on managers")
    return docker.json("node", "inspect", "self", "--format", "{{json .}}")
