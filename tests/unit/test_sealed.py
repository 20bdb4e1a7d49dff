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


def test_a_sealed_token_opens_with_its_minions_key_only(keys):
    mine, other = keys
    box = sealed.seal(public_pem(mine), TOKEN)
    assert box.startswith(sealed.PREFIX)
    assert TOKEN not in box and TOKEN.split("-")[3] not in box
    assert sealed.unseal(mine, box) == TOKEN
    with pytest.raises(SwarmError, match="does not open with this minion's key"):
        sealed.unseal(other, box)


def test_each_seal_differs_so_equal_tokens_cannot_be_matched_across_minions(keys):
    assert sealed.seal(public_pem(keys[0]), TOKEN) != sealed.seal(public_pem(keys[0]), TOKEN)


@pytest.mark.parametrize("not_a_token", ["", "SWMTKN-1-short", "hello", None])
def test_only_join_tokens_are_sealed(keys, not_a_token):
    with pytest.raises(SwarmError, match="not a swarm join token"):
        sealed.seal(public_pem(keys[0]), not_a_token)


def test_a_bad_public_key_is_a_clear_error():
    with pytest.raises(SwarmError, match="not an RSA public key"):
        sealed.seal("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n", TOKEN)


@pytest.mark.parametrize(
    "box", ["SWMTKN-1-" + "a" * 50 + "-" + "w" * 25, "sswseal1:!!!not base64", "sswseal1:AAAA"]
)
def test_what_is_not_a_sealed_token_of_ours_is_refused(keys, box):
    with pytest.raises(SwarmError, match="sealed_token"):
        sealed.unseal(keys[0], box)


def test_pick_takes_this_minions_entry_and_names_a_missing_one():
    assert sealed.pick({"w1": "sswseal1:x", "w2": "sswseal1:y"}, "w2") == "sswseal1:y"
    assert sealed.pick("sswseal1:x", "w9") == "sswseal1:x"
    with pytest.raises(SwarmError, match="none was sealed for w3"):
        sealed.pick({"w1": "sswseal1:x"}, "w3")
