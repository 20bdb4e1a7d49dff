"""Unit tests for salt_swarm.core.kv_stores and the etcd profile checks (no network)."""

import pytest

from salt_swarm.core import etcd_client, token_store
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.etcd_client import EtcdClient
from salt_swarm.core.kv_stores import EtcdStore, SdbStore, open_store, parse_sdb_uri

ETCD_PROFILE = {"driver": "etcd_swarm", "url": "http://127.0.0.1:2379", "prefix": "/sw"}


class FakeSdb:
    """sdb.get / sdb.set over a dict, keeping values as the driver got them."""

    def __init__(self):
        self.data = {}

    def get(self, uri):
        return self.data.get(uri)

    def set(self, uri, value):
        self.data[uri] = value
        return True


def sdb_store(fake=None, **kwargs):
    fake = fake or FakeSdb()
    return SdbStore("sdb://consul/swarm/prod", fake.get, fake.set, sleep=lambda s: None, **kwargs)


# -- URIs and profiles ----------------------------------------------------------------


def test_parse_sdb_uri():
    assert parse_sdb_uri("sdb://myetcd/swarm/prod/") == ("myetcd", "swarm/prod")


@pytest.mark.parametrize("uri", ["etcd://x/y", "sdb://x", "sdb://x/", "sdb:///path", None])
def test_a_bad_uri_names_the_field(uri):
    with pytest.raises(SwarmError, match=r"^swarm:token_store: "):
        parse_sdb_uri(uri, field="swarm:token_store")


def test_open_store_picks_etcd_for_the_etcd_swarm_driver():
    store = open_store("sdb://myetcd/swarm/prod", {"myetcd": ETCD_PROFILE})
    assert isinstance(store, EtcdStore) and store.supports_cas
    assert store.where == "sdb://myetcd/swarm/prod"
    assert store.client.prefix == "/sw/" and store._key("tokens") == "swarm/prod/tokens"


def test_an_etcd_store_is_named_in_etcd_unreachable(monkeypatch):
    def refused(self, url, endpoint, body, token):
        raise etcd_client._Unreachable("connection refused")

    monkeypatch.setattr(EtcdClient, "_post", refused)
    store = open_store("sdb://myetcd/swarm/prod/", {"myetcd": ETCD_PROFILE})
    assert store.client.store == "sdb://myetcd/swarm/prod"
    with pytest.raises(SwarmError) as err:
        store.get("leader")
    assert str(err.value) == (
        "sdb://myetcd/swarm/prod: etcd unreachable: http://127.0.0.1:2379 (connection refused)"
    )
    with pytest.raises(SwarmError) as err:
        EtcdClient.from_profile(ETCD_PROFILE).get("k")  # a client of no store: the sdb driver's
    assert str(err.value) == "etcd unreachable: http://127.0.0.1:2379 (connection refused)"


def test_open_store_finds_the_profile_in_pillar():
    opts = {"pillar": {"myetcd": ETCD_PROFILE}}
    assert isinstance(open_store("sdb://myetcd/swarm", opts), EtcdStore)


def test_open_store_uses_sdb_for_other_drivers():
    fake = FakeSdb()
    store = open_store(
        "sdb://vault/secret/swarm", {"vault": {"driver": "vault"}}, fake.get, fake.set
    )
    assert isinstance(store, SdbStore) and not store.supports_cas


def test_open_store_without_the_profile_says_where_it_looked():
    with pytest.raises(SwarmError, match=r"sdb profile 'nope' .* minion config or pillar"):
        open_store("sdb://nope/swarm", {"pillar": {}})


def test_a_generic_driver_needs_the_sdb_functions():
    with pytest.raises(SwarmError, match="needs sdb.get and sdb.set"):
        open_store("sdb://c/swarm", {"c": {"driver": "consul"}})


@pytest.mark.parametrize(
    "profile, message",
    [
        ({}, "url \\(or urls, a list\\) is required"),
        ({"url": "127.0.0.1:2379"}, "url '127.0.0.1:2379' must start with http"),
        ({"urls": ["http://a:2379", "ftp://b"]}, "url 'ftp://b' must start with http"),
        ({"url": "http://a:2379", "cafile": "/x"}, "unknown option\\(s\\) cafile"),
        ({"url": "http://a:2379", "username": "u"}, "username and password go together"),
        ({"url": "http://a:2379", "key_file": "/k"}, "key_file needs cert_file"),
        ({"url": "http://a:2379", "verify": "no"}, "verify must be true or false"),
        ({"url": "http://a:2379", "timeout": 0}, "timeout must be a positive number"),
        ({"url": "http://a:2379", "prefix": 5}, "prefix must be a string"),
    ],
)
def test_bad_etcd_profiles_name_the_field(profile, message):
    with pytest.raises(SwarmError, match=f"^sdb profile 'p': {message}"):
        EtcdClient.from_profile({"driver": "etcd_swarm", **profile}, "sdb profile 'p'")


@pytest.mark.parametrize("key", ["url", "urls"])
@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:2379", "http://localhost:2379", "http://[fd00::1]:2379"]
)
def test_a_password_over_plain_http_is_refused_naming_the_key(key, url):
    profile = {key: url if key == "url" else ["https://a:2379", url]}
    with pytest.raises(SwarmError) as err:
        EtcdClient.from_profile(
            {"driver": "etcd_swarm", **profile, "username": "u", "password": "hunter2"},
            "sdb profile 'p'",
        )
    message = str(err.value)
    assert message.startswith(f"sdb profile 'p': {key} '{url}' is plain http, so the password")
    assert "use an https:// URL" in message and "hunter2" not in message


@pytest.mark.parametrize(
    "profile",
    [
        {"url": "https://10.0.0.5:2379", "username": "u", "password": "pw"},
        {"url": "http://127.0.0.1:2379", "username": "u", "password": "pw"},
        {"url": "http://127.8.9.10:2379", "username": "u", "password": "pw"},
        {"url": "http://[::1]:2379", "username": "u", "password": "pw"},
        {"url": "http://10.0.0.5:2379"},  # no password to leak (and no auth)
    ],
)
def test_https_loopback_or_no_password_is_fine(profile):
    assert EtcdClient.from_profile({"driver": "etcd_swarm", **profile}).urls


def test_the_client_repr_has_no_password():
    client = EtcdClient.from_profile(
        {"url": "https://a:2379", "username": "u", "password": "hunter2"}
    )
    assert "hunter2" not in repr(client)


# -- the best-effort sdb store --------------------------------------------------------


def test_sdb_store_writes_json_text_and_reads_it_back():
    fake = FakeSdb()
    store = sdb_store(fake)
    store.set("managers", ["198.18.0.10"])
    assert fake.data["sdb://consul/swarm/prod/managers"] == '["198.18.0.10"]'
    assert store.get("managers") == ["198.18.0.10"]


def test_sdb_store_accepts_bytes_and_native_data():
    fake = FakeSdb()
    fake.data["sdb://consul/swarm/prod/a"] = b'{"x":1}'
    fake.data["sdb://consul/swarm/prod/b"] = {"x": 2}  # e.g. written natively into Vault
    store = sdb_store(fake)
    assert (store.get("a"), store.get("b")) == ({"x": 1}, {"x": 2})


def test_sdb_store_delete_writes_null():
    store = sdb_store()
    store.set("leader", {"minion": "h1", "at": 1})
    store.delete("leader")
    assert store.get("leader") is None


def test_sdb_store_reports_a_failed_set_and_an_unresolved_uri():
    store = SdbStore("sdb://x/p", lambda uri: uri, lambda uri, value: False)
    with pytest.raises(SwarmError, match="sdb://x/p/tokens: sdb.set failed"):
        store.set("tokens", {})
    with pytest.raises(SwarmError, match="sdb://x/p/tokens: sdb could not resolve"):
        store.get("tokens")


def test_sdb_store_create_respects_unless():
    fake = FakeSdb()
    store = sdb_store(fake)
    store.set("managers", ["198.18.0.10"])
    assert store.create("leader", {"minion": "h1"}, unless=("managers",)) == (False, None)
    assert store.get("leader") is None


def test_sdb_store_remove_only_when_unchanged():
    store = sdb_store()
    store.set("labels/w1", {"node_id": "n1"})
    assert not store.remove("labels/w1", {"node_id": "n2"})
    assert store.remove("labels/w1", {"node_id": "n1"})
    assert store.get("labels/w1") is None and not store.remove("labels/w1", None)


def test_sdb_store_set_many_writes_in_order_and_has_no_leases():
    fake = FakeSdb()
    store = sdb_store(fake)
    assert store.set_many({"worker_token": {"t": 1}, "managers": ["198.18.0.10"]})
    assert list(fake.data) == [
        "sdb://consul/swarm/prod/worker_token",
        "sdb://consul/swarm/prod/managers",
    ]
    with pytest.raises(SwarmError, match="no leases"):
        store.set_many({"managers": []}, lease_of=("leader", 1))
    assert not store.supports_leases and not store.supports_list


def test_sdb_store_elects_one_of_two_callers_one_after_the_other():
    fake = FakeSdb()
    first = token_store.elect(sdb_store(fake), "host1")
    second = token_store.elect(sdb_store(fake), "host2")
    assert (first.won, second.won, second.leader) == (True, False, "host1")


def test_sdb_store_read_back_catches_a_write_that_lands_during_settle():
    fake = FakeSdb()
    rival = sdb_store(fake)

    def rival_writes(seconds):  # host2 writes while host1 waits to read back
        rival.set("leader", {"minion": "host2", "at": 2, "nonce": "x"})

    store = SdbStore("sdb://consul/swarm/prod", fake.get, fake.set, sleep=rival_writes)
    result = token_store.elect(store, "host1")
    assert (result.won, result.leader) == (False, "host2")


def test_sdb_store_is_not_race_free():
    """Documented limit: both win when one's write and read-back end before the other writes."""
    fake = FakeSdb()
    stale_reads = {"n": 0}

    def stale_get(uri):
        # host2 read the key before host1 wrote it: its first read sees nothing.
        stale_reads["n"] += 1
        return None if stale_reads["n"] == 1 else fake.get(uri)

    host1 = sdb_store(fake)
    host2 = SdbStore("sdb://consul/swarm/prod", stale_get, fake.set, sleep=lambda s: None)
    assert token_store.elect(host1, "host1").won
    assert token_store.elect(host2, "host2").won
