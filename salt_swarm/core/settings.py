"""The ``swarm:`` settings: every top-level key, its kind and its default, written once.

The pillar check takes its known keys and kinds from here, the code its defaults
(``default(key)``); tests check the formula's defaults.yaml and docs/pillar.md
against this table. ``None`` as a default means "not set": the code then decides
(Docker's choice, the pillar's managers target, no store, ...).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # target, address, init, flag, labels, seconds, text, url, mapping, ...
    default: object = None


SETTINGS = (
    Setting("managers", "target"),
    Setting("workers", "target"),
    Setting("first_manager", "text"),
    Setting("advertise_addr", "address"),
    Setting("listen_addr", "address"),
    Setting("init", "init"),
    Setting("drain_managers", "flag", True),
    Setting("labels", "labels", ()),
    Setting("mine_timeout", "seconds", 60),
    Setting("check_wait", "seconds", 30),
    Setting("lost_grace", "seconds", 300),
    Setting("timeout", "seconds", 30),
    Setting("docker_url", "url"),
    Setting("tls_cert", "text"),
    Setting("tls_key", "text"),
    Setting("tls_ca", "text"),
    Setting("tls_verify", "flag"),
    Setting("unlock_key", "unlock_key"),
    Setting("mine", "mine"),
    Setting("engine", "engine"),
    Setting("grain_labels", "grain_labels", ()),
    Setting("token_store", "token_store"),
    Setting("store_timeout", "seconds", 300),
    Setting("election_ttl", "seconds"),
    Setting("trust_grains", "flag", False),
    Setting("apps", "apps"),
    Setting("budget", "budget"),
    Setting("formula_version", "text"),
)

BY_KEY = {s.key: s for s in SETTINGS}
KNOWN_KEYS = tuple(BY_KEY)


def default(key: str):
    """The default of ``swarm:<key>``; KeyError for a key that is not a setting."""
    return BY_KEY[key].default


def of_kind(kind: str) -> tuple[str, ...]:
    return tuple(s.key for s in SETTINGS if s.kind == kind)
