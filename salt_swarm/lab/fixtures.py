"""Pytest fixtures over the lab. Load with ``pytest_plugins = ["salt_swarm.lab.fixtures"]``.

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

from salt_swarm.lab import swarms
from salt_swarm.lab.lab import Lab


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
