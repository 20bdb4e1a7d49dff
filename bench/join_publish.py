#!/usr/bin/env python3
"""The workers step's join publish at 100, 1,000 and 5,000 joiners, without that many
minions: its size, and the master's time to build it, for the two ways to hand over
the sealed join tokens.

Usage: python bench/join_publish.py [N ...]   (default 100 1000 5000)

- inline: the publish carries ``{minion id: sealed token}`` for every joiner (what
  salt-swarm did before, and still does without the fileserver backend
  ``swarm_formula``);
- pull: the publish carries ``sswpull1:<jid>``; the master keeps the sealed tokens and
  each joiner fetches its own (one fileserver hash and one serve request).

Both seal one token per joiner with a 2048-bit RSA key (Salt's default), as the
master does. Bytes are those of the publish load as Salt serializes it (msgpack).
With ZeroMQ every connected minion receives every publish (unless ``zmq_filtering``
is on), so the bytes on the wire are the load times the connected minions: the
"fleet" column assumes the joiners are the whole fleet. The list target itself (the
joiners' ids) stays in both: it is the remaining per-joiner term of a publish.
"""

from __future__ import annotations

import sys
import time

import salt.payload
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from salt_swarm.core import sealed, sealed_pull

TOKEN = f"SWMTKN-1-{'a' * 50}-{'w' * 25}"
PULL_REQUEST_BYTES = 2 * 400  # a _file_hash_and_stat and a _serve_file, load and reply


def _public_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_bytes(ids: list[str], sealed_token, jid: str) -> int:
    kwarg = {
        "role": "worker",
        "managers": ["198.18.0.2:2377"],
        "sealed_token": sealed_token,
        "__kwarg__": True,
    }
    load = {
        "fun": "swarm.join",
        "arg": [kwarg],
        "tgt": ids,
        "tgt_type": "list",
        "jid": jid,
        "ret": "",
        "user": "root",
    }
    return len(salt.payload.dumps(load))


def measure(count: int, pem: bytes) -> dict:
    ids = [f"worker{i:05d}.example.net" for i in range(count)]
    jid = "20261207120000000000"
    binding = sealed.Binding("worker", jid, int(time.time()) + sealed.TTL)
    began = time.perf_counter()
    tokens = {m: sealed.seal(pem, TOKEN, binding) for m in ids}
    seal_s = time.perf_counter() - began
    began = time.perf_counter()
    inline = load_bytes(ids, tokens, jid)
    inline_s = time.perf_counter() - began
    began = time.perf_counter()
    kept = sealed_pull.kept(tokens, binding.expires)
    pull = load_bytes(ids, sealed_pull.reference(jid), jid)
    pull_s = time.perf_counter() - began
    kept_bytes = len(salt.payload.dumps(kept))
    return {
        "joiners": count,
        "seal_s": seal_s,
        "inline": inline,
        "inline_s": inline_s,
        "pull": pull,
        "pull_s": pull_s,
        "kept": kept_bytes,
    }


def mib(n: float) -> str:
    return f"{n / 2**20:,.2f} MiB"


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [100, 1000, 5000]
    pem = _public_pem()
    print(
        f"{'joiners':>8} {'seal (master)':>14} {'inline load':>14} {'x fleet':>14} "
        f"{'pull load':>12} {'x fleet + pulls':>16} {'ratio':>7} {'kept on master':>15}"
    )
    for count in sizes:
        m = measure(count, pem)
        inline_fleet = m["inline"] * count
        pull_fleet = m["pull"] * count + PULL_REQUEST_BYTES * count
        print(
            f"{count:>8} {m['seal_s']:>12.2f} s {mib(m['inline']):>14} {mib(inline_fleet):>14} "
            f"{mib(m['pull']):>12} {mib(pull_fleet):>16} {inline_fleet / pull_fleet:>6.1f}x "
            f"{mib(m['kept']):>15}"
        )
        print(
            f"{'':>8} per joiner: inline {m['inline'] / count:,.0f} B of the load, pull "
            f"{m['pull'] / count:,.0f} B (its id in the target) + {PULL_REQUEST_BYTES} B "
            f"fetched; building the load {m['inline_s'] * 1000:.1f} ms vs "
            f"{m['pull_s'] * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
