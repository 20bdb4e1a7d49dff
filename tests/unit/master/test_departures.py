"""Minions gone (master/departures.py, runner swarm.retire; and the runner swarm.prune,
which shares its token rotation): only minions the master itself sees gone are
retired, their nodes found by the master's record and never by a hostname; drained
at once, removed once not Ready after the grace period, the join tokens rotated when
one went. One retire per minion at a time."""

import pytest
import salt.cache

from salt_swarm.core.errors import SwarmError
from salt_swarm.master import departures
from salt_swarm.master.fleet import BANK
from salt_swarm.runners import swarm as runner
from tests.unit.master.fakes import SILENT, Clock, Fail, FakeFleet, info, row

MANAGERS = ["m1", "m2", "m3"]
PILLAR = {"managers": "m*", "workers": "w*"}
ROTATE = {"rotate_worker_token": True, "rotate_manager_token": True}


def swarm_rows():
    return [
        row("n-m1", "m1", "manager", availability="drain", leader=True),
        row("n-m2", "m2", "manager", availability="drain"),
        row("n-m3", "m3", "manager", availability="drain"),
        row("n-w1", "w1"),
        row("n-w2", "w2"),
    ]


RECORD = {"n-m1": "m1", "n-m2": "m2", "n-m3": "m3", "n-w1": "w1", "n-w2": "w2"}


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(departures, "time", clock)
    return clock


@pytest.fixture
def make(monkeypatch, clock):
    """A fleet of three managers and workers w1..w3; ``gone``: no accepted key;
    ``connected``: seen connected by the master; ``up``: answers test.ping."""

    def build(gone=(), connected=(), up=(), rows=None, record=None):
        minions = [*MANAGERS, "w1", "w2", "w3"]
        fleet = FakeFleet(
            minions=minions,
            accepted=[m for m in minions if m not in gone],
            pillar=PILLAR,
            reports={m: info(f"n-{m}", m, manager=True) for m in MANAGERS if m not in gone},
            rows=swarm_rows() if rows is None else rows,
            record=RECORD if record is None else record,
        )
        fleet.handlers["test.ping"] = lambda m, a, k: True if m in up else SILENT
        fleet.handlers["swarm.remove_node"] = lambda m, a, k: {"steps": [f"removed {a[0]}"]}
        monkeypatch.setattr(
            departures.salt_internals,
            "connected_minions",
            lambda opts, among: {m for m in among if m in connected},
        )
        monkeypatch.setattr(salt.cache, "factory", lambda opts: fleet.cache)
        return fleet

    return build


def goes_down(fleet, node_id, after_sleeps=1):
    """A hook: the node goes Down at the ``after_sleeps``-th sleep."""

    def hook(clock):
        if len(clock.slept) == after_sleeps:
            fleet.row(node_id)["status"] = "down"

    return hook


def published(fleet):
    return [(p.tgt, p.fun, p.tgt_type) for p in fleet.client.published]


def retiring(fleet):
    return fleet.cache.fetch(BANK, departures.RETIRING)


def test_minions_the_master_sees_up_are_not_retired_and_the_swarm_is_not_asked(make):
    fleet = make(connected={"w1"}, up={"w2"})
    got = departures.retire(fleet, ["w1", "w2"], PILLAR, grace=300, down_wait=60)
    assert got == {
        "drained": [],
        "removed": [],
        "kept_ready": [],
        "refused": [],
        "not_lost": {"w1": "connected to the master", "w2": "answers test.ping"},
        "comment": "none of these minions is gone: nothing to do",
    }
    # Only the keyed minion that is not connected is pinged, by an exact list target.
    assert published(fleet) == [(["w2"], "test.ping", "list")]
    assert fleet.calls == [] and fleet.asked_infos == []
    assert retiring(fleet) == {}


def test_a_lost_worker_is_drained_then_removed_after_the_grace_and_the_tokens_rotated(make, clock):
    fleet = make(gone={"w1"})
    seen_while_waiting = []

    def during_grace(clock):
        if len(clock.slept) == 1:
            seen_while_waiting.append((fleet.changes(), retiring(fleet)))
            fleet.row("n-w1")["status"] = "down"

    clock.hooks.append(during_grace)
    start = clock.now
    got = departures.retire(fleet, ["w1"], PILLAR, grace=300, down_wait=60)
    assert got == {
        "drained": ["w1"],
        "removed": ["w1"],
        "kept_ready": [],
        "refused": [],
        "manager": "m1",
        "tokens_rotated": True,
    }
    # Drained before the grace period, held as retiring during it; nothing removed yet.
    ((changes, claim),) = seen_while_waiting
    assert changes == [("m1", "swarm.node_update", ["n-w1"], {"availability": "drain"})]
    assert claim == {"w1": start}
    assert clock.slept[0] == 300
    assert fleet.changes() == [
        ("m1", "swarm.node_update", ["n-w1"], {"availability": "drain"}),
        ("m1", "swarm.remove_node", ["n-w1"], {}),
        ("m1", "swarm.update", [], ROTATE),
    ]
    # No key: not pinged. The managers send their mine entries again (the new tokens).
    assert published(fleet) == [(["m1", "m2", "m3"], "swarm.mine_refresh", "list")]
    assert retiring(fleet) == {}  # released


def test_a_minion_with_a_key_that_neither_is_connected_nor_answers_is_lost(make, clock):
    fleet = make(rows=[*swarm_rows()[:3], row("n-w1", "w1", status="down")])
    got = departures.retire(fleet, ["w1"], PILLAR, grace=5, down_wait=5)
    assert published(fleet)[0] == (["w1"], "test.ping", "list")
    assert got["removed"] == ["w1"] and "not_lost" not in got


def test_only_the_minions_seen_gone_of_an_event_are_retired(make, clock):
    fleet = make(gone={"w1"}, connected={"w2"})
    clock.hooks.append(goes_down(fleet, "n-w1"))
    got = departures.retire(fleet, ["w2", "w1"], PILLAR, grace=1, down_wait=1)
    assert got["not_lost"] == {"w2": "connected to the master"}
    assert [c for c in fleet.changes() if c[1] != "swarm.update"] == [
        ("m1", "swarm.node_update", ["n-w1"], {"availability": "drain"}),
        ("m1", "swarm.remove_node", ["n-w1"], {}),
    ]


def test_a_node_ready_again_after_the_grace_and_down_wait_is_kept(make, clock):
    fleet = make(up=set())  # w1 has its key, is not connected and does not answer
    start = clock.now
    got = departures.retire(fleet, ["w1"], PILLAR, grace=10, down_wait=5)
    assert got["drained"] == ["w1"] and got["kept_ready"] == ["w1"]
    assert got["removed"] == [] and "tokens_rotated" not in got
    assert [c[1] for c in fleet.changes()] == ["swarm.node_update"]
    assert clock.slept[0] == 10 and clock.now - start <= 10 + 5 + 1


def test_a_node_that_goes_down_within_the_down_wait_is_removed_then(make, clock):
    fleet = make(gone={"w1"})
    clock.hooks.append(goes_down(fleet, "n-w1", after_sleeps=4))  # grace, then 3 polls
    got = departures.retire(fleet, ["w1"], PILLAR, grace=10, down_wait=30)
    assert got["removed"] == ["w1"] and got["kept_ready"] == []
    assert clock.slept == [10, 1, 1, 1]


def test_a_node_already_drained_is_not_drained_again(make, clock):
    rows = swarm_rows()
    rows[3].update(availability="drain", status="down")
    fleet = make(gone={"w1"}, rows=rows)
    got = departures.retire(fleet, ["w1"], PILLAR, grace=0, down_wait=0)
    assert got["drained"] == ["w1"] and got["removed"] == ["w1"]
    assert [c[1] for c in fleet.changes()] == ["swarm.remove_node", "swarm.update"]


def test_nodes_are_found_by_the_record_never_by_hostname(make, clock):
    """w3 is gone; one node calls itself w3 but the record gives it to w2 (which still
    has a key), another calls itself w3 and has no record: neither is w3's."""
    rows = [
        *swarm_rows(),
        row("n-x", "w3", status="down"),
        row("n-y", "w3", status="down"),
    ]
    fleet = make(gone={"w3"}, rows=rows, record={**RECORD, "n-x": "w2"})
    got = departures.retire(fleet, ["w3"], PILLAR, grace=300, down_wait=60)
    assert got["comment"] == "no swarm node belongs to these minions (by the master's record)"
    assert fleet.changes() == [] and fleet.client.published == []
    assert clock.slept == []  # no grace period waited for nothing


def test_a_lost_manager_is_not_asked_and_a_refused_removal_does_not_stop_the_others(make, clock):
    rows = swarm_rows()
    rows[2]["status"] = rows[3]["status"] = "down"
    fleet = make(gone={"m3", "w1"}, rows=rows)
    quorum = "refusing to remove manager m3: the swarm would lose its quorum"

    def remove(minion, args, kwargs):
        return Fail(quorum) if args == ["n-m3"] else {"steps": ["removed"]}

    fleet.handlers["swarm.remove_node"] = remove
    got = departures.retire(fleet, ["m3", "w1"], PILLAR, grace=0, down_wait=0)
    assert got["removed"] == ["w1"]
    assert got["refused"] == [f"m3: m1: swarm.remove_node: {quorum}"]
    assert got["tokens_rotated"] is True
    # The gone manager is neither asked for its report nor for the node list...
    assert fleet.asked_infos == [["m1", "m2"]]
    assert {c.minion for c in fleet.calls} == {"m1"}
    # ... nor sent the new tokens.
    assert published(fleet) == [(["m1", "m2"], "swarm.mine_refresh", "list")]
    assert retiring(fleet) == {}


def test_no_token_rotation_when_nothing_was_removed(make, clock):
    rows = swarm_rows()
    rows[3]["status"] = "down"
    fleet = make(gone={"w1"}, rows=rows)
    fleet.handlers["swarm.remove_node"] = Fail("refusing to remove w1: it is up")
    got = departures.retire(fleet, ["w1"], PILLAR, grace=0, down_wait=0)
    assert got["removed"] == [] and len(got["refused"]) == 1
    assert "tokens_rotated" not in got
    assert "swarm.update" not in [c[1] for c in fleet.changes()]
    assert fleet.client.published == []


def test_a_retire_under_way_is_not_started_again(make, clock):
    fleet = make(gone={"w1"})
    began = clock.now - 100
    fleet.cache.store(BANK, departures.RETIRING, {"w1": began})
    got = departures.retire(fleet, ["w1"], PILLAR, grace=300, down_wait=60)
    assert got["under_way"] == ["w1"]
    assert got["comment"] == "a retire of these minions is already under way"
    assert fleet.calls == [] and clock.slept == []
    assert retiring(fleet) == {"w1": began}  # the other run's claim is left as it was


def test_a_claim_older_than_any_retire_takes_does_not_block(make, clock):
    fleet = make(gone={"w1"})
    fleet.row("n-w1")["status"] = "down"
    stale = clock.now - (300 + 60 + 120 + 1)
    fleet.cache.store(BANK, departures.RETIRING, {"w1": stale, "w2": "garbage"})
    got = departures.retire(fleet, ["w1"], PILLAR, grace=300, down_wait=60)
    assert got["removed"] == ["w1"] and "under_way" not in got
    assert retiring(fleet) == {}


def test_the_claim_is_released_when_the_retire_fails(make, clock):
    fleet = make(gone={"w1"})
    fleet.reports = {m: Fail("Cannot connect to the Docker daemon") for m in MANAGERS}
    with pytest.raises(SwarmError, match="no active manager could list the nodes"):
        departures.retire(fleet, ["w1"], PILLAR, grace=300, down_wait=60)
    assert retiring(fleet) == {}
    assert fleet.changes() == []


# ---- swarm.prune (the runner; by hand, the one place a manager's node is removed) ----


@pytest.fixture
def prune(monkeypatch, make):
    context = {}
    monkeypatch.setattr(runner, "__context__", context, raising=False)

    def run(fleet, test=False):
        monkeypatch.setattr(runner, "_fleet", lambda timeout=10: fleet)
        return runner.prune(test=test), context

    return run


def prune_rows():
    return [
        *swarm_rows(),
        row("n-w2-old", "w2", status="down"),  # w2 rebuilt: its old twin
        row("n-w3", "w3", status="down"),  # w3 gone (no key)
        row("n-m4", "m4", "manager", status="down", reachability="unreachable"),
    ]


def test_prune_in_test_mode_asks_each_removal_as_a_test_and_rotates_nothing(make, prune):
    fleet = make(gone={"w3"}, rows=prune_rows(), record={**RECORD, "n-m4": "m1"})
    got, context = prune(fleet, test=True)
    assert [(c[0], c[1], c[2], c[3]) for c in fleet.changes()] == [
        ("m1", "swarm.remove_node", ["n-w2-old"], {"test": True}),
        ("m1", "swarm.remove_node", ["n-w3"], {"test": True}),
    ]
    assert [e["reason"] for e in got["removed"]] == [
        "a Ready node named w2 replaced it",
        "minion w3 is gone (no accepted key)",
    ]
    # m4's node is Down, but the record gives it to m1, which has its key: kept.
    assert got["kept"] == ["m4 (n-m4): down, but minion m1 still has a key"]
    assert "tokens_rotated" not in got and fleet.client.published == []
    assert context == {}


def test_prune_removes_a_gone_minions_node_and_rotates_the_tokens(make, prune):
    fleet = make(gone={"w3"}, rows=[*swarm_rows(), prune_rows()[6]])
    got, context = prune(fleet)
    assert [c[2] for c in fleet.changes() if c[1] == "swarm.remove_node"] == [["n-w3"]]
    assert fleet.changes()[-1] == ("m1", "swarm.update", [], ROTATE)
    assert got["tokens_rotated"] is True and got["refused"] == []
    assert (["m1", "m2", "m3"], "swarm.mine_refresh", "list") in published(fleet)
    assert context == {}


def test_prune_of_a_rebuilt_hosts_twin_alone_keeps_the_tokens(make, prune):
    fleet = make(rows=prune_rows()[:6])
    got, _ = prune(fleet)
    assert [e["id"] for e in got["removed"]] == ["n-w2-old"]
    assert "swarm.update" not in [c[1] for c in fleet.changes()]
    assert "tokens_rotated" not in got


def test_prune_names_a_refused_removal_and_fails(make, prune):
    fleet = make(gone={"w3"}, rows=[*swarm_rows(), prune_rows()[6]])
    fleet.handlers["swarm.remove_node"] = Fail("refusing to remove n-w3: quorum")
    got, context = prune(fleet)
    assert got["removed"] == []
    assert got["refused"][0]["error"] == "m1: swarm.remove_node: refusing to remove n-w3: quorum"
    assert "tokens_rotated" not in got
    assert context == {"retcode": 1}


# ---- swarm.retire nodes=[...] (the swarm beacon's node down, through the reactor) ----

W1, M2 = "w1".ljust(25, "0"), "m2".ljust(25, "0")


def beacon_rows(w1_status="down"):
    return [
        row("n-m1", "m1", "manager", availability="drain", leader=True),
        row(M2, "m2", "manager", availability="drain", status="down", reachability="unreachable"),
        row("n-m3", "m3", "manager", availability="drain"),
        row(W1, "w1", status=w1_status),
        row("w2".ljust(25, "0"), "w2"),
    ]


def test_a_worker_node_down_is_drained_then_removed_even_with_its_minion_up(make, clock):
    fleet = make(rows=beacon_rows(), connected={"w1"})
    got = departures.retire_nodes(fleet, [W1], grace=300, down_wait=60)
    assert got["drained"] == ["w1"] and got["removed"] == ["w1"], got
    assert got["tokens_rotated"] is True
    assert fleet.changes() == [
        ("m1", "swarm.node_update", [W1], {"availability": "drain"}),
        ("m1", "swarm.remove_node", [W1], {}),
        ("m1", "swarm.update", [], ROTATE),
    ]
    assert clock.slept[0] == 300
    assert fleet.cache.fetch(BANK, departures.RETIRING_NODES) == {}


def test_managers_ready_and_unlisted_nodes_are_left_alone_by_node(make, clock):
    fleet = make(rows=beacon_rows(w1_status="ready"))
    unknown = "z".ljust(25, "0")
    got = departures.retire_nodes(fleet, [W1, M2, unknown], grace=300, down_wait=60)
    assert got["not_retired"] == {
        W1: "w1 is Ready",
        M2: "m2 is a manager: never removed automatically",
        unknown: "not in the managers' list",
    }
    assert got["comment"] == "no listed worker node is down: nothing to do"
    assert fleet.changes() == [] and clock.slept == []


@pytest.mark.parametrize("nodes", [[], ["*"], ["n-w1"], [{"id": "x"}], ["A" * 25]])
def test_what_is_no_node_id_is_refused_before_anything(make, clock, nodes):
    fleet = make(rows=beacon_rows())
    with pytest.raises(SwarmError, match="expected Docker node ids"):
        departures.retire_nodes(fleet, nodes, grace=0, down_wait=0)
    assert fleet.calls == []


def test_a_node_retire_under_way_is_not_started_again(make, clock):
    fleet = make(rows=beacon_rows())
    fleet.cache.store(BANK, departures.RETIRING_NODES, {W1: clock.now - 10})
    got = departures.retire_nodes(fleet, [W1], grace=300, down_wait=60)
    assert got["under_way"] == [W1] and fleet.changes() == []


def test_the_runner_takes_minions_or_nodes_not_both(monkeypatch):
    monkeypatch.setattr(runner, "__context__", {}, raising=False)
    both = runner.retire(minions=["w1"], nodes=[W1])
    assert both["retcode"] == 1 and "give minions or nodes" in both["error"]
