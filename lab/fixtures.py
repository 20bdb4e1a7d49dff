"""Pytest fixtures over the lab. Load with ``pytest_plugins = ["lab.fixtures"]``.

Environment:
- ``SALT_SWARM_REQUIRE_LAB=1``: a machine that cannot run the lab fails the lab tests
  instead of skipping them (the test script and CI set it);
- ``SALT_SWARM_TEST_HOSTS``: how many hosts the session lab has (default 4);
- ``SALT_SWARM_LAB_KEEP=1``: leave the lab running after the session.
"""

from __future__ import annotations

import os
import sys

import pytest

from lab import swarms
from lab.lab import Lab


def lab_unavailable_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the lab needs Linux"
    if os.geteuid() != 0:
        return "the lab needs root"
    return None


@pytest.fixture(scope="session")
def lab_hosts() -> list[str]:
    count = int(os.environ.get("SALT_SWARM_TEST_HOSTS", "4"))
    return [f"host{i}" for i in range(1, count + 1)]


@pytest.fixture(scope="session")
def lab(lab_hosts) -> Lab:
    reason = lab_unavailable_reason()
    if reason:
        if os.environ.get("SALT_SWARM_REQUIRE_LAB") == "1":
            pytest.fail(f"lab required but unavailable: {reason}")
        pytest.skip(reason)
    the_lab = Lab()
    report = the_lab.up(lab_hosts)
    # A lab left running by the demo or a bench may have more hosts: every idle
    # minion would still run the jobs sent to all, so they go.
    the_lab.remove([h for h in the_lab.hosts if h not in lab_hosts])
    print(f"\nlab: {len(report.hosts)} hosts up in {report.seconds} s")
    yield the_lab
    if os.environ.get("SALT_SWARM_LAB_KEEP") != "1":
        the_lab.down()


@pytest.fixture
def bare_hosts(lab) -> list[str]:
    """Every lab host out of any swarm, before and after the test."""

    swarms.leave_all(lab, lab.hosts)
    yield lab.hosts
    swarms.leave_all(lab, lab.hosts)


def module_uses_lab(request) -> bool:
    """Whether any test of the requesting module-scoped fixture's module uses the lab."""
    return any(
        "lab" in item.fixturenames
        for item in request.session.items
        if item.module is request.module
    )


@pytest.fixture(scope="module", autouse=True)
def lab_daemons_back_after_the_module(request):
    """A module that leaves a host's dockerd or minion stopped, paused or not
    answering errors at its own teardown (with what it left), and the daemons are
    brought back, so the next module on this lab does not fail in its place."""
    yield
    if lab_unavailable_reason() or not module_uses_lab(request):
        return
    revived = request.getfixturevalue("lab").revive()
    if revived:
        pytest.fail(f"this module left lab daemons down or silent, now revived: {revived}")
