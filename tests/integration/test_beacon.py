"""The swarm beacon on real daemons: a worker whose dockerd stops says so, the
managers report the node going down and a leader change (the delays are printed)."""

import time

import pytest

from lab import swarms
from lab.wait import wait_for
from tests.integration.conftest import PILLARS
from tests.integration.hostile import MasterEvents

MANAGERS, WORKER = ["host1", "host2", "host3"], "host4"
BEACON = '[{"interval": 1}]'


@pytest.fixture
def watched(lab, lab_hosts, bare_hosts):
    swarms.build(lab, MANAGERS, [WORKER])
    swarms.wait_ready(lab, "host1", [*MANAGERS[1:], WORKER], timeout=60)
    hosts = [*MANAGERS, WORKER]
    yield
    lab.salt_json("-L", ",".join(hosts), "beacons.delete", "swarm")
    for host in hosts:
        lab.start_daemon(host, "dockerd")


def _add_beacons(lab, hosts):
    added = lab.salt_json("-L", ",".join(hosts), "beacons.add", "swarm", BEACON)
    assert added.retcode == 0, added.output


def leader(lab, manager):
    try:
        nodes = swarms.node_list(lab, manager)
    except Exception:  # no leader while the managers elect one
        return None
    return next(
        (
            n["Description"]["Hostname"]
            for n in nodes
            if (n.get("ManagerStatus") or {}).get("Leader")
        ),
        None,
    )


def test_a_stopped_worker_dockerd_and_a_leader_change_are_events(lab, watched):
    with MasterEvents(lab) as events:
        hosts = [*MANAGERS, WORKER]
        _add_beacons(lab, hosts)
        for host in hosts:  # each beacon has recorded its first look
            events.wait_for(f"salt/beacon/{host}/swarm/watching", timeout=30)
        assert leader(lab, "host2") == "host1"
        start = events.mark()
        stopped = time.monotonic()
        lab.stop_daemon(WORKER, "dockerd", timeout=10)
        local = events.wait_for(f"salt/beacon/{WORKER}/swarm/local", timeout=30, since=start)
        local_after = time.monotonic() - stopped
        assert local["data"]["changes"]["state"]["new"] == "unreachable"
        down = events.wait_for(
            lambda e: (
                e["tag"].endswith("/swarm/node/changed")
                and e["data"]["hostname"] == WORKER
                and e["data"]["changes"].get("status", {}).get("new") == "down"
            ),
            timeout=90,
            since=start,
        )
        down_after = time.monotonic() - stopped

        start = events.mark()
        lab.stop_daemon("host1", "dockerd", timeout=10)
        moved = wait_for(lambda: leader(lab, "host2") not in (None, "host1"), 60, "a new leader")
        seen_by_docker = time.monotonic()
        event = events.wait_for(
            lambda e: (
                e["tag"] in ("salt/beacon/host2/swarm/leader", "salt/beacon/host3/swarm/leader")
            ),
            timeout=30,
            since=start,
        )
        leader_after = time.monotonic() - seen_by_docker
    assert event["data"]["new_hostname"] in ("host2", "host3") and moved
    assert event["data"]["old_hostname"] == "host1"
    print(
        f"\nbeacon: worker dockerd stop seen in {local_after:.1f} s; node down on a manager "
        f"in {down_after:.1f} s; leader change {leader_after:+.1f} s after Docker showed it"
    )
    assert down["data"]["node_id"]


@pytest.fixture
def watched_day2(lab, lab_hosts, bare_hosts, use_pillar):
    use_pillar(PILLARS / "day2")  # host1-3 managers, lost_grace 2 s
    swarms.build(lab, MANAGERS, [WORKER])
    swarms.wait_ready(lab, "host1", [*MANAGERS[1:], WORKER], timeout=60)
    yield
    lab.salt_json("-L", ",".join(MANAGERS), "beacons.delete", "swarm")
    lab.start_daemon(WORKER, "dockerd")


def test_a_worker_that_stays_down_is_retired_by_the_reactor_on_the_beacon(lab, watched_day2):
    """The formula's reactor/node_down.sls on the managers' beacon events: the node
    whose dockerd stays down is drained, then removed after swarm:lost_grace."""
    node_id = next(
        n["ID"] for n in swarms.node_list(lab, "host1") if n["Description"]["Hostname"] == WORKER
    )
    with MasterEvents(lab) as events:
        _add_beacons(lab, MANAGERS)
        for host in MANAGERS:
            events.wait_for(f"salt/beacon/{host}/swarm/watching", timeout=30)
        start = events.mark()
        stopped = time.monotonic()
        lab.stop_daemon(WORKER, "dockerd", timeout=10)
        asked = events.wait_for(
            lambda e: (
                e["tag"].startswith("salt/run/")
                and e["tag"].endswith("/new")
                and e["data"].get("fun") == "runner.swarm.retire"
            ),
            timeout=90,
            since=start,
        )
        asked_after = time.monotonic() - stopped
        wait_for(
            lambda: node_id not in {n["ID"] for n in swarms.node_list(lab, "host1")},
            120,
            f"{WORKER}'s node removed",
        )
        removed_after = time.monotonic() - stopped
    assert asked["data"]["fun_args"][-1]["nodes"] == [node_id], asked
    managers = [n for n in swarms.node_list(lab, "host1") if n["Spec"]["Role"] == "manager"]
    assert len(managers) == 3  # the managers stay
    print(
        f"\nreactor on the beacon: retire asked {asked_after:.1f} s after the stop, "
        f"node removed {removed_after:.1f} s after it"
    )
