"""A minion outside every role (outsider1) and a compromised worker (host4) try to
take over the swarm or the master, with real daemons, and fail: hostile ids in the
reactor, forged start/presence/key events, fake mine entries, a grain that makes a
manager, a dockerd that reports a manager's node, the manager token, a sealed token
replayed from the job cache. After each attempt every dockerd's swarm state and node
list are as before (but for what the attack may touch: its own node), no command ran
anywhere, and the manager token was never readable by the attacker. The normal paths
still work: the bootstrap (the module's swarm), a really lost minion retired (tokens
rotated), a new minion joined by the reactor. docs/security.md lists these attacks.
"""

import json
import secrets

import pytest

from lab import swarms
from lab.wait import wait_for
from tests.integration import hostile
from tests.integration.conftest import (
    PILLARS,
    SECRET,
    orchestrate,
    pillar_variant,
    swarm_for_the_module,
    switch_pillar,
)

pytestmark = pytest.mark.own_pillar

PILLAR = PILLARS / "hostile"
MANAGERS = ["host1", "host2", "host3"]
MEMBERS = [*MANAGERS, "host4", "host5"]
OUTSIDER = "outsider1"


@pytest.fixture(scope="module")
def hostile_swarm(lab, lab_hosts):
    """host1-3 managers, host4-5 workers, outsider1 in no role; built by the orchestrate."""
    lab.up([*lab_hosts, "host5", OUTSIDER])
    with swarm_for_the_module(lab, PILLAR) as run:
        yield run


def fingerprints(lab, hosts=MEMBERS) -> dict:
    """Each member's dockerd: its swarm state, and on managers every node (no status)."""
    return {h: hostile.without_status(hostile.fingerprint(lab, h)) for h in hosts}


def runner_job(bus, fun: str, since: int, timeout: float = 60, match=lambda kwargs: True):
    """The kwargs and the return of the next runner job ``fun`` the reactor started."""

    def started(event):
        data = event["data"]
        if not (event["tag"].startswith("salt/run/") and event["tag"].endswith("/new")):
            return False
        kwargs = (data.get("fun_args") or [{}])[-1]
        return data["fun"] == f"runner.{fun}" and isinstance(kwargs, dict) and match(kwargs)

    new = bus.wait_for(started, timeout=timeout, since=since)
    jid = new["data"]["jid"]
    ret = bus.wait_for(f"salt/run/{jid}/ret", timeout=timeout, since=since)
    return new["data"]["fun_args"][-1], ret["data"]["return"]


def no_injected_job(bus) -> None:
    """No ``test.echo`` job (what the injected ids would add) was published: the
    marker itself is in the ids, so events about those minions carry it anyway."""
    hits = [
        e["tag"]
        for e in bus.events
        if e["tag"].startswith("salt/job/") and e["data"].get("fun") == "test.echo"
    ]
    assert hits == [], hits


def manager_token(lab) -> str:
    client = lab.docker_client("host1")
    try:
        return client.api.inspect_swarm()["JoinTokens"]["Manager"]
    finally:
        client.close()


def injected(marker: str) -> str:
    """A minion id that, pasted raw into a reactor SLS, adds a job on host1 carrying
    ``marker`` (no ``/``: Salt refuses it in ids; no glob characters or commas, which
    ``salt-key -d`` would expand)."""
    return (
        f"x:\n  local.test.echo:\n    - tgt: host1\n    - arg:\n      - {marker}\n"
        "swarm join minion y"
    )


def test_hostile_ids_in_the_reactor_stay_data(lab, hostile_swarm):
    before = fingerprints(lab)
    marker = f"pwned-{secrets.token_hex(4)}"
    evil = injected(marker)
    with hostile.MasterEvents(lab) as bus:
        # A host registers that id where keys are accepted automatically, and starts.
        since = bus.mark()
        with hostile.extra_minion(lab, OUTSIDER, evil):
            kwargs, ret = runner_job(bus, "swarm.join_minion", since)
        assert kwargs["minion"] == evil, kwargs  # one value, byte for byte
        assert kwargs["event_tag"] == f"salt/minion/{evil}/start"
        assert ret["comment"] == "in no swarm role", ret

        # A pending key with such an id, deleted by the operator.
        pending_id = injected(marker + "k").replace("swarm join", "swarm retire")
        since = bus.mark()
        with hostile.pending_key(lab, pending_id) as key:
            assert key.listed()
            assert key.delete_as_operator().returncode == 0
            kwargs, ret = runner_job(
                bus, "swarm.retire", since, match=lambda k: k.get("minions") == [pending_id]
            )
        assert "no swarm node belongs" in ret.get("comment", ""), ret
        no_injected_job(bus)
    assert fingerprints(lab) == before


def test_forged_start_events_change_nothing(lab, hostile_swarm):
    before = fingerprints(lab)
    with hostile.MasterEvents(lab) as bus:
        # An outsider names a manager in the tag: the master sets data["id"] to the sender.
        since = bus.mark()
        res = hostile.fire_from(lab, OUTSIDER, "salt/minion/host1/start", {})
        assert res.returncode == 0, res.stdout + res.stderr
        kwargs, ret = runner_job(bus, "swarm.join_minion", since)
        assert kwargs == {"minion": OUTSIDER, "event_tag": "salt/minion/host1/start"}
        assert "forged start event" in ret["error"], ret

        # The same as a batch (a syndic's way): data["id"] is the sender's word there.
        since = bus.mark()
        res = hostile.fire_events_from(
            lab, OUTSIDER, [("salt/minion/host1/start", {"id": "host1"})]
        )
        assert res.returncode == 0, res.stdout + res.stderr
        _, ret = runner_job(bus, "swarm.join_minion", since, match=lambda k: k["minion"] == "host1")
        assert "a start event changes nothing on a member" in ret["comment"], ret
    assert fingerprints(lab) == before

    # An operator drains the worker; its own start event does not undo that.
    res = lab.salt_json("host1", "swarm.node_update", "host4", "availability=drain")
    assert res.retcode == 0, res.output
    drained = fingerprints(lab)
    try:
        with hostile.MasterEvents(lab) as bus:
            since = bus.mark()
            hostile.fire_from(lab, "host4", "salt/minion/host4/start", {})
            _, ret = runner_job(bus, "swarm.join_minion", since)
            assert "changes nothing on a member" in ret["comment"], ret
        assert fingerprints(lab) == drained
        node = swarms.node_states(lab, "host1")["host4"]
        assert node["Spec"]["Availability"] == "drain"
    finally:
        lab.salt_json("host1", "swarm.node_update", "host4", "availability=active")


def test_forged_presence_and_key_events_change_nothing(lab, hostile_swarm):
    before = fingerprints(lab)
    lost = ["host1", "host2", "host4"]
    with hostile.MasterEvents(lab) as bus:
        since = bus.mark()
        res = hostile.fire_events_from(
            lab, OUTSIDER, [("salt/presence/change", {"lost": lost, "new": []})]
        )
        assert res.returncode == 0, res.stdout + res.stderr
        kwargs, ret = runner_job(bus, "swarm.retire", since, match=lambda k: k["minions"] == lost)
        assert sorted(ret["not_lost"]) == sorted(lost), ret
        assert ret["drained"] == [] and ret["removed"] == [], ret

        # salt/key from a minion: a batch drops it; a single event gets the sender's id.
        marker = secrets.token_hex(4)
        since = bus.mark()
        hostile.fire_events_from(
            lab, OUTSIDER, [("salt/key", {"act": "delete", "id": "host2", "marker": marker})]
        )
        res = hostile.fire_from(
            lab, OUTSIDER, "salt/key", {}, preload={"act": "delete", "id": "host2"}
        )
        assert res.returncode == 0, res.stdout + res.stderr
        kwargs, ret = runner_job(bus, "swarm.retire", since)
        assert kwargs["minions"] == [OUTSIDER], kwargs
        assert OUTSIDER in ret["not_lost"], ret
        hits = [
            e for e in bus.events if e["tag"] == "salt/key" and e["data"].get("marker") == marker
        ]
        assert hits == [], hits  # the batched salt/key never reached the bus
    assert fingerprints(lab) == before


def test_a_worker_that_reports_a_managers_node_changes_nothing(lab, hostile_swarm):
    before = fingerprints(lab)
    host1 = before["host1"]["swarm"]
    lie = {"NodeID": host1["NodeID"], "NodeAddr": lab.addr("host1")}
    record_before = json.loads(
        lab.salt_run("cache.fetch", "salt_swarm", "node_minions", "--out=json").stdout
    )
    assert record_before[host1["NodeID"]] == "host1"
    with hostile.MasterEvents(lab) as bus:
        since = bus.mark()
        with hostile.LyingDockerd(lab, "host4", swarm=lie, name="host1") as liar:
            # Its minion restarted on the liar: the reactor's join asks it, and refuses.
            _, ret = runner_job(
                bus, "swarm.join_minion", since, match=lambda k: k["minion"] == "host4"
            )
            assert "does not hold up" in ret["error"] and host1["NodeID"] in ret["error"], ret
            assert liar.lies > 0

            run = orchestrate(lab)
            assert not run.ok, run.out
            assert "swarm bootstrap refused before any change" in run.out
            assert "host4: its report about its node does not hold up" in run.out, run.out

            status = lab.salt_run("swarm.status", "--out=json")
            assert status.returncode == 0, status.stdout + status.stderr
            assert fingerprints(lab) == before
    record = json.loads(
        lab.salt_run("cache.fetch", "salt_swarm", "node_minions", "--out=json").stdout
    )
    assert record[host1["NodeID"]] == "host1"
    assert "host4" not in {record.get(host1["NodeID"])}
    assert fingerprints(lab) == before
    run = orchestrate(lab)
    assert run.ok and run.changed == 0, run.out


def test_a_compromised_worker_cannot_get_the_manager_token(lab, hostile_swarm):
    token = manager_token(lab)
    for tgt, tgt_type in (
        ("*", "glob"),
        ("host1", "glob"),
        ("host[1-3]", "glob"),
        ("G@id:host1", "compound"),
    ):
        for who in ("host4", OUTSIDER):
            res = lab.salt_json(who, "mine.get", tgt, "swarm.manager_token", f"tgt_type={tgt_type}")
            assert res.data[who] == {}, (who, tgt, res.output)
            assert token not in res.output
    res = lab.salt_json(OUTSIDER, "mine.get", "*", "swarm.worker_token")
    assert res.data[OUTSIDER] == {} and not SECRET.search(res.output)
    # Out of the swarm, it asks to join as a manager through the mine: no token for it.
    swarms.leave(lab, "host4")
    res = lab.salt_json("host4", "swarm.join", "role=manager", "mine_timeout=2")
    assert res.retcode != 0 and "allowed to read the manager token" in res.output, res.output
    assert token not in res.output
    assert swarms.local_state(lab, "host4")["LocalNodeState"] == "inactive"
    run = orchestrate(lab)  # back as the worker pillar makes it
    assert run.ok, run.out


def test_a_grain_does_not_make_a_manager(lab, hostile_swarm, tmp_path):
    before = fingerprints(lab)
    res = lab.salt_json("host4", "grains.setval", "swarm_role", "manager")
    assert res.retcode == 0, res.output
    try:
        # Roles by minion id: the grain changes nothing.
        res = lab.salt_json("host4", "state.apply", "swarm")
        assert res.retcode == 0, res.output
        assert fingerprints(lab) == before
        # Roles by grain: refused before any change, by the plan and by the highstate.
        by_grain = pillar_variant(
            tmp_path,
            PILLAR,
            **{
                "managers: {tgt: 'host[1-3]'}": "managers: {tgt: 'swarm_role:manager', tgt_type: grain}"
            },
        )
        switch_pillar(lab, by_grain)
        run = orchestrate(lab)
        assert not run.ok and "matches on grains" in run.out, run.out
        res = lab.salt_json("host4", "state.apply", "swarm")
        assert res.retcode != 0 and "matches on grains" in res.output, res.output
        assert fingerprints(lab) == before
    finally:
        lab.salt_json("host4", "grains.delkey", "swarm_role")
        switch_pillar(lab, PILLAR)


def test_fake_mine_entries_are_never_read(lab, hostile_swarm):
    # The outsider runs a swarm of its own and offers it under the swarm's mine names.
    client = lab.docker_client(OUTSIDER)
    try:
        client.swarm.init(advertise_addr=lab.addr(OUTSIDER), default_addr_pool=["198.19.128.0/24"])
        own = client.api.inspect_swarm()
    finally:
        client.close()
    fake = {
        "swarm.manager_addr": f"{lab.addr(OUTSIDER)}:2377",
        "swarm.worker_token": {"cluster_id": own["ID"], "worker": own["JoinTokens"]["Worker"]},
        "swarm.manager_token": {"cluster_id": own["ID"], "manager": own["JoinTokens"]["Manager"]},
    }
    try:
        for alias, value in fake.items():
            assert hostile.send_mine(lab, OUTSIDER, alias, value) is True
            assert hostile.send_mine(lab, "host4", alias, value) is True  # a member lies too
        swarms.leave(lab, "host5")
        # A worker joining through the mine, and the orchestrate, join the real swarm.
        res = lab.salt_json("host5", "swarm.join")
        assert res.retcode == 0, res.output
        state = swarms.local_state(lab, "host5")
        real = {f"{lab.addr(m)}:2377" for m in MANAGERS}
        assert {m["Addr"] for m in state["RemoteManagers"]} <= real, state
        swarms.leave(lab, "host5")
        run = orchestrate(lab)
        assert run.ok, run.out
        assert "host5" in swarms.node_states(lab, "host1")
        assert fake["swarm.worker_token"]["worker"] not in run.out
    finally:
        swarms.leave(lab, OUTSIDER)
        lab.salt_json("-L", f"{OUTSIDER},host4", "mine.flush")


def test_a_sealed_token_from_the_job_cache_does_not_open_again(lab, hostile_swarm):
    jobs = json.loads(
        lab.salt_run("jobs.list_jobs", "search_function=swarm.join", "--out=json").stdout
    )
    sealed_job = None
    for jid in sorted(jobs, reverse=True):
        args = json.loads(lab.salt_run("jobs.list_job", jid, "--out=json").stdout)
        for arg in args.get("Arguments", []):
            # Either {minion: sealed} or a reference each joiner fetches its own with.
            if isinstance(arg, dict) and "sealed_token" in arg and "host4" in str(args["Target"]):
                sealed_job = arg
                break
        if sealed_job:
            break
    assert sealed_job, "no swarm.join job with a sealed token for host4 in the job cache"
    swarms.leave(lab, "host4")
    res = lab.salt_json(
        "host4",
        "swarm.join",
        "role=worker",
        f"managers={json.dumps(sealed_job['managers'])}",
        f"sealed_token={json.dumps(sealed_job['sealed_token'])}",
    )
    assert res.retcode != 0, res.output
    assert "opens only in the job that carried it" in res.output, res.output
    assert swarms.local_state(lab, "host4")["LocalNodeState"] == "inactive"
    run = orchestrate(lab)
    assert run.ok, run.out


def test_a_really_lost_minion_is_retired_and_a_new_one_joins_by_the_reactor(lab, hostile_swarm):
    old_token = lab.docker_client("host1").api.inspect_swarm()["JoinTokens"]["Worker"]
    lab.stop_daemon("host5", "minion")
    lab.stop_daemon("host5", "dockerd")
    try:
        with hostile.MasterEvents(lab) as bus:
            since = bus.mark()
            bus.fire("salt/presence/change", {"lost": ["host5"], "new": []})  # as the master
            _, ret = runner_job(bus, "swarm.retire", since, timeout=180)
        assert ret["removed"] == ["host5"] and ret.get("tokens_rotated"), ret
        assert "host5" not in swarms.node_states(lab, "host1")
        new_token = lab.docker_client("host1").api.inspect_swarm()["JoinTokens"]["Worker"]
        assert new_token != old_token

        def mine_has_new_token():
            res = lab.salt_json("host4", "mine.get", "host1", "swarm.worker_token")
            return (res.data["host4"].get("host1") or {}).get("worker") == new_token

        wait_for(mine_has_new_token, 30, "the managers' mine entries with the new token")
    finally:
        lab.start_daemon("host5", "dockerd")
        swarms.leave(lab, "host5")  # its dockerd still believed it was a member
        lab.start_daemon("host5", "minion")
    # host5 comes back as a new host: its start event joins it, with its pillar labels.
    wait_for(
        lambda: (
            (swarms.node_states(lab, "host1").get("host5") or {}).get("Spec", {}).get("Labels")
            == {"tier": "app"}
        ),
        90,
        "host5 joined by the reactor, with its labels",
    )
    assert swarms.local_state(lab, "host5")["LocalNodeState"] == "active"
