"""Unit tests for salt_swarm.core.secrets.

All tokens and keys here are obviously fake and built from repeated characters.
"""

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import (
    MASK,
    check_role,
    check_token,
    check_unlock_key,
    redact,
    token_cluster,
    token_role,
)


def fake_token(cluster="a", secret="b", cluster_len=50, secret_len=25, prefix="SWMTKN-1-"):
    """A join token of the right shape, made of repeated characters."""
    return f"{prefix}{cluster * cluster_len}-{secret * secret_len}"


def fake_key(body="K", length=43):
    return "SWMKEY-1-" + body * length


MANAGER_TOKEN = fake_token("a", "m")
WORKER_TOKEN = fake_token("a", "w")
OTHER_SWARM_TOKEN = fake_token("z", "w")
UNLOCK_KEY = fake_key()


# -- check_token ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        MANAGER_TOKEN,
        WORKER_TOKEN,
        fake_token("0", "9"),
        fake_token("1a", "2b", cluster_len=25, secret_len=12) + "c",
    ],
)
def test_check_token_accepts(token):
    assert check_token(token) == token


@pytest.mark.parametrize(
    "token",
    [
        None,
        42,
        b"SWMTKN-1-" + b"a" * 50 + b"-" + b"b" * 25,
        "",
        fake_token(cluster_len=49),
        fake_token(cluster_len=51),
        fake_token(secret_len=24),
        fake_token(secret_len=26),
        fake_token("A"),  # upper case
        fake_token(secret="_"),
        fake_token(prefix="SWMTKN-2-"),
        fake_token(prefix="swmtkn-1-"),
        fake_token(prefix=""),
        " " + MANAGER_TOKEN,
        MANAGER_TOKEN + "\n",
        MANAGER_TOKEN + "-c",
        fake_key(),
    ],
)
def test_check_token_refuses(token):
    with pytest.raises(SwarmError, match=r"^token: not a swarm join token"):
        check_token(token)


def test_check_token_names_the_given_field():
    with pytest.raises(SwarmError, match="^join_token: "):
        check_token("nope", field="join_token")


def test_check_token_error_does_not_echo_the_value():
    bad = fake_token(secret_len=24)
    with pytest.raises(SwarmError) as err:
        check_token(bad)
    assert bad not in str(err.value)


# -- check_unlock_key ----------------------------------------------------------------


@pytest.mark.parametrize(
    "key", [UNLOCK_KEY, fake_key("a"), "SWMKEY-1-" + "Ab+/=_-9" * 5, "SWMKEY-1-x"]
)
def test_check_unlock_key_accepts(key):
    assert check_unlock_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        None,
        42,
        "",
        "SWMKEY-1-",
        "SWMKEY-2-" + "K" * 43,
        "swmkey-1-" + "K" * 43,
        UNLOCK_KEY + " ",
        UNLOCK_KEY + "!",
        MANAGER_TOKEN,
    ],
)
def test_check_unlock_key_refuses(key):
    with pytest.raises(SwarmError, match=r"^unlock_key: not a swarm unlock key"):
        check_unlock_key(key)


def test_check_unlock_key_names_the_given_field():
    with pytest.raises(SwarmError, match="^key: "):
        check_unlock_key("nope", field="key")


# -- check_role ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "worker"])
def test_check_role_accepts(role):
    assert check_role(role) == role


@pytest.mark.parametrize("role", ["Manager", "WORKER", "leader", "", None, 1, ["manager"]])
def test_check_role_refuses(role):
    with pytest.raises(SwarmError, match=r"^role: .* is not one of manager, worker"):
        check_role(role)


def test_check_role_names_the_given_field():
    with pytest.raises(SwarmError, match="^new_role: 'boss'"):
        check_role("boss", field="new_role")


# -- token_cluster / token_role ------------------------------------------------------


def test_token_cluster_is_the_ca_digest_part():
    assert token_cluster(MANAGER_TOKEN) == "a" * 50


def test_both_tokens_of_one_swarm_share_the_cluster_part():
    assert token_cluster(MANAGER_TOKEN) == token_cluster(WORKER_TOKEN)
    assert token_cluster(WORKER_TOKEN) != token_cluster(OTHER_SWARM_TOKEN)


@pytest.mark.parametrize(
    ("token", "tokens", "expected"),
    [
        (MANAGER_TOKEN, {"manager": MANAGER_TOKEN, "worker": WORKER_TOKEN}, "manager"),
        (WORKER_TOKEN, {"manager": MANAGER_TOKEN, "worker": WORKER_TOKEN}, "worker"),
        (OTHER_SWARM_TOKEN, {"manager": MANAGER_TOKEN, "worker": WORKER_TOKEN}, None),
        (WORKER_TOKEN, {"worker": WORKER_TOKEN}, "worker"),
        (WORKER_TOKEN, {}, None),
        # Docker API capitalisation is not what this function expects
        (WORKER_TOKEN, {"Worker": WORKER_TOKEN}, None),
    ],
)
def test_token_role(token, tokens, expected):
    assert token_role(token, tokens) == expected


# -- redact --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        (
            f"docker swarm join --token {WORKER_TOKEN} 198.18.0.10:2377",
            (),
            f"docker swarm join --token SWMTKN-1-{MASK} 198.18.0.10:2377",
        ),
        (
            f"manager={MANAGER_TOKEN} worker={WORKER_TOKEN}",
            (),
            f"manager=SWMTKN-1-{MASK} worker=SWMTKN-1-{MASK}",
        ),
        (f"key: {UNLOCK_KEY}\n", (), f"key: SWMKEY-1-{MASK}\n"),
        ("password is s3cr3t-value!", ("s3cr3t-value",), f"password is {MASK}!"),
        ("a hunter2 b hunter2", ["hunter2"], f"a {MASK} b {MASK}"),
        ("nothing secret here", (), "nothing secret here"),
        ("nothing secret here", ("", None), "nothing secret here"),
        ("SWMTKN is a word, SWMKEY too", (), "SWMTKN is a word, SWMKEY too"),
        ("", (), ""),
        (None, (), "None"),
        (42, (), "42"),
    ],
)
def test_redact(text, secrets, expected):
    assert redact(text, secrets) == expected


def test_redact_leaves_no_trace_of_any_secret():
    text = f"t={MANAGER_TOKEN} k={UNLOCK_KEY} p=hunter2 addr=198.18.0.10"
    out = redact(text, ["hunter2"])
    for secret in (MANAGER_TOKEN, "m" * 25, "a" * 50, UNLOCK_KEY, "K" * 43, "hunter2"):
        assert secret not in out
    assert "addr=198.18.0.10" in out


def test_redact_masks_an_exception_message():
    exc = RuntimeError(f"join failed with token {WORKER_TOKEN}")
    assert redact(exc) == f"join failed with token SWMTKN-1-{MASK}"
