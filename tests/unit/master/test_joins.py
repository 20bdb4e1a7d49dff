"""Joins driven by the master: refused before any publish when the mine or a key is
missing; every member's answer sorted into done and failed, tokens redacted."""

import time

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


class FakeClient:
    def __init__(self, answers):
        self.answers = answers
        self.published = []

    def cmd(self, tgt, fun, kwarg=None, **kw):
        self.published.append((tgt, fun, kwarg, kw.get("jid")))
        return self.answers


class FakeFleet:
    def __init__(self, answers=None):
        self.opts = {"hash_type": "sha256"}
        self.client = FakeClient(answers or {})


@pytest.fixture
def master(monkeypatch):
    def acl(data):
        return {"__saltmine_acl__": 1, "__data__": data, "allow_tgt": "m*"}

    mine = {
        "m1": {
            joins.MINE_ADDR: "10.0.0.1:2377",
            joins.MINE_TOKEN["worker"]: acl({"cluster_id": "c1", "worker": TOKENS["worker"]}),
            joins.MINE_TOKEN["manager"]: acl({"cluster_id": "c1", "manager": TOKENS["manager"]}),
        },
        "m2": {joins.MINE_ADDR: None, joins.MINE_TOKEN["worker"]: None},
    }
    keys = {"w1": PUB}
    monkeypatch.setattr(
        joins.salt_internals, "cached_mine", lambda opts, ms: {m: mine[m] for m in ms if m in mine}
    )
    monkeypatch.setattr(joins.salt_internals, "accepted_public_key", lambda opts, m: keys.get(m))
    return keys


def test_join_data_reads_the_acl_wrapped_entry_of_the_roles_token(master):
    got = joins.join_data({}, ["m2", "m1"], "worker")
    assert got == {
        "managers": ["10.0.0.1:2377"],
        "tokens": {"cluster_id": "c1", "worker": TOKENS["worker"]},
        "source": "m1",
    }
    assert joins.join_data({}, ["m2", "m1"], "manager")["tokens"]["manager"] == TOKENS["manager"]


def test_members_get_the_roles_token_sealed_to_their_own_key_in_one_publish(master):
    fleet = FakeFleet({"w1": {"retcode": 0, "ret": {"changed": True, "node_id": "n1"}}})
    got = joins.join_members(fleet, ["w1"], "worker", ["m1"], availability="active")
    ((tgt, fun, kwarg, jid),) = fleet.client.published
    assert tgt == ["w1"] and fun == "swarm.join"
    assert kwarg["managers"] == ["10.0.0.1:2377"] and kwarg["availability"] == "active"
    # Sealed for this role, in this very job (the publish carries the jid it was sealed for).
    box = kwarg["sealed_token"]["w1"]
    assert sealed.unseal(KEY, box, "worker", jid, time.time()) == TOKENS["worker"]
    with pytest.raises(SwarmError, match="not this one"):
        sealed.unseal(KEY, box, "worker", str(int(jid) + 1), time.time())
    with pytest.raises(SwarmError, match="sealed for a worker join, not manager"):
        sealed.unseal(KEY, box, "manager", jid, time.time())
    assert TOKENS["worker"] not in repr(kwarg)
    assert got == {
        "through": "m1",
        "done": {"w1": {"changed": True, "node_id": "n1"}},
        "failed": {},
    }


def test_no_usable_entry_is_refused_before_any_publish(master):
    fleet = FakeFleet()
    with pytest.raises(SwarmError, match="no address and worker join token of an active manager"):
        joins.join_members(fleet, ["w1"], "worker", ["m2"])
    assert fleet.client.published == []


def test_a_member_without_an_accepted_key_is_refused_before_any_publish(master):
    fleet = FakeFleet()
    with pytest.raises(SwarmError, match="no accepted minion key .*: w2, w3"):
        joins.join_members(fleet, ["w1", "w2", "w3"], "worker", ["m1"])
    assert fleet.client.published == []


def test_failures_and_silent_members_are_named_with_tokens_redacted(master):
    master.update(w2=PUB, w3=PUB)
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


def test_one_minions_call_is_an_exact_list_target_whatever_its_id_holds():
    """A minion id may hold glob characters and commas: a call to that minion must
    not reach the others its id would match as a glob or split into as a list."""
    from salt_swarm.master.fleet import Fleet

    published = []

    class Client:
        def cmd(self, tgt, fun, **kw):
            published.append((tgt, kw.get("tgt_type")))
            return {tgt[0]: {"retcode": 0, "ret": {"ok": True}}}

    fleet = Fleet({}, timeout=1)
    fleet._client = Client()
    for minion in ("host*", "a,host1", "host[1-3]"):
        assert fleet.call(minion, "swarm.info") == {"ok": True}
    assert published == [(["host*"], "list"), (["a,host1"], "list"), (["host[1-3]"], "list")]


class MemCache:
    def __init__(self):
        self.banks = {}

    def store(self, bank, key, data):
        self.banks.setdefault(bank, {})[key] = data

    def fetch(self, bank, key):
        return self.banks.get(bank, {}).get(key, {})

    def list(self, bank):
        return list(self.banks.get(bank, {}))

    def flush(self, bank, key=None):
        self.banks.get(bank, {}).pop(key, None)


def test_with_the_fileserver_backend_the_publish_holds_a_reference_each_joiner_fetches(
    master, monkeypatch
):
    from salt_swarm.core import sealed_pull
    from salt_swarm.fileserver import swarm_formula
    from salt_swarm.master import sealed_store

    cache = MemCache()
    monkeypatch.setattr(sealed_store.salt.cache, "factory", lambda opts: cache)
    old = sealed_pull.kept({"w9": "sswseal2:old"}, expires=int(time.time()) - 1)
    cache.store(sealed_pull.BANK, "1" * 20, old)  # an expired job's tokens go
    master["w2"] = PUB
    fleet = FakeFleet({m: {"retcode": 0, "ret": {"changed": True}} for m in ("w1", "w2")})
    fleet.opts["fileserver_backend"] = ["roots", "swarm_formula"]
    joins.join_members(fleet, ["w1", "w2"], "worker", ["m1"])
    ((_, _, kwarg, jid),) = fleet.client.published
    assert kwarg["sealed_token"] == f"sswpull1:{jid}"  # the same few bytes for any number
    assert cache.list(sealed_pull.BANK) == [jid]

    # The fileserver serves w1's own sealed token at its path; nothing at another.
    monkeypatch.setattr(swarm_formula, "__opts__", {"hash_type": "sha256"}, raising=False)
    rel = sealed_pull.path(jid, "w1")
    fnd = swarm_formula.find_file(rel)
    served = swarm_formula.serve_file({"path": rel, "loc": 0}, fnd)["data"].decode()
    assert sealed.unseal(KEY, served, "worker", jid, time.time()) == TOKENS["worker"]
    assert swarm_formula.file_hash({"path": rel}, fnd)["hsum"]
    assert swarm_formula.find_file(sealed_pull.path(jid, "w3"))["path"] == ""
    assert swarm_formula.find_file(f"_swarm_sealed/{jid}/../../etc/passwd")["path"] == ""
    assert not any("_swarm_sealed" in f for f in swarm_formula.file_list({}))


def test_a_reference_is_a_job_id_and_nothing_else():
    from salt_swarm.core import sealed_pull

    assert sealed_pull.referenced_jid("sswpull1:" + "2" * 20) == "2" * 20
    assert sealed_pull.referenced_jid("sswseal2:abc") is None
    assert sealed_pull.referenced_jid({"w1": "x"}) is None
    with pytest.raises(SwarmError, match="no reference"):
        sealed_pull.referenced_jid("sswpull1:../x")
