"""swarm.bootstrap twenty times in a row from bare nodes: every run builds the whole swarm."""

import statistics
import time

import pytest

from lab import swarms
from tests.integration.conftest import PILLARS, orchestrate

RUNS = 20


@pytest.fixture
def bootstrap_pillar(lab, lab_hosts, bare_hosts, use_pillar):
    use_pillar(PILLARS / "bootstrap")


def test_twenty_fresh_bootstraps_in_a_row(lab, lab_hosts, bootstrap_pillar):
    took = []
    clusters = set()
    for attempt in range(1, RUNS + 1):
        swarms.leave_all(lab, lab_hosts)
        began = time.monotonic()
        run = orchestrate(lab)
        took.append(time.monotonic() - began)
        assert run.ok, f"run {attempt}:\n{run.out}"
        assert "the swarm is as pillar says" in run.out, f"run {attempt}:\n{run.out}"
        nodes = swarms.node_states(lab, "host1")
        assert sorted(nodes) == lab_hosts, f"run {attempt}"
        roles = {h: n["Spec"]["Role"] for h, n in nodes.items()}
        assert roles == {
            "host1": "manager",
            "host2": "manager",
            "host3": "manager",
            "host4": "worker",
        }
        clusters.add(swarms.local_state(lab, "host1")["Cluster"]["ID"])
    assert len(clusters) == RUNS  # each run built a new swarm, none was left over
    print(
        f"\n{RUNS} bootstraps (3+1): min {min(took):.1f} s, "
        f"median {statistics.median(took):.1f} s, max {max(took):.1f} s"
    )
