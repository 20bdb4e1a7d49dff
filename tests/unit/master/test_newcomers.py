"""A minion that started joins by its pillar role (master/newcomers.py, runner
swarm.join_minion, run by the reactor): the event's id and tag, the key and the
pillar are checked before anything is published; a member already in its role gets
nothing; a new node gets its availability and labels only when its report holds up
and it is new in the managers' list; a rebuilt worker's old node goes once Down, a
manager's never."""

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.master import newcomers
from tests.unit.master.fakes import SILENT, Clock, Fail, FakeFleet, info, manager_mine, row

MINIONS = ["m1", "m2", "m3", "w1", "w2", "w3", "x1"]
PILLAR = {
    "managers": "m*",
    "workers": "w*",
    "labels": [{"tgt": "w3", "labels": {"zone": "a"}}, {"tgt": "m*", "labels": {"tier": "ctl"}}],
}
NEW = info(None, "", state="inactive")


def swarm_rows():
    return [
        row("n-m1", "m1", "manager", availability="drain", leader=True),
        row("n-m2", "m2", "manager", availability="drain"),
        row("n-w1", "w1", availability="drain"),  # drained by an operator
    ]


def reports():
    return {
        "m1": info("n-m1", "m1", manager=True),
        "m2": info("n-m2", "m2", manager=True),
        "w1": info("n-w1", "w1"),
        "m3": dict(NEW, hostname="m3"),
        "w3": dict(NEW, hostname="w3"),
    }


RECORD = {"n-m1": "m1", "n-m2": "m2", "n-w1": "w1"}


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(newcomers, "time", clock)
    return clock


@pytest.fixture
def master(monkeypatch, clock):
    """The master's mine (pillar's managers' entries) and cached grains."""
    state = {"mine": {"m1": manager_mine(), "m2": manager_mine("198.18.0.2:2377")}, "grains": {}}
    monkeypatch.setattr(
        newcomers.salt_internals,
        "cached_mine",
        lambda opts, ms: {m: state["mine"][m] for m in ms if m in state["mine"]},
    )
    monkeypatch.setattr(
        newcomers.salt_internals, "cached_grains", lambda opts, m: state["grains"].get(m, {})
    )
    return state


def make(pillar=PILLAR, **kw):
    fleet = FakeFleet(
        minions=MINIONS,
        accepted=kw.get("accepted"),
        pillar=pillar,
        reports=kw.get("reports", reports()),
        rows=kw.get("rows", swarm_rows()),
        record=kw.get("record", RECORD),
    )
    fleet.handlers["swarm.join"] = joins_as(fleet)
    fleet.handlers["swarm.node_update"] = lambda m, a, k: {"changed": True, "node": a[0]}
    fleet.handlers["swarm.remove_node"] = lambda m, a, k: {"steps": [f"remove {a[0]}"]}
    return fleet


def joins_as(fleet, node_id=None, hostname=None, listed=True):
    """swarm.join on a minion: its node appears (``listed``) and it reports it."""

    def join(minion, args, kwargs):
        new_id = node_id or f"n-{minion}-new"
        fleet.reports[minion] = info(new_id, minion, manager=kwargs["role"] == "manager")
        if listed and not any(r["id"] == new_id for r in fleet.rows):
            host = minion if hostname is None else hostname
            fleet.rows.append(row(new_id, host, kwargs["role"]))
        return {"changed": True, "node_id": new_id}

    return join


def nothing_asked(fleet):
    return fleet.calls == [] and fleet.client.published == [] and fleet.asked_infos == []


@pytest.mark.parametrize(
    "hostile",
    ["", "../../etc/passwd", "w3/../m1", "a\\b", "w3\0", ".", "..", "x" * 256, None, 42, ["w3"]],
)
def test_an_id_salt_would_refuse_is_refused_before_anything_is_asked(master, hostile):
    # Even were it among the accepted keys, and with no tag to compare it with.
    fleet = make(accepted=[*MINIONS, *([hostile] if isinstance(hostile, str | int) else [])])
    with pytest.raises(SwarmError, match="^minion: "):
        newcomers.join_minion(fleet, hostile)
    assert nothing_asked(fleet)


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("salt/minion/m1/start", "names another minion than its sender"),
        ("salt/minion/m1/w3/start", "names another minion than its sender"),
        ("salt/minion/w3/start/extra", "is not a minion start tag"),
        ("salt/key", "is not a minion start tag"),
        (["salt/minion/w3/start"], "is not a minion start tag"),
    ],
)
def test_a_tag_that_does_not_name_its_sender_is_refused_before_anything_is_asked(master, tag, why):
    fleet = make()
    with pytest.raises(SwarmError, match=why):
        newcomers.join_minion(fleet, "w3", tag)
    assert nothing_asked(fleet)


def test_a_minion_without_an_accepted_key_is_refused_before_anything_is_asked(master):
    fleet = make(accepted=[m for m in MINIONS if m != "w3"])
    with pytest.raises(SwarmError, match="^w3 has no accepted key$"):
        newcomers.join_minion(fleet, "w3", "salt/minion/w3/start")
    assert nothing_asked(fleet)


def test_role_targets_on_grains_are_refused_before_anything_is_asked(master):
    pillar = {**PILLAR, "workers": {"tgt": "role:worker", "tgt_type": "grain"}}
    fleet = make(pillar)
    with pytest.raises(SwarmError, match="swarm:workers"):
        newcomers.join_minion(fleet, "w3")
    assert nothing_asked(fleet)


def test_a_minion_in_no_role_gets_nothing(master):
    fleet = make()
    got = newcomers.join_minion(fleet, "x1", "salt/minion/x1/start")
    assert got == {
        "minion": "x1",
        "role": None,
        "joined": False,
        "node": {},
        "comment": "in no swarm role",
    }
    assert nothing_asked(fleet)


def test_before_the_bootstrap_no_minion_is_asked(master):
    master["mine"] = {}
    fleet = make()
    got = newcomers.join_minion(fleet, "w3")
    assert got["role"] == "worker" and got["comment"] == newcomers.NO_MANAGER_IN_MINE
    assert nothing_asked(fleet)


def test_a_managers_own_mine_entries_are_not_its_way_in(master):
    """m2 restarts: only its own entries are in the mine; it is not joined through them."""
    master["mine"] = {"m2": manager_mine()}
    fleet = make()
    got = newcomers.join_minion(fleet, "m2")
    assert got["comment"] == newcomers.NO_MANAGER_IN_MINE
    assert nothing_asked(fleet)


def test_without_an_active_manager_nothing_is_joined(master):
    fleet = make()
    fleet.reports["m1"] = Fail("Cannot connect to the Docker daemon")
    fleet.reports["m2"] = SILENT
    got = newcomers.join_minion(fleet, "w3")
    assert got["comment"] == "no active manager yet: swarm.bootstrap creates the swarm"
    assert fleet.asked_infos == [["m1", "m2", "m3", "w3"]]
    assert fleet.changes() == []


def test_a_member_in_its_role_is_left_as_it_is(master):
    """w1 is an active worker, drained by an operator: its start event changes nothing."""
    fleet = make()
    got = newcomers.join_minion(fleet, "w1", "salt/minion/w1/start")
    assert got["joined"] is False
    assert (
        got["comment"] == "already a worker of the swarm: a start event changes nothing on a member"
    )
    assert fleet.changes() == []


def test_a_new_worker_joins_and_gets_its_settings_on_its_new_node(master):
    fleet = make()
    got = newcomers.join_minion(fleet, "w3", "salt/minion/w3/start")
    assert fleet.changes() == [
        ("w3", "swarm.join", [], {"role": "worker"}),
        (
            "m1",
            "swarm.node_update",
            ["n-w3-new"],
            {"availability": "active", "labels": {"zone": "a"}, "labels_owned": None},
        ),
    ]
    join = next(c for c in fleet.calls if c.fun == "swarm.join")
    assert join.timeout == 120
    assert got == {
        "minion": "w3",
        "role": "worker",
        "joined": True,
        "node": {"changed": True, "node": "n-w3-new"},
        "stale_removed": [],
    }
    assert fleet.node_record()["n-w3-new"] == "w3"  # its report held up: recorded


@pytest.mark.parametrize(("drain", "availability"), [(None, "drain"), (False, "active")])
def test_a_new_manager_sends_its_mine_entries_and_is_drained_as_pillar_says(
    master, drain, availability
):
    pillar = PILLAR if drain is None else {**PILLAR, "drain_managers": drain}
    fleet = make(pillar)
    got = newcomers.join_minion(fleet, "m3")
    assert fleet.changes() == [
        ("m3", "swarm.join", [], {"role": "manager"}),
        ("m3", "swarm.mine_refresh", [], {}),
        (
            "m1",
            "swarm.node_update",
            ["n-m3-new"],
            {"availability": availability, "labels": {"tier": "ctl"}, "labels_owned": None},
        ),
    ]
    assert got["role"] == "manager" and got["joined"] is True


def test_grain_labels_are_the_rules_keys_and_pillars_labels_win(master):
    master["grains"]["w3"] = {
        "rack": {"zone": "b", "row": 7, "bad key!": "x", "nested": {"a": 1}},
        "os": "Linux",
    }
    pillar = {
        **PILLAR,
        "grain_labels": [{"grain": "rack", "prefix": "rack."}],
        "labels": [{"tgt": "w3", "labels": {"rack.zone": "a"}}],
    }
    fleet = make(pillar)
    newcomers.join_minion(fleet, "w3")
    update = next(c for c in fleet.calls if c.fun == "swarm.node_update")
    assert update.kwargs["labels"] == {"rack.zone": "a", "rack.row": "7"}
    assert update.kwargs["labels_owned"] == ["rack.*"]


def test_a_report_that_does_not_hold_up_is_refused_before_the_join(master):
    """w3 says it runs n-w1, which the record gives to w1 (which has its key)."""
    fleet = make()
    fleet.reports["w3"] = info("n-w1", "w3")
    with pytest.raises(SwarmError, match="does not hold up: .*record gives to w1"):
        newcomers.join_minion(fleet, "w3")
    assert fleet.changes() == []


def test_a_minion_whose_dockerd_is_down_is_not_joined(master):
    fleet = make()
    fleet.reports["w3"] = Fail("Cannot connect to the Docker daemon")
    with pytest.raises(SwarmError, match=r"swarm.info failed \(is its dockerd running\?\)"):
        newcomers.join_minion(fleet, "w3")
    assert fleet.changes() == []


def test_a_node_that_was_there_before_the_join_gets_no_settings(master):
    """After its join w3 reports n-w2, a node listed before: not its new node."""
    fleet = make(rows=[*swarm_rows(), row("n-w2", "w3")])
    fleet.handlers["swarm.join"] = joins_as(fleet, node_id="n-w2")
    with pytest.raises(SwarmError, match="reports node n-w2, which was in the swarm before"):
        newcomers.join_minion(fleet, "w3")
    assert [c[1] for c in fleet.changes()] == ["swarm.join"]


def test_a_node_the_managers_never_list_gets_no_settings(master, clock):
    fleet = make()
    fleet.handlers["swarm.join"] = joins_as(fleet, listed=False)
    start = clock.now
    with pytest.raises(
        SwarmError, match=r"do not list the node it reports \(n-w3-new\) after 20 s"
    ):
        newcomers.join_minion(fleet, "w3")
    assert [c[1] for c in fleet.changes()] == ["swarm.join"]
    assert newcomers.LISTED_WAIT <= clock.now - start <= newcomers.LISTED_WAIT + 1


def test_a_new_node_is_waited_for_until_it_is_listed_with_its_hostname(master, clock):
    fleet = make()
    fleet.handlers["swarm.join"] = joins_as(fleet, hostname="")  # no description yet

    def described(clock):
        if len(clock.slept) == 3:
            fleet.row("n-w3-new")["hostname"] = "w3"

    clock.hooks.append(described)
    got = newcomers.join_minion(fleet, "w3")
    assert got["node"] == {"changed": True, "node": "n-w3-new"}
    assert clock.slept == [0.5, 0.5, 0.5]


def test_a_new_node_listed_under_another_hostname_gets_no_settings(master):
    fleet = make()
    fleet.handlers["swarm.join"] = joins_as(fleet, hostname="m1")
    with pytest.raises(SwarmError, match="report about its node does not hold up"):
        newcomers.join_minion(fleet, "w3")
    assert [c[1] for c in fleet.changes()] == ["swarm.join"]
    assert "n-w3-new" not in fleet.node_record()


def test_a_rebuilt_workers_old_node_is_removed_once_down(master, clock):
    fleet = make(rows=[*swarm_rows(), row("n-w3-old", "w3")], record={**RECORD, "n-w3-old": "w3"})
    fleet.reports["w3"] = dict(NEW, hostname="w3")

    def old_goes_down(clock):
        if len(clock.slept) == 2:
            fleet.row("n-w3-old")["status"] = "down"

    clock.hooks.append(old_goes_down)
    got = newcomers.join_minion(fleet, "w3")
    assert got["stale_removed"] == [
        {"id": "n-w3-old", "hostname": "w3", "steps": ["remove n-w3-old"]}
    ]
    assert fleet.changes()[-1] == ("m1", "swarm.remove_node", ["n-w3-old"], {})


def test_a_rebuilt_workers_old_node_still_ready_is_left(master, clock):
    fleet = make(rows=[*swarm_rows(), row("n-w3-old", "w3")], record={**RECORD, "n-w3-old": "w3"})
    got = newcomers.join_minion(fleet, "w3")
    assert got["stale_removed"] == []
    assert "swarm.remove_node" not in [c[1] for c in fleet.changes()]
    assert clock.now <= 1_000_000 + 60 + 1


def test_a_rebuilt_managers_old_node_is_never_removed_here(master, clock):
    old = row("n-m3-old", "m3", "manager", status="down", reachability="unreachable")
    fleet = make(rows=[*swarm_rows(), old], record={**RECORD, "n-m3-old": "m3"})
    got = newcomers.join_minion(fleet, "m3")
    assert got["joined"] is True and got["stale_removed"] == []
    assert "swarm.remove_node" not in [c[1] for c in fleet.changes()]
    assert clock.slept == []


def test_workers_without_managers_in_pillar_is_an_error_the_runner_can_return(master):
    fleet = make({"workers": "w*"})
    try:
        got = newcomers.join_minion(fleet, "w3")
    except SwarmError:
        pass
    else:
        assert got["joined"] is False and got.get("comment")
    assert fleet.changes() == []
