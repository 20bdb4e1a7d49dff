"""Unit tests for salt_swarm.core.sealed: tokens sealed to one minion's key."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from salt_swarm.core import sealed
from salt_swarm.core.errors import SwarmError

TOKEN = "SWMTKN-1-" + "a" * 50 + "-" + "w" * 25


@pytest.fixture(scope="module")
def keys():
    """Two minions' RSA keys, as Salt makes them (2048 bits)."""
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)]


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


JID = "20261207120000123456"
NOW = 1_800_000_000


def bound(role="worker", jid=JID, expires=NOW + sealed.TTL):
    return sealed.Binding(role=role, jid=jid, expires=expires)


def test_a_sealed_token_opens_with_its_minions_key_only(keys):
    mine, other = keys
    box = sealed.seal(public_pem(mine), TOKEN, bound())
    assert box.startswith(sealed.PREFIX)
    assert TOKEN not in box and TOKEN.split("-")[3] not in box
    assert sealed.unseal(mine, box, "worker", JID, NOW) == TOKEN
    with pytest.raises(SwarmError, match="does not open with this minion's key"):
        sealed.unseal(other, box, "worker", JID, NOW)


def test_it_opens_only_for_its_role_in_its_job_before_it_expires(keys):
    box = sealed.seal(public_pem(keys[0]), TOKEN, bound())
    with pytest.raises(SwarmError, match="sealed for a worker join, not manager"):
        sealed.unseal(keys[0], box, "manager", JID, NOW)
    # Replayed from the job cache in another job (a new jid), or with none at all.
    with pytest.raises(SwarmError, match="opens only in the job that carried it"):
        sealed.unseal(keys[0], box, "worker", "20261207120500000000", NOW)
    with pytest.raises(SwarmError, match="no job id"):
        sealed.unseal(keys[0], box, "worker", None, NOW)
    assert sealed.unseal(keys[0], box, "worker", JID, NOW + sealed.TTL) == TOKEN
    with pytest.raises(SwarmError, match="expired 1 s ago"):
        sealed.unseal(keys[0], box, "worker", JID, NOW + sealed.TTL + 1)


def test_an_old_style_sealed_token_is_refused_with_the_reason(keys):
    with pytest.raises(SwarmError, match="without role, job and expiry"):
        sealed.unseal(keys[0], "sswseal1:AAAA", "worker", JID, NOW)


def test_a_bad_binding_is_refused_before_sealing(keys):
    with pytest.raises(SwarmError, match="role"):
        sealed.seal(public_pem(keys[0]), TOKEN, bound(role="leader"))
    with pytest.raises(SwarmError, match="job id is digits"):
        sealed.seal(public_pem(keys[0]), TOKEN, bound(jid="1|manager"))


def test_each_seal_differs_so_equal_tokens_cannot_be_matched_across_minions(keys):
    first = sealed.seal(public_pem(keys[0]), TOKEN, bound())
    assert first != sealed.seal(public_pem(keys[0]), TOKEN, bound())


@pytest.mark.parametrize("not_a_token", ["", "SWMTKN-1-short", "hello", None])
def test_only_join_tokens_are_sealed(keys, not_a_token):
    with pytest.raises(SwarmError, match="not a swarm join token"):
        sealed.seal(public_pem(keys[0]), not_a_token, bound())


def test_a_bad_public_key_is_a_clear_error():
    with pytest.raises(SwarmError, match="not an RSA public key"):
        sealed.seal("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n", TOKEN, bound())


@pytest.mark.parametrize(
    "box", ["SWMTKN-1-" + "a" * 50 + "-" + "w" * 25, "sswseal2:!!!not base64", "sswseal2:AAAA"]
)
def test_what_is_not_a_sealed_token_of_ours_is_refused(keys, box):
    with pytest.raises(SwarmError, match="sealed_token"):
        sealed.unseal(keys[0], box, "worker", JID, NOW)


def test_pick_takes_this_minions_entry_and_names_a_missing_one():
    assert sealed.pick({"w1": "sswseal2:x", "w2": "sswseal2:y"}, "w2") == "sswseal2:y"
    assert sealed.pick("sswseal2:x", "w9") == "sswseal2:x"
    with pytest.raises(SwarmError, match="none was sealed for w3"):
        sealed.pick({"w1": "sswseal2:x"}, "w3")
