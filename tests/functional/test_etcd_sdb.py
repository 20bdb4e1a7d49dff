"""The etcd_swarm sdb driver, the etcd client and the token store against a real etcd.

Each server is Debian's ``etcd`` (package etcd-server) on 127.0.0.1 with free ports and
a temp data dir, started here and stopped by pid. Without the binary the tests skip,
unless SALT_SWARM_REQUIRE_LAB is set (CI), where they fail.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import salt.config
import salt.loader
from salt.exceptions import CommandExecutionError

from salt_swarm.core import token_store
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.etcd_client import EtcdClient
from salt_swarm.core.kv_stores import EtcdStore, SdbStore, open_store
from salt_swarm.sdb import etcd_swarm
from tests.etcd_server import (
    EtcdServer,
    add_role,
    add_store_roles,
    add_user,
    b64,
    enable_auth,
    free_port,
    make_tls_files,
)

WORKER = "SWMTKN-1-" + "a" * 50 + "-" + "w" * 25
MANAGER = "SWMTKN-1-" + "a" * 50 + "-" + "m" * 25
TOKENS = {"worker": WORKER, "manager": MANAGER, "cluster_id": "c1"}
ROOT_PW = "root-pw-Zx81"
READER_PW = "reader-pw-Qy27"
WRITER_PW = "writer-pw-Lm55"
SALT_CALL = Path(sys.executable).parent / "salt-call"


@pytest.fixture(scope="session")
def etcd(etcd_binary, tmp_path_factory):
    server = EtcdServer(etcd_binary, tmp_path_factory.mktemp("etcd"))
    try:
        server.wait_ready(EtcdClient([server.url], timeout=1))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def etcd_auth(etcd_binary, tmp_path_factory):
    """etcd with auth on: root, a reader allowed to read /swarm/ only, a writer on /swarm/.

    Simple tokens live 2 s here, so a test can see the client log in again.
    """
    server = EtcdServer(
        etcd_binary, tmp_path_factory.mktemp("etcd-auth"), extra=["--auth-token-ttl=2"]
    )
    try:
        admin = EtcdClient([server.url], timeout=2)
        server.wait_ready(admin)
        add_role(admin, "swarm-read", [("read", "/swarm/", True)])
        add_role(admin, "swarm-write", [("readwrite", "/swarm/", True)])
        add_user(admin, "reader", READER_PW, "swarm-read")
        add_user(admin, "writer", WRITER_PW, "swarm-write")
        enable_auth(admin, ROOT_PW)
        yield server
    finally:
        server.stop()


def root_of(server):
    return EtcdClient([server.url], username="root", password=ROOT_PW, timeout=2)


def profile_for(server, **options):
    return {"driver": "etcd_swarm", "url": server.url, "timeout": 2, **options}


def unique(name):
    return f"{name}-{time.monotonic_ns()}"


# -- the sdb driver -------------------------------------------------------------------


def test_sdb_round_trip_of_a_dict(etcd):
    profile = profile_for(etcd, prefix="/salt-swarm")
    key = unique("prod") + "/tokens"
    assert etcd_swarm.set_(key, TOKENS, profile=profile) is True
    assert etcd_swarm.get(key, profile=profile) == TOKENS
    raw = EtcdClient([etcd.url]).get_entry(f"/salt-swarm/{key}")
    assert raw.value == TOKENS  # stored as JSON text under the prefix


def test_sdb_round_trip_of_lists_strings_and_numbers(etcd):
    profile = profile_for(etcd)
    for value in (["198.18.0.10:2377", "198.18.0.11:2377"], "plain", 42, {"a": {"b": [1, None]}}):
        key = unique("v")
        etcd_swarm.set_(key, value, profile=profile)
        assert etcd_swarm.get(key, profile=profile) == value


def test_sdb_missing_key_is_none(etcd):
    assert etcd_swarm.get(unique("absent"), profile=profile_for(etcd)) is None


def test_sdb_delete(etcd):
    profile = profile_for(etcd)
    key = unique("gone")
    etcd_swarm.set_(key, {"x": 1}, profile=profile)
    assert etcd_swarm.delete(key, profile=profile) is True
    assert etcd_swarm.get(key, profile=profile) is None
    assert etcd_swarm.delete(key, profile=profile) is False


def test_text_written_by_another_tool_reads_as_text(etcd):
    client = EtcdClient([etcd.url])
    key = unique("etcdctl")
    client.call("/v3/kv/put", {"key": b64(key), "value": b64("not json {")})
    assert client.get(key) == "not json {"


def test_urls_are_tried_in_order(etcd):
    dead = f"http://127.0.0.1:{free_port()}"
    profile = {"driver": "etcd_swarm", "urls": [dead, etcd.url], "timeout": 1}
    key = unique("fallback")
    etcd_swarm.set_(key, [1], profile=profile)
    assert etcd_swarm.get(key, profile=profile) == [1]


# -- compare-create and election ------------------------------------------------------


def race(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("attempt", range(20))
def test_two_racing_creates_one_winner(etcd, attempt):
    key = unique("race")
    clients = [EtcdClient([etcd.url]) for _ in range(2)]
    results = race(2, lambda i: clients[i].create(key, {"minion": f"host{i}"}))
    assert sorted(won for won, _ in results) == [False, True]
    winner = next(value for won, value in results if won)
    assert all(current == winner for _, current in results)
    assert clients[0].get(key) == winner


@pytest.mark.parametrize("attempt", range(20))
def test_two_racing_elections_one_leader(etcd, attempt):
    path = unique("swarm/elect")
    stores = [EtcdStore(EtcdClient([etcd.url]), path) for _ in range(2)]
    results = race(2, lambda i: token_store.elect(stores[i], f"host{i + 1}"))
    assert sorted(r.won for r in results) == [False, True]
    assert results[0].leader == results[1].leader
    assert token_store.leader(stores[0])["minion"] == results[0].leader


def test_an_old_leader_record_without_a_lease_is_not_taken_over_on_etcd(etcd):
    path = unique("swarm/stale")
    EtcdStore(EtcdClient([etcd.url]), path).set("leader", {"minion": "dead", "at": 0})
    store = EtcdStore(EtcdClient([etcd.url]), path)
    result = token_store.elect(store, "host1", ttl=2)
    assert (result.won, result.leader) == (False, "dead")


def test_nobody_is_elected_once_join_data_are_published(etcd):
    store = EtcdStore(EtcdClient([etcd.url]), unique("swarm/published"))
    token_store.publish(store, ["198.18.0.10:2377"], TOKENS)
    result = token_store.elect(store, "host1")
    assert (result.won, result.published) == (False, True)
    assert store.get("leader") is None


# -- the election's lease ---------------------------------------------------------------


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)


def test_a_dead_holders_record_lapses_and_another_manager_wins(etcd):
    path = unique("swarm/lapse")
    dead = EtcdStore(EtcdClient([etcd.url]), path)
    other = EtcdStore(EtcdClient([etcd.url]), path)
    held = token_store.elect(dead, "host1", ttl=2)  # and host1 "dies": nobody renews
    assert held.won and held.lease
    lost = token_store.elect(other, "host2", ttl=2)
    assert (lost.won, lost.leader) == (False, "host1")
    started = time.monotonic()
    wait_until(lambda: token_store.vacant(other), 10, "host1's record to lapse")
    assert time.monotonic() - started >= 1  # the lease, not an instant delete
    won = token_store.elect(other, "host2", ttl=2)
    assert won.won and token_store.leader(other)["minion"] == "host2"
    with pytest.raises(SwarmError, match="election lease ran out before it published"):
        token_store.publish(dead, ["198.18.0.10:2377"], TOKENS, election=held)
    assert token_store.read_join_data(other, "worker") is None  # host1 published nothing
    token_store.publish(other, ["198.18.0.11:2377"], TOKENS, election=won)
    assert token_store.read_join_data(other, "worker").managers == ["198.18.0.11:2377"]


def test_holding_keeps_the_record_past_its_ttl_and_revokes_it_after(etcd):
    store = EtcdStore(EtcdClient([etcd.url]), unique("swarm/hold"))
    won = token_store.elect(store, "host1", ttl=2)
    with token_store.holding(store, won, ttl=2) as hold:
        started = time.monotonic()
        while time.monotonic() - started < 4:  # twice the TTL
            assert token_store.leader(store)["minion"] == "host1"
            time.sleep(0.25)
        assert hold.renewals >= 3 and not hold.lost
        token_store.publish(store, ["198.18.0.10:2377"], TOKENS, election=won)
    assert store.get("leader") is None  # revoked at once, no waiting for the TTL
    assert store.client.keepalive(won.lease) == 0
    assert token_store.read_join_data(store, "manager").token == MANAGER


def test_the_lease_calls_of_the_client(etcd):
    client = EtcdClient([etcd.url])
    lease = client.grant_lease(30)
    assert 25 <= client.keepalive(lease) <= 30
    key = unique("leased")
    client.put(key, 1, lease=lease)
    assert client.revoke_lease(lease) is True
    assert client.get(key) is None
    assert client.revoke_lease(lease) is False and client.keepalive(lease) == 0


def test_prefix_listing_and_conditional_delete(etcd):
    store = EtcdStore(EtcdClient([etcd.url], prefix="/sw/"), unique("swarm/list"))
    store.set("labels/w1", {"a": 1})
    store.set("labels/w2", {"b": 2})
    store.set("labelsx", 3)  # outside the prefix
    assert store.list("labels/") == {"w1": {"a": 1}, "w2": {"b": 2}}
    assert not store.remove("labels/w1", {"a": 9})
    assert store.remove("labels/w1", {"a": 1})
    assert store.list("labels/") == {"w2": {"b": 2}}


def test_publish_and_wait_through_etcd(etcd):
    store = open_store(f"sdb://myetcd/{unique('swarm/pub')}", {"myetcd": profile_for(etcd)})
    assert isinstance(store, EtcdStore)
    assert token_store.read_join_data(store, "worker") is None
    threading.Timer(0.5, token_store.publish, (store, ["198.18.0.10:2377"], TOKENS)).start()
    data = token_store.wait_for_join_data(store, "worker", timeout=10, poll=0.1)
    assert data.managers == ["198.18.0.10:2377"] and data.token == WORKER


def test_wait_gives_up_at_the_deadline(etcd):
    store = EtcdStore(EtcdClient([etcd.url]), unique("swarm/never"))
    start = time.monotonic()
    with pytest.raises(SwarmError, match="no join data .* after 1 s; no node holds"):
        token_store.wait_for_join_data(store, "manager", timeout=1, poll=0.2)
    assert time.monotonic() - start >= 1  # it waited as long as it was told to


def test_an_old_layout_store_is_a_clear_error(etcd):
    store = EtcdStore(EtcdClient([etcd.url]), unique("swarm/old"))
    store.set("tokens", TOKENS)
    store.set("managers", ["198.18.0.10:2377"])
    with pytest.raises(token_store.OldLayout, match="salt-swarm 0.1's layout") as err:
        token_store.read_join_data(store, "worker")
    assert WORKER not in str(err.value) and MANAGER not in str(err.value)


# -- auth -----------------------------------------------------------------------------


def test_a_writer_on_the_prefix_can_elect_and_publish(etcd_auth):
    profile = profile_for(etcd_auth, prefix="/swarm/", username="writer", password=WRITER_PW)
    store = open_store("sdb://p/prod", {"p": profile})
    won = token_store.elect(store, "host1")
    assert won.won
    with token_store.holding(store, won):
        token_store.publish(store, ["198.18.0.10"], TOKENS, election=won)
    assert token_store.read_join_data(store, "manager").managers == ["198.18.0.10"]
    assert store.get("leader") is None  # its own lease revoked: the role allows it


@pytest.fixture
def store_roles(etcd_auth):
    """The store's manager and worker roles on a fresh path, as docs/token-store.md has
    them: {manager, worker} -> an open store with that user's profile."""
    path = unique("roles")
    manager = (f"{path}-manager", "manager-pw-Hx51")
    worker = (f"{path}-worker", "worker-pw-Rk08")
    add_store_roles(root_of(etcd_auth), f"/salt-swarm/{path}/", manager, worker)
    stores = {}
    for role, (user, password) in (("manager", manager), ("worker", worker)):
        profile = profile_for(etcd_auth, prefix="/salt-swarm/", username=user, password=password)
        stores[role] = open_store(f"sdb://p/{path}", {"p": profile})
    return stores


def test_with_the_documented_roles_a_worker_joins_without_the_manager_token(store_roles):
    manager, worker = store_roles["manager"], store_roles["worker"]
    assert token_store.read_join_data(worker, "worker") is None  # nothing yet, no error
    won = token_store.elect(manager, "m1")
    with token_store.holding(manager, won):
        token_store.publish(manager, ["198.18.0.10:2377"], TOKENS, election=won)
    data = token_store.wait_for_join_data(worker, "worker", timeout=5, poll=0.1)
    assert (data.token, data.managers) == (WORKER, ["198.18.0.10:2377"])
    for key in ("manager_token", "leader", "tokens"):
        with pytest.raises(SwarmError, match="permission denied"):
            worker.get(key)
    with pytest.raises(SwarmError, match="permission denied"):
        token_store.read_join_data(worker, "manager")


def test_with_the_documented_roles_a_worker_writes_only_label_entries(store_roles):
    manager, worker = store_roles["manager"], store_roles["worker"]
    token_store.publish(manager, ["198.18.0.10:2377"], TOKENS)
    for key, value in (
        ("worker_token", {"cluster_id": "c1", "token": MANAGER}),
        ("manager_token", {"cluster_id": "c1", "token": WORKER}),
        ("managers", ["198.18.0.66:2377"]),
        ("leader", {"minion": "w1", "at": 0}),
    ):
        with pytest.raises(SwarmError, match="permission denied"):
            worker.set(key, value)
    with pytest.raises(SwarmError, match="permission denied"):
        token_store.elect(worker, "w1")
    assert token_store.put_node_labels(worker, "n1", "w1", {"docker.role": "web"})
    assert token_store.published_labels(manager) == {
        "w1": {"node_id": "n1", "hostname": "w1", "labels": {"docker.role": "web"}}
    }
    entry = manager.get("labels/w1")
    assert token_store.remove_node_labels(manager, "w1", entry)
    assert token_store.read_join_data(manager, "manager").token == MANAGER  # untouched


def test_a_read_only_user_reads_but_cannot_write(etcd_auth):
    writer = profile_for(etcd_auth, username="writer", password=WRITER_PW)
    reader = profile_for(etcd_auth, username="reader", password=READER_PW)
    etcd_swarm.set_("/swarm/ro/worker_token", TOKENS, profile=writer)
    assert etcd_swarm.get("/swarm/ro/worker_token", profile=reader) == TOKENS
    with pytest.raises(CommandExecutionError, match="permission denied") as err:
        etcd_swarm.set_("/swarm/ro/worker_token", {"x": 1}, profile=reader)
    assert f"etcd {etcd_auth.url}/v3/kv/put" in str(err.value)
    assert READER_PW not in str(err.value)
    with pytest.raises(CommandExecutionError, match="permission denied"):
        etcd_swarm.get("/elsewhere", profile=reader)  # outside its prefix
    store = EtcdStore(EtcdClient.from_profile(reader), "/swarm/ro")
    with pytest.raises(SwarmError, match="permission denied"):
        token_store.elect(store, "host1")


def test_a_wrong_password_is_a_clear_error_without_the_password(etcd_auth):
    wrong = "wrong-pw-Kd93"
    client = EtcdClient([etcd_auth.url], username="reader", password=wrong, timeout=2)
    with pytest.raises(SwarmError) as err:
        client.get("/swarm/x")
    message = str(err.value)
    assert message.startswith(f"etcd {etcd_auth.url}: login as user 'reader' failed: ")
    assert "authentication failed" in message
    assert wrong not in message and READER_PW not in message


def test_no_credentials_on_an_auth_store_is_a_clear_error(etcd_auth):
    with pytest.raises(SwarmError, match=r"/v3/kv/range: etcdserver: user name is empty"):
        EtcdClient([etcd_auth.url]).get("/swarm/x")


def test_an_expired_token_is_renewed(etcd_auth):
    client = EtcdClient([etcd_auth.url], username="writer", password=WRITER_PW, timeout=2)
    client.put("/swarm/renew", 1)
    first = dict(client._tokens)
    time.sleep(3.5)  # past --auth-token-ttl=2
    assert client.get("/swarm/renew") == 1
    assert client._tokens != first


# -- a store that is down -------------------------------------------------------------


def test_connection_refused_names_the_url():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SwarmError) as err:
        EtcdClient([url], timeout=2).get("k")
    # A refusal, not a timeout: the client did not wait for an answer.
    assert str(err.value) == f"etcd unreachable: {url} (connection refused)"


def test_a_silent_server_times_out_as_configured():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts; nobody ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(SwarmError, match=rf"{url} \(no answer within 0.5 s\)"):
            EtcdClient([url], timeout=0.5).get("k")
        assert time.monotonic() - start >= 0.4  # it waited the configured time


def test_every_url_is_named_when_none_answers():
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    with pytest.raises(CommandExecutionError) as err:
        etcd_swarm.get("k", profile={"driver": "etcd_swarm", "urls": urls, "timeout": 1})
    assert all(url in str(err.value) for url in urls)


# -- TLS ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def etcd_tls(etcd_binary, tmp_path_factory, tls_files):
    server = EtcdServer(etcd_binary, tmp_path_factory.mktemp("etcd-tls"), tls=tls_files)
    try:
        server.wait_ready(
            EtcdClient(
                [server.url],
                ca_file=tls_files["ca"],
                cert_file=tls_files["client_cert"],
                key_file=tls_files["client_key"],
                timeout=1,
            )
        )
        yield server
    finally:
        server.stop()


def test_tls_with_ca_and_client_certificate(etcd_tls, tls_files):
    profile = profile_for(
        etcd_tls,
        ca_file=tls_files["ca"],
        cert_file=tls_files["client_cert"],
        key_file=tls_files["client_key"],
    )
    key = unique("tls")
    etcd_swarm.set_(key, {"ok": True}, profile=profile)
    assert etcd_swarm.get(key, profile=profile) == {"ok": True}


def test_tls_unknown_ca_is_refused_naming_the_url(etcd_tls, tls_files):
    client = EtcdClient(
        [etcd_tls.url], cert_file=tls_files["client_cert"], key_file=tls_files["client_key"]
    )
    with pytest.raises(SwarmError, match=rf"{etcd_tls.url} \(TLS: .*CERTIFICATE_VERIFY_FAILED"):
        client.get("k")


def test_tls_verify_false_skips_the_server_check(etcd_tls, tls_files):
    client = EtcdClient(
        [etcd_tls.url],
        cert_file=tls_files["client_cert"],
        key_file=tls_files["client_key"],
        verify=False,
    )
    assert client.get(unique("absent")) is None


def test_tls_without_a_client_certificate_is_refused(etcd_tls, tls_files):
    with pytest.raises(SwarmError, match=etcd_tls.url):
        EtcdClient([etcd_tls.url], ca_file=tls_files["ca"], timeout=2).get("k")


def test_a_missing_cert_file_is_named(etcd_tls, tls_files):
    client = EtcdClient([etcd_tls.url], ca_file=tls_files["ca"], cert_file="/nonexistent.pem")
    with pytest.raises(SwarmError, match=r"cert_file '/nonexistent.pem'"):
        client.get("k")


# -- through Salt's loader ------------------------------------------------------------


def minion_config(tmp_path, profile) -> Path:
    config_dir = tmp_path / "conf"
    config_dir.mkdir()
    (config_dir / "minion").write_text(
        json.dumps(
            {
                "id": "etcd-sdb-test",
                "root_dir": str(tmp_path / "root"),
                "file_client": "local",
                "myetcd": profile,
            }
        )
    )
    return config_dir


def salt_call(config_dir, *args):
    proc = subprocess.run(
        [str(SALT_CALL), "--local", f"--config-dir={config_dir}", "--out=json", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc


def test_salt_call_sdb_set_then_get(etcd, tmp_path):
    config_dir = minion_config(tmp_path, profile_for(etcd, prefix="/salt-swarm/"))
    key = unique("salt-call")
    value = json.dumps({"managers": ["198.18.0.10:2377"]})
    set_proc = salt_call(config_dir, "sdb.set", f"sdb://myetcd/{key}", value)
    assert set_proc.returncode == 0, set_proc.stderr
    assert json.loads(set_proc.stdout) == {"local": True}
    get_proc = salt_call(config_dir, "sdb.get", f"sdb://myetcd/{key}")
    assert get_proc.returncode == 0, get_proc.stderr
    assert json.loads(get_proc.stdout) == {"local": {"managers": ["198.18.0.10:2377"]}}
    assert EtcdClient([etcd.url], prefix="/salt-swarm/").get(key) == {
        "managers": ["198.18.0.10:2377"]
    }


def test_salt_call_against_a_down_store_fails_naming_the_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    profile = {"driver": "etcd_swarm", "url": url, "timeout": 1}
    proc = salt_call(minion_config(tmp_path, profile), "sdb.get", "sdb://myetcd/k")
    assert proc.returncode != 0
    assert f"etcd unreachable: {url} (connection refused)" in proc.stdout + proc.stderr


def test_the_generic_sdb_path_over_salts_own_sdb_module(etcd, tmp_path):
    """SdbStore through the loaded sdb.get/sdb.set, as the module does for other drivers."""
    opts = salt.config.minion_config(None)
    opts.update(
        id="etcd-sdb-test",
        root_dir=str(tmp_path),
        cachedir=str(tmp_path / "cache"),
        pki_dir=str(tmp_path / "pki"),
        file_client="local",
        pillar={"myetcd": profile_for(etcd)},
    )
    opts["grains"] = {}
    mods = salt.loader.minion_mods(opts, utils=salt.loader.utils(opts))
    uri = f"sdb://myetcd/{unique('swarm/generic')}"
    generic = SdbStore(uri, mods["sdb.get"], mods["sdb.set"], settle=0.2)
    assert token_store.elect(generic, "host1").won
    assert not token_store.elect(generic, "host2").won
    token_store.publish(generic, ["198.18.0.10"], TOKENS)
    token_store.put_node_labels(generic, "n1", "w1", {"docker.role": "web"})
    # The etcd store reads the same data: both paths agree on the encoding.
    assert isinstance(open_store(uri, opts, mods["sdb.get"], mods["sdb.set"]), EtcdStore)
    assert token_store.read_join_data(open_store(uri, opts), "worker").token == WORKER
    assert token_store.published_labels(generic) == {
        "w1": {"node_id": "n1", "hostname": "w1", "labels": {"docker.role": "web"}}
    }
