"""Joins driven by the master: refused before any publish when the mine or a key is
missing; every member's answer sorted into done and failed, tokens redacted."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from salt_swarm.core import sealed
from salt_swarm.core.errors import SwarmError
from salt_swarm.master import joins

DIGEST = "a" * 50
TOKENS = {
    "cluster_id": "c1",
    "manager": f"SWMTKN-1-{DIGEST}-{'m' * 25}",
    "worker": f"SWMTKN-1-{DIGEST}-{'w' * 25}",
}
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUB = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


class FakeCache:
    def __init__(self, banks):
        self.banks = banks

    def fetch(self, bank, key):
        return self.banks.get(bank, {}).get(key)


class FakeClient:
    def __init__(self, answers):
        self.answers = answers
        self.published = []

    def cmd(self, tgt, fun, kwarg=None, **kw):
        self.published.append((tgt, fun, kwarg))
        return self.answers


class FakeFleet:
    def __init__(self, answers=None):
        self.opts = {}
        self.client = FakeClient(answers or {})


@pytest.fixture
def master(monkeypatch):
    mine = {
        "m1": {
            joins.MINE_ADDR: "10.0.0.1:2377",
            joins.MINE_TOKENS: {"__saltmine_acl__": 1, "__data__": TOKENS, "allow_tgt": "*"},
        },
        "m2": {joins.MINE_ADDR: None, joins.MINE_TOKENS: None},
    }
    keys = {"w1": {"state": "accepted", "pub": PUB}, "w2": {"state": "pending", "pub": PUB}}
    monkeypatch.setattr(joins.salt.cache, "factory", lambda opts: FakeCache({"mine": mine}))

    class Key:
        cache = FakeCache({"keys": keys})

    monkeypatch.setattr(joins.salt.key, "get_key", lambda opts: Key())
    return mine


def test_join_data_reads_the_acl_wrapped_entries_of_the_masters_mine(master):
    got = joins.join_data({}, ["m2", "m1"])
    assert got == {"managers": ["10.0.0.1:2377"], "tokens": TOKENS, "source": "m1"}


def test_members_get_the_roles_token_sealed_to_their_own_key_in_one_publish(master):
    fleet = FakeFleet({"w1": {"retcode": 0, "ret": {"changed": True, "node_id": "n1"}}})
    got = joins.join_members(fleet, ["w1"], "worker", ["m1"], availability="active")
    ((tgt, fun, kwarg),) = fleet.client.published
    assert tgt == ["w1"] and fun == "swarm.join"
    assert kwarg["managers"] == ["10.0.0.1:2377"] and kwarg["availability"] == "active"
    assert sealed.unseal(KEY, kwarg["sealed_token"]["w1"]) == TOKENS["worker"]
    assert TOKENS["worker"] not in repr(kwarg)
    assert got == {
        "through": "m1",
        "done": {"w1": {"changed": True, "node_id": "n1"}},
        "failed": {},
    }


def test_no_usable_entry_is_refused_before_any_publish(master):
    fleet = FakeFleet()
    with pytest.raises(
        SwarmError, match="no address and join tokens of an active manager among m2"
    ):
        joins.join_members(fleet, ["w1"], "worker", ["m2"])
    assert fleet.client.published == []


def test_a_member_without_an_accepted_key_is_refused_before_any_publish(master):
    fleet = FakeFleet()
    with pytest.raises(SwarmError, match="no accepted minion key .*: w2, w3"):
        joins.join_members(fleet, ["w1", "w2", "w3"], "worker", ["m1"])
    assert fleet.client.published == []


def test_failures_and_silent_members_are_named_with_tokens_redacted(master, monkeypatch):
    monkeypatch.setattr(
        joins.salt.key,
        "get_key",
        lambda opts: type(
            "K",
            (),
            {
                "cache": FakeCache(
                    {"keys": {m: {"state": "accepted", "pub": PUB} for m in ("w1", "w2", "w3")}}
                )
            },
        )(),
    )
    answers = {
        "w1": {"retcode": 0, "ret": {"changed": False}},
        "w2": {"retcode": 1, "ret": f"swarm join failed: bad token {TOKENS['worker']}"},
    }
    got = joins.join_members(FakeFleet(answers), ["w1", "w2", "w3"], "worker", ["m1"])
    assert got["done"] == {"w1": {"changed": False}}
    assert got["failed"]["w3"] == "no answer to swarm.join"
    assert "bad token SWMTKN-1-********" in got["failed"]["w2"]
    assert TOKENS["worker"] not in got["failed"]["w2"]


def test_a_bad_role_is_refused_first(master):
    with pytest.raises(SwarmError, match="role"):
        joins.join_members(FakeFleet(), ["w1"], "leader", ["m1"])
