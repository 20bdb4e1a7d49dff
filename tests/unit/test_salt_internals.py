"""salt_internals against the Salt installed in this venv (3006, 3007 or 3008): every
cache, key and channel layout it reads is written here by that Salt's own code (the
master's mine and pillar handlers, its key store, the minion's key maker), so a run in
each version's venv (scripts/test-salt-versions) checks each version's layout."""

import os
import socket
import types
from pathlib import Path

import pytest
import salt.cache
import salt.config
import salt.crypt
import salt.daemons.masterapi
import salt.key
import salt.utils.network
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from salt_swarm import salt_internals

NEW_LAYOUT = salt_internals.salt_version() >= (3008, 0)
KEY_DIRS = ("minions", "minions_pre", "minions_rejected", "minions_denied", "minions_autosign")


def public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def master_opts(tmp_path):
    opts = salt.config.master_config(None)
    opts.update(
        root_dir=str(tmp_path),
        pki_dir=str(tmp_path / "pki"),
        cachedir=str(tmp_path / "cache"),
        sock_dir=str(tmp_path / "sock"),
        file_roots={"base": [str(tmp_path / "srv")]},
        pillar_roots={"base": [str(tmp_path / "pillar")]},
    )
    for folder in KEY_DIRS:
        (tmp_path / "pki" / folder).mkdir(parents=True)
    (tmp_path / "sock").mkdir()
    (tmp_path / "cache").mkdir()
    return opts


@pytest.fixture
def master_funcs(master_opts):
    """The master's handlers of minion requests (``_mine``, ``_pillar``), this Salt's own
    code, without the daemons: a cache, no event bus, no execution modules."""
    funcs = salt.daemons.masterapi.RemoteFuncs.__new__(salt.daemons.masterapi.RemoteFuncs)
    funcs.opts = master_opts
    funcs.cache = salt.cache.factory(master_opts)
    funcs.mminion = types.SimpleNamespace(functions={})
    funcs.event = types.SimpleNamespace(fire_event=lambda *args, **kwargs: True)
    return funcs


def test_runs_on_a_supported_salt():
    major, _ = salt_internals.salt_version()
    assert major in salt_internals.SUPPORTED
    assert salt_internals.salt_version_text().startswith(str(major))


def test_cached_mine_reads_what_the_master_stored(master_opts, master_funcs):
    acl = salt_internals.mine_acl_wrapped("tok", {"allow_tgt": "w*", "allow_tgt_type": "glob"})
    assert master_funcs._mine({"id": "m1", "data": {"swarm.manager_addr": "198.18.0.2:2377"}})
    assert master_funcs._mine({"id": "m1", "data": {"swarm.worker_token": acl}})
    assert master_funcs._mine({"id": "m2", "data": {"swarm.manager_addr": None}})

    cachedir = Path(master_opts["cachedir"])
    assert len(list(cachedir.glob(salt_internals.cache_files("mine")))) == 2
    got = salt_internals.cached_mine(master_opts, ["m1", "m2", "m3"])
    assert sorted(got) == ["m1", "m2"]
    assert got["m1"]["swarm.manager_addr"] == "198.18.0.2:2377"
    assert salt_internals.mine_entry_data(got["m1"]["swarm.worker_token"]) == "tok"
    assert salt_internals.cached_mine(master_opts, []) == {}


def test_send_mine_sends_what_the_master_stores(master_opts, master_funcs, monkeypatch):
    """The load send_mine builds goes through the master's own ``_mine`` handler."""
    import salt.channel.client

    class Channel:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send(self, load):
            assert load["cmd"] == "_mine"
            return master_funcs._mine(load)

    monkeypatch.setattr(salt.channel.client.ReqChannel, "factory", lambda opts: Channel())
    assert salt_internals.send_mine({"id": "m1"}, {"swarm.manager_addr": "198.18.0.2:2377"})
    assert salt_internals.send_mine({"id": "m1"}, {"swarm.join_tokens": None})
    assert salt_internals.cached_mine(master_opts, ["m1"]) == {
        "m1": {"swarm.manager_addr": "198.18.0.2:2377", "swarm.join_tokens": None}
    }


def test_cached_grains_reads_what_the_master_stored(master_opts, master_funcs):
    master_funcs._pillar({"id": "m1", "grains": {"os": "Debian", "swarm_role": "worker"}})
    assert salt_internals.cached_grains(master_opts, "m1")["swarm_role"] == "worker"
    cachedir = Path(master_opts["cachedir"])
    for kind in ("grains", "pillar"):
        assert [p.name for p in cachedir.glob(salt_internals.cache_files(kind))] == [
            "m1.p" if NEW_LAYOUT else "data.p"
        ]
    assert salt_internals.cached_grains(master_opts, "m2") == {}


def test_the_other_versions_cache_layout_is_not_read(master_opts):
    """A cache an upgraded (or downgraded) master left behind is stale: not read."""
    cache = salt.cache.factory(master_opts)
    if NEW_LAYOUT:
        cache.store("minions/m1", "mine", {"swarm.manager_addr": "198.18.0.9:2377"})
        cache.store("minions/m1", "data", {"grains": {"os": "old"}})
    else:
        cache.store("mine", "m1", {"swarm.manager_addr": "198.18.0.9:2377"})
        cache.store("grains", "m1", {"os": "new"})
    assert salt_internals.cached_mine(master_opts, ["m1"]) == {}
    assert salt_internals.cached_grains(master_opts, "m1") == {}


def test_connected_minions_from_the_grains_the_master_stored(master_opts, master_funcs):
    """Salt's presence check: a minion is connected when an address in its cached
    grains holds a connection to the publish port (from 127.0.0.1: this host's)."""
    here = salt.utils.network.ip_addrs(include_loopback=False)
    if not here:
        pytest.skip("this host has no non-loopback IPv4 address")
    master_funcs._pillar({"id": "m1", "grains": {"ipv4": [here[0]]}})
    master_funcs._pillar({"id": "m2", "grains": {"ipv4": ["203.0.113.9"]}})
    with socket.create_server(("127.0.0.1", 0)) as server:
        master_opts["publish_port"] = server.getsockname()[1]
        assert salt_internals.connected_minions(master_opts, ["m1", "m2", "m3"]) == set()
        with socket.create_connection(("127.0.0.1", master_opts["publish_port"])):
            conn, _ = server.accept()
            with conn:
                assert salt_internals.connected_minions(master_opts, ["m1", "m2", "m3"]) == {"m1"}


def test_accepted_keys_as_the_key_store_holds_them(master_opts, tmp_path):
    pems = {name: public_pem() for name in ("w1", "w2", "w3")}
    for name, pem in pems.items():
        (tmp_path / "pki" / "minions_pre" / name).write_text(pem)
    with salt.key.get_key(master_opts) as keys:
        keys.accept(match="w1")
        keys.reject(match="w3")

    assert salt_internals.accepted_minions(master_opts) == {"w1"}
    assert salt_internals.accepted_public_key(master_opts, "w1") == pems["w1"]
    assert salt_internals.accepted_public_key(master_opts, "w2") is None  # pending
    assert salt_internals.accepted_public_key(master_opts, "w3") is None  # rejected
    assert salt_internals.accepted_public_key(master_opts, "nobody") is None
    assert salt_internals.matched(master_opts, "w*", "glob") == (["w1"], [])
    assert salt_internals.matched(master_opts, ["w1", "w2", "x"], "list") == (["w1"], ["w2", "x"])


@pytest.mark.skipif(not NEW_LAYOUT, reason="Salt 3008's key cache (keys.cache_driver)")
def test_accepted_key_from_a_key_cache_that_is_not_the_pki_dir(master_opts, tmp_path):
    master_opts["keys.cache_driver"] = "mmap_key"  # keys in one mmap file, not one per minion
    pem = public_pem()
    with salt.key.get_key(master_opts) as keys:
        keys.cache.store("keys", "w1", {"state": "pending", "pub": pem})
        keys.accept(match="w1")
    assert not (tmp_path / "pki" / "minions" / "w1").exists()
    assert salt_internals.accepted_public_key(master_opts, "w1") == pem


def test_minion_private_key_is_the_key_the_minion_made(tmp_path):
    """The minion's own key maker (``AsyncAuth.get_keys``: gen_keys into pki_dir on
    3006/3007, the key cache's ``master_keys`` bank on 3008) writes what we load."""
    opts = salt.config.minion_config(None)
    opts.update(id="m1", root_dir=str(tmp_path), pki_dir=str(tmp_path / "pki"), keysize=2048)
    opts["cachedir"] = str(tmp_path / "cache")
    os.makedirs(opts["pki_dir"])
    auth = types.SimpleNamespace(
        opts=opts, rsa_path=os.path.join(opts["pki_dir"], "minion.pem"), _private_key=None
    )
    if NEW_LAYOUT:
        auth.cache = salt.cache.Cache(opts, driver=opts["keys.cache_driver"])
    salt.crypt.AsyncAuth.get_keys(auth)

    key = salt_internals.minion_private_key(opts)
    pub = serialization.load_pem_public_key((tmp_path / "pki" / "minion.pub").read_bytes())
    assert key.public_key().public_numbers() == pub.public_numbers()
