"""The helpers of hostile.py do what they say, against the lab's real daemons."""

import fnmatch
import json
import os

import docker
import pytest

from lab import swarms
from tests.integration import hostile

# An id that would add a state to any YAML it is pasted into raw.
EVIL_ID = "evil\nswarm x:\n  local.cmd.run:\n    - tgt: '*'"
# Colons, quotes, Jinja braces, a comma, unicode (two bytes, three, four).
ODD_ID = "db:1 'single' \"double\" {{ pillar }} {% raw %}, ünï ☃ 🐳"


def test_lying_dockerd_lies_in_info_only(lab):
    real = lab.docker_client("host1")
    lies = {
        "NodeID": "fakenodeid0000000000000000",
        "NodeAddr": "198.18.7.250",
        "ControlAvailable": True,
        "Cluster": {"ID": "fakeclusterid0000000000000"},
        "RemoteManagers": [{"NodeID": "fakenodeid0000000000000000", "Addr": "198.18.7.250:2377"}],
    }
    with hostile.LyingDockerd(
        lab, "host1", swarm=lies, name="not-host1", point_minion=False
    ) as liar:
        client = docker.DockerClient(base_url=liar.url, timeout=30)
        try:
            info = client.api.info()  # /v1.NN/info
            assert info["Name"] == "not-host1"
            assert {k: info["Swarm"][k] for k in lies} == lies
            truth = real.api.info()
            assert info["Swarm"]["LocalNodeState"] == truth["Swarm"]["LocalNodeState"]
            assert info["ID"] == truth["ID"] and truth["Name"] == "host1"
            plain = client.api.get(client.api.base_url + "/info").json()  # no version prefix
            assert plain["Swarm"]["NodeID"] == lies["NodeID"] and plain["Name"] == "not-host1"

            # Everything else passes unchanged: JSON, text, errors, bodies both ways.
            assert client.version()["Version"] == real.version()["Version"]
            assert client.api.get(client.api.base_url + "/_ping").text == "OK"
            with pytest.raises(docker.errors.APIError) as through_liar:
                client.api.inspect_swarm()
            with pytest.raises(docker.errors.APIError) as direct:
                real.api.inspect_swarm()
            assert through_liar.value.status_code == direct.value.status_code == 503
            assert through_liar.value.explanation == direct.value.explanation
            name = "hostile-tools-probe"
            made = client.api.create_volume(name=name, labels={"k": "v: {{ x }}\n"})
            try:
                assert made["Labels"] == {"k": "v: {{ x }}\n"}
                assert real.api.inspect_volume(name)["Labels"] == made["Labels"]
            finally:
                client.api.remove_volume(name)

            # Keep-alive: the SDK's pool keeps one connection per URL.
            opened = liar.connections
            for _ in range(5):
                client.api.info()
            assert liar.connections == opened
            assert liar.lies == 7 and not liar.errors, (liar.lies, liar.errors)
        finally:
            client.close()
            real.close()
    assert not liar.socket_path.exists()


def test_lying_dockerd_fools_the_hosts_minion_until_it_ends(lab):
    drop_in = lab.paths.host("host2").minion_conf_dir / "minion.d" / "zz-hostile-docker-url.conf"
    lies = {"NodeID": "fakenodeid1111111111111111", "Cluster": {"ID": "fakecluster1111"}}
    with hostile.LyingDockerd(lab, "host2", swarm=lies, name="not-host2") as liar:
        assert liar.url in drop_in.read_text()
        told = lab.salt_json("host2", "swarm.info")
        assert told.retcode == 0, told.output
        assert told.data["host2"]["node_id"] == lies["NodeID"]
        assert told.data["host2"]["cluster_id"] == lies["Cluster"]["ID"]
        assert told.data["host2"]["hostname"] == "not-host2"
        assert liar.lies >= 1 and not liar.errors, liar.errors
    assert not drop_in.exists()
    told = lab.salt_json("host2", "swarm.info")
    assert told.retcode == 0, told.output
    truth = swarms.local_state(lab, "host2")
    assert told.data["host2"]["hostname"] == "host2"
    assert told.data["host2"]["node_id"] == (truth["NodeID"] or None)


def _same_namespaces(pid_a: int, pid_b: int) -> bool:
    return all(
        os.readlink(f"/proc/{pid_a}/ns/{ns}") == os.readlink(f"/proc/{pid_b}/ns/{ns}")
        for ns in ("net", "uts")
    )


def test_extra_minion_with_a_yaml_id_is_accepted_and_its_start_event_carries_the_id(lab):
    with hostile.MasterEvents(lab) as bus:
        mark = bus.mark()
        with hostile.extra_minion(lab, "host3", EVIL_ID) as evil:
            assert EVIL_ID in hostile.list_keys(lab)["minions"]
            assert (lab.accepted_keys_dir / EVIL_ID).is_file()
            start = bus.wait_for(hostile.start_event_of(EVIL_ID), timeout=5, since=mark)
            assert start["data"]["id"] == EVIL_ID
            assert start["tag"] == f"salt/minion/{EVIL_ID}/start"
            assert EVIL_ID in lab.ping([EVIL_ID])
            host_minion = lab.status()["hosts"]["host3"]["minion"]
            assert _same_namespaces(evil.proc.pid, host_minion)
            assert evil.root.is_relative_to(lab.paths.root)
    assert not evil.alive()
    assert not evil.root.exists()
    assert EVIL_ID not in sum(hostile.list_keys(lab).values(), [])


def test_extra_minion_with_colons_quotes_braces_and_unicode_fires_as_itself(lab):
    with hostile.MasterEvents(lab) as bus, hostile.extra_minion(lab, "host1", ODD_ID) as odd:
        mark = bus.mark()
        res = hostile.fire_from(lab, odd, "hostile/tools/odd", {"who": ODD_ID})
        assert res.returncode == 0, res.stdout + res.stderr
        got = bus.wait_for("hostile/tools/odd", timeout=10, since=mark)
        assert got["data"]["id"] == ODD_ID and got["data"]["data"] == {"who": ODD_ID}
    assert not odd.alive() and not odd.root.exists()
    assert ODD_ID not in sum(hostile.list_keys(lab).values(), [])


def test_master_events_waits_by_glob_or_predicate_and_sees_the_reactor(lab):
    with hostile.MasterEvents(lab) as bus:
        mark = bus.mark()
        bus.fire("hostile/tools/one\nline two", {"n": 1})
        bus.fire("hostile/tools/two", {"n": 2})
        assert bus.wait_for("hostile/tools/one*", timeout=5, since=mark)["data"]["n"] == 1
        assert bus.wait_for(lambda e: e["data"]["n"] == 2, timeout=5, since=mark)["tag"] == (
            "hostile/tools/two"
        )
        assert len(bus.matching("hostile/tools/*", since=mark)) == 2
        with pytest.raises(hostile.WaitTimeout, match="hostile/tools/two"):
            bus.wait_for("hostile/tools/never", timeout=0.3, since=mark)

        # A start event host1 forges about itself reaches the bus, and the formula's
        # reactor starts the runner swarm.join_minion for it.
        mark = bus.mark()
        res = hostile.fire_from(lab, "host1", "salt/minion/host1/start", "forged")
        assert res.returncode == 0, res.stdout + res.stderr
        forged = bus.wait_for("salt/minion/host1/start", timeout=10, since=mark)
        assert forged["data"]["id"] == "host1" and forged["data"]["data"] == "forged"

        def join_minion_for_host1(event):
            return (
                fnmatch.fnmatchcase(event["tag"], "salt/run/*/new")
                and event["data"]["fun"] == "runner.swarm.join_minion"
                and "host1" in json.dumps(event["data"]["fun_args"])
            )

        run = bus.wait_for(join_minion_for_host1, timeout=30, since=mark)
        assert run["data"]["user"] == "Reactor"


def test_fire_from_delivers_tag_and_data_exactly(lab):
    tag = "hostile/tools/a\nb: c # d=e ünï"
    data = {
        "id": "forged",
        "lost": ["host1", "host3"],
        "text": "x#y = z\nw: {{ v }}",
        "n": 1,
        "yes": True,
        "none": None,
        "nested": {"k": ["a", 2, 3.5]},
    }
    with hostile.MasterEvents(lab) as bus:
        mark = bus.mark()
        res = hostile.fire_from(lab, "host2", tag, data)
        assert res.returncode == 0 and json.loads(res.stdout) == {"local": True}, res.stdout
        got = bus.wait_for(lambda e: e["tag"] == tag, timeout=10, since=mark)
    assert got["data"]["id"] == "host2"  # the master's word: the authenticated sender
    assert got["data"]["data"] == data  # the minion's word, as sent
    # Values YAML or Salt's key=value parsing would change all have a spelling.
    for value in ("true", "1", "a=b", "#x", "x # y\nz", "- a", "{a: b}", "[1]", "", "null"):
        assert hostile.salt_call_words(["data", "tag"], [{"v": value}, value])


def test_fire_events_from_delivers_data_as_given_without_the_senders_id(lab):
    forged = {"id": "host3", "lost": ["host3"], "text": "a\nb: c"}
    with hostile.MasterEvents(lab) as bus:
        mark = bus.mark()
        res = hostile.fire_events_from(
            lab, "host1", [("salt/key", {"id": "host3"}), ("hostile/tools/batch", forged)]
        )
        assert res.returncode == 0, res.stdout + res.stderr
        got = bus.wait_for("hostile/tools/batch", timeout=10, since=mark)
    assert {k: v for k, v in got["data"].items() if k != "_stamp"} == forged
    assert not bus.matching(lambda e: e["tag"] == "salt/key" and e["data"]["id"] == "host3")


def test_send_mine_stores_any_value_under_any_name(lab):
    forged = {"Worker": "SWMTKN-1-forged", "Manager": "SWMTKN-1-forged", "Addr": "1.2.3.4:2377"}
    try:
        assert hostile.send_mine(lab, "host2", "swarm.join_tokens", forged) is True
        assert hostile.master_mine(lab, "host2")["swarm.join_tokens"] == forged
        res = lab.salt_run("mine.get", "host2", "swarm.join_tokens", "--out=json")
        assert res.returncode == 0, res.stdout + res.stderr
        assert json.loads(res.stdout) == {"host2": forged}
    finally:
        lab.salt_json("host2", "mine.flush")
    assert "swarm.join_tokens" not in hostile.master_mine(lab, "host2")


def test_canary_trips_when_a_minion_runs_its_command(lab):
    with hostile.Canary(lab) as canary:
        assert not canary.tripped()
        res = lab.salt_json("host3", "cmd.run", canary.command)
        assert res.retcode == 0, res.output
        assert canary.tripped()
    assert not canary.tripped()


def test_fingerprint_of_a_bare_host_a_manager_and_a_worker(lab, bare_hosts):
    bare = hostile.fingerprint(lab, "host1")
    assert bare == {
        "swarm": {
            "LocalNodeState": "inactive",
            "NodeID": "",
            "ControlAvailable": False,
            "ClusterID": None,
        },
        "nodes": None,
    }
    swarms.build(lab, ["host1"], ["host2"])
    swarms.wait_ready(lab, "host1", ["host1", "host2"])
    manager, worker = hostile.fingerprint(lab, "host1"), hostile.fingerprint(lab, "host2")
    assert manager["swarm"]["ControlAvailable"] and not worker["swarm"]["ControlAvailable"]
    assert manager["swarm"]["ClusterID"] and worker["swarm"]["ClusterID"] is None
    assert worker["nodes"] is None
    nodes = {n["hostname"]: n for n in manager["nodes"].values()}
    assert {h: (n["role"], n["availability"]) for h, n in nodes.items()} == {
        "host1": ("manager", "active"),
        "host2": ("worker", "active"),
    }
    assert nodes["host1"]["status"]["leader"] and nodes["host2"]["status"]["state"] == "ready"
    assert manager["nodes"][manager["swarm"]["NodeID"]]["hostname"] == "host1"

    # A label change shows; status does not count in without_status.
    client = lab.docker_client("host1")
    try:
        node = client.api.inspect_node(worker["swarm"]["NodeID"])
        spec = dict(node["Spec"], Labels={"zone": "x"})
        client.api.update_node(node["ID"], node["Version"]["Index"], spec)
    finally:
        client.close()
    after = hostile.fingerprint(lab, "host1")
    assert hostile.without_status(after) != hostile.without_status(manager)
    after["nodes"][worker["swarm"]["NodeID"]]["labels"] = {}
    assert hostile.without_status(after) == hostile.without_status(manager)
    assert all("status" not in n for n in hostile.without_status(after)["nodes"].values())


def test_pending_key_is_listed_and_an_operator_can_delete_it(lab):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key_id = "pending\nhost: x 'q' ünï"
    with hostile.pending_key(lab, key_id) as key:
        loaded = serialization.load_pem_public_key(key.path.read_bytes())
        assert isinstance(loaded, rsa.RSAPublicKey) and loaded.key_size == 2048
        keys = hostile.list_keys(lab)
        assert key_id in keys["minions_pre"] and key_id not in keys["minions"]
        assert key.listed()
        res = key.delete_as_operator()
        assert res.returncode == 0, res.stdout + res.stderr
        assert not key.listed() and not key.path.exists()
