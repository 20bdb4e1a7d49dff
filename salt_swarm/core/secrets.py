"""Join tokens and unlock keys: recognise them, check their kind, keep them out of text."""

from __future__ import annotations

import re

from salt_swarm.core.errors import SwarmError

TOKEN_RE = re.compile(r"SWMTKN-1-[0-9a-z]+-[0-9a-z]+")
UNLOCK_KEY_RE = re.compile(r"SWMKEY-1-[A-Za-z0-9+/=_-]+")
ROLES = ("manager", "worker")
MASK = "********"


def check_token(token, field: str = "token") -> str:
    if not isinstance(token, str) or not re.fullmatch(r"SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}", token):
        raise SwarmError(
            f"{field}: not a swarm join token (expected SWMTKN-1-<50 chars>-<25 chars>); "
            "read it with swarm.join_token on a manager"
        )
    return token


def check_unlock_key(key, field: str = "unlock_key") -> str:
    if not isinstance(key, str) or not UNLOCK_KEY_RE.fullmatch(key):
        raise SwarmError(f"{field}: not a swarm unlock key (expected SWMKEY-1-...)")
    return key


def unlock_key_hidden(settings: dict) -> dict:
    """``settings`` with the unlock key replaced by a stand-in of the same shape (or a
    non-key when it is not one): the plan checks its shape, never needs the key."""
    key = settings.get("unlock_key")
    if not key:
        return dict(settings)
    shaped = isinstance(key, str) and key.startswith("SWMKEY-1-")
    return {**settings, "unlock_key": "SWMKEY-1-hidden" if shaped else "not an unlock key"}


def check_role(role, field: str = "role") -> str:
    if role not in ROLES:
        raise SwarmError(f"{field}: {role!r} is not one of {', '.join(ROLES)}")
    return role


def token_cluster(token: str) -> str:
    """The root-CA digest part of a join token: equal for both tokens of one swarm."""
    return token.split("-")[2]


def token_role(token: str, tokens: dict) -> str | None:
    """Which role ``token`` is for, judged against a manager's {manager, worker} tokens."""
    for role in ROLES:
        if tokens.get(role) == token:
            return role
    return None


def redact(text, secrets=()) -> str:
    """Replace every token, unlock key and given secret in ``text`` with a mask."""
    out = str(text)
    for secret in secrets:
        if isinstance(secret, str) and secret:
            out = out.replace(secret, MASK)
    out = TOKEN_RE.sub("SWMTKN-1-" + MASK, out)
    return UNLOCK_KEY_RE.sub("SWMKEY-1-" + MASK, out)
