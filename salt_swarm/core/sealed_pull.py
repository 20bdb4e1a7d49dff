"""Sealed join tokens fetched by each joining minion instead of published to all.

A join publish that carried every joiner's sealed token grew with the number of
joiners, and every minion the publish reached received all of them: bytes of the
order of joiners squared. Instead the master keeps the sealed tokens of one job (its
cache, bank ``salt_swarm/sealed``, key the jid) and publishes only a reference,
``sswpull1:<jid>``; each joiner fetches its own through the fileserver backend
``swarm_formula`` at ``salt://_swarm_sealed/<jid>/<sha256 of its id>``: one small
request per joiner. Any minion may ask for any path, as for every file the master
serves; what it gets is sealed to another minion's key and bound to that job, so it
opens nowhere else (core/sealed.py).
"""

from __future__ import annotations

import hashlib
import re

from salt_swarm.core.errors import SwarmError

PREFIX = "sswpull1:"
FOLDER = "_swarm_sealed"
BANK = "salt_swarm/sealed"
_JID = re.compile(r"^\d{20}$")
_PATH = re.compile(rf"^{FOLDER}/(\d{{20}})/([0-9a-f]{{64}})$")


def reference(jid: str) -> str:
    """What the publish carries instead of the sealed tokens."""
    if not _JID.match(str(jid)):
        raise SwarmError(f"sealed token reference: {jid!r} is not a job id")
    return PREFIX + str(jid)


def referenced_jid(value) -> str | None:
    """The jid of a ``sswpull1:<jid>`` reference, None for anything else."""
    if isinstance(value, str) and value.startswith(PREFIX):
        jid = value[len(PREFIX) :]
        if not _JID.match(jid):
            raise SwarmError(f"sealed_token: {value!r} is no reference to a job's tokens")
        return jid
    return None


def digest(minion_id: str) -> str:
    return hashlib.sha256(str(minion_id).encode()).hexdigest()


def path(jid: str, minion_id: str) -> str:
    """The fileserver path of ``minion_id``'s sealed token in job ``jid``."""
    return f"{FOLDER}/{jid}/{digest(minion_id)}"


def parse_path(rel: str) -> tuple[str, str] | None:
    """(jid, digest) of a path under ``_swarm_sealed/``, None for any other path."""
    match = _PATH.match(rel or "")
    return (match.group(1), match.group(2)) if match else None


def kept(sealed_tokens: dict[str, str], expires: int) -> dict:
    """What the master cache keeps for one job: the tokens by digest, and until when."""
    return {"expires": int(expires), "tokens": {digest(m): t for m, t in sealed_tokens.items()}}


def expired(entry, now: float) -> bool:
    return not isinstance(entry, dict) or now > int(entry.get("expires") or 0)


def lookup(entry, token_digest: str, now: float) -> str | None:
    """The sealed token kept under ``token_digest``, None when absent or expired."""
    if expired(entry, now):
        return None
    found = (entry.get("tokens") or {}).get(token_digest)
    return found if isinstance(found, str) else None
