"""Join tokens sealed to one minion's own Salt key, so the master can hand them over
in a job's arguments without the job cache ever holding a usable token.

The master encrypts with the minion's accepted public key (RSA-OAEP, SHA-256); only
the minion's private key (``pki_dir/minion.pem``) opens it. Inside, the token is
bound to the role it is for, the job (jid) that carries it and an expiry time: the
minion opens it only in that job, for that role, before that time, so a sealed
token copied from the job cache cannot be replayed in another job, even while the
minion's key is unchanged. A sealed token is text: ``sswseal2:`` and the base64 of
the ciphertext.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import check_role, check_token

PREFIX = "sswseal2:"
OLD_PREFIXES = ("sswseal1:",)
# Bound into every ciphertext: a blob sealed for something else does not open as a token.
LABEL = b"salt-swarm join token v2"
# How long a sealed token may be opened after it was sealed. Master and minion clocks
# must agree within this; the jid binding is what stops a replay.
TTL = 600


@dataclass(frozen=True)
class Binding:
    """What a sealed token is for: the role, the job that carries it, until when."""

    role: str
    jid: str
    expires: int  # epoch seconds

    def check(self) -> Binding:
        check_role(self.role)
        if not isinstance(self.jid, str) or not self.jid.isdigit():
            raise SwarmError(f"sealed_token: a job id is digits, not {self.jid!r}")
        return self


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=LABEL)


def seal(public_pem: str | bytes, token: str, binding: Binding) -> str:
    """``token`` (a join token) and its ``binding``, encrypted to the RSA public key
    ``public_pem``."""
    check_token(token)
    binding.check()
    if isinstance(public_pem, str):
        public_pem = public_pem.encode()
    try:
        key = serialization.load_pem_public_key(public_pem)
    except ValueError as exc:
        raise SwarmError(f"cannot seal a token: not an RSA public key ({exc})") from None
    payload = f"{binding.role}|{binding.jid}|{int(binding.expires)}|{token}"
    sealed = key.encrypt(payload.encode(), _oaep())
    return PREFIX + base64.b64encode(sealed).decode()


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def unseal(private_key, sealed: str, role: str, jid: str | None, now: float) -> str:
    """The join token inside ``sealed``, when it was sealed for ``role`` in job ``jid``
    and ``now`` (epoch seconds) is before its expiry. ``private_key`` is a
    ``cryptography`` RSA key."""
    if isinstance(sealed, str) and sealed.startswith(OLD_PREFIXES):
        raise SwarmError(
            "sealed_token: sealed by an older salt-swarm, without role, job and expiry: "
            "refused; run the orchestrate again with the same version on master and minions"
        )
    if not is_sealed(sealed):
        raise SwarmError(f"sealed_token: not a sealed token (expected {PREFIX}...)")
    try:
        blob = base64.b64decode(sealed[len(PREFIX) :], validate=True)
        payload = private_key.decrypt(blob, _oaep()).decode()
    except (binascii.Error, ValueError):
        raise SwarmError(
            "sealed_token: it does not open with this minion's key (sealed for another "
            "minion, or the minion key changed since)"
        ) from None
    parts = payload.split("|", 3)
    if len(parts) != 4 or not parts[2].isdigit():
        raise SwarmError("sealed_token: it opens, but holds no role, job and expiry")
    sealed_role, sealed_jid, expires, token = parts
    if sealed_role != role:
        raise SwarmError(f"sealed_token: sealed for a {sealed_role} join, not {role}")
    if not jid or sealed_jid != str(jid):
        raise SwarmError(
            f"sealed_token: sealed for job {sealed_jid}, not this one ({jid or 'no job id'}): "
            "a sealed token opens only in the job that carried it"
        )
    if now > int(expires):
        raise SwarmError(
            f"sealed_token: expired {int(now) - int(expires)} s ago (are the master's and "
            "this minion's clocks apart?)"
        )
    return check_token(token, "sealed_token")


def pick(sealed, minion_id: str) -> str:
    """From ``{minion id: sealed token}`` (one publish for many minions) this minion's."""
    if isinstance(sealed, dict):
        mine = sealed.get(minion_id)
        if mine is None:
            raise SwarmError(f"sealed_token: none was sealed for {minion_id}")
        return mine
    return sealed
