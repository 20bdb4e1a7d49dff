"""Join tokens sealed to one minion's own Salt key, so the master can hand them over
in a job's arguments without the job cache ever holding a usable token.

The master encrypts with the minion's accepted public key (RSA-OAEP, SHA-256); only
the minion's private key (``pki_dir/minion.pem``) opens it. A sealed token is text:
``sswseal1:`` and the base64 of the ciphertext.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import check_token

PREFIX = "sswseal1:"
# Bound into every ciphertext: a blob sealed for something else does not open as a token.
LABEL = b"salt-swarm join token"


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=LABEL)


def seal(public_pem: str | bytes, token: str) -> str:
    """``token`` (a join token) encrypted to the RSA public key ``public_pem``."""
    check_token(token)
    if isinstance(public_pem, str):
        public_pem = public_pem.encode()
    try:
        key = serialization.load_pem_public_key(public_pem)
    except ValueError as exc:
        raise SwarmError(f"cannot seal a token: not an RSA public key ({exc})") from None
    sealed = key.encrypt(token.encode(), _oaep())
    return PREFIX + base64.b64encode(sealed).decode()


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def unseal(private_key, sealed: str) -> str:
    """The join token inside ``sealed``; ``private_key`` is a ``cryptography`` RSA key."""
    if not is_sealed(sealed):
        raise SwarmError(f"sealed_token: not a sealed token (expected {PREFIX}...)")
    try:
        blob = base64.b64decode(sealed[len(PREFIX) :], validate=True)
        token = private_key.decrypt(blob, _oaep()).decode()
    except (binascii.Error, ValueError):
        raise SwarmError(
            "sealed_token: it does not open with this minion's key (sealed for another "
            "minion, or the minion key changed since)"
        ) from None
    return check_token(token, "sealed_token")


def pick(sealed, minion_id: str) -> str:
    """From ``{minion id: sealed token}`` (one publish for many minions) this minion's."""
    if isinstance(sealed, dict):
        mine = sealed.get(minion_id)
        if mine is None:
            raise SwarmError(f"sealed_token: none was sealed for {minion_id}")
        return mine
    return sealed
