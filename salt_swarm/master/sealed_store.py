"""The master's side of core/sealed_pull.py: the sealed tokens of a join job kept in
the master cache until they expire, and whether the minions can fetch them (the
fileserver backend ``swarm_formula`` is enabled)."""

from __future__ import annotations

import time

import salt.cache

from salt_swarm.core import sealed_pull


def available(opts: dict) -> bool:
    return "swarm_formula" in (opts.get("fileserver_backend") or [])


def keep(opts: dict, jid: str, sealed_tokens: dict[str, str], expires: int) -> None:
    """Keep one job's tokens; those of jobs expired are dropped on the way."""
    cache = salt.cache.factory(opts)
    now = time.time()
    for old in cache.list(sealed_pull.BANK) or []:
        if sealed_pull.expired(cache.fetch(sealed_pull.BANK, old), now):
            cache.flush(sealed_pull.BANK, old)
    cache.store(sealed_pull.BANK, jid, sealed_pull.kept(sealed_tokens, expires))


def fetch(opts: dict, jid: str, token_digest: str) -> str | None:
    entry = salt.cache.factory(opts).fetch(sealed_pull.BANK, jid)
    return sealed_pull.lookup(entry, token_digest, time.time())
