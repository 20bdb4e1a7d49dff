"""Node labels taken from a node's grains (cloud tags, or any grain by key pattern).

Pillar ``swarm:grain_labels`` is a list of rules::

    - grain: ec2_tags        # a grain holding a mapping ('a:b' walks nested grains);
      keys: 'docker.*'       # without it, the top-level grains are searched
      prefix: ''             # put before each label key (optional)

Every key of the searched mapping that matches the ``keys`` glob and holds a scalar
becomes a label ``prefix + key`` with the value as text. Labels whose key matches
``prefix + keys`` are owned by the rules: one the grains no longer give is removed
from the node, so labels follow grain changes. Other labels are left alone.

A rule whose grain is missing (or not a mapping) owns nothing on that run: a grain
module that failed to load must not strip the labels it gave (a warning names it).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.labels import check_key

RULE_KEYS = ("grain", "keys", "prefix")


def check_rules(rules, field: str = "swarm:grain_labels") -> list[dict]:
    """The rules with defaults filled in, or raise naming the bad rule and key."""
    if rules in (None, ""):
        return []
    if not isinstance(rules, list):
        raise SwarmError(
            f"{field}: expected a list of {{grain, keys, prefix}}, got {type(rules).__name__}"
        )
    clean = []
    for i, rule in enumerate(rules):
        where = f"{field}[{i}]"
        if not isinstance(rule, dict):
            raise SwarmError(f"{where}: expected a mapping {{grain, keys, prefix}}, got {rule!r}")
        unknown = sorted(set(rule) - set(RULE_KEYS), key=str)
        if unknown:
            raise SwarmError(
                f"{where}: unknown key(s) {', '.join(map(str, unknown))}; known: grain, keys, prefix"
            )
        grain = rule.get("grain") or ""
        keys = rule.get("keys")
        prefix = rule.get("prefix") or ""
        for name, value in (("grain", grain), ("keys", keys), ("prefix", prefix)):
            if value is not None and not isinstance(value, str):
                raise SwarmError(f"{where}:{name}: expected a string, got {value!r}")
        if not keys:
            if not grain:
                raise SwarmError(
                    f"{where}: needs keys (a glob such as 'docker.*') when no grain is named: "
                    "every grain would become a label"
                )
            keys = "*"
        if prefix:
            check_key(prefix.rstrip("./-_") or prefix, f"{where}:prefix")
        clean.append({"grain": grain, "keys": keys, "prefix": prefix})
    return clean


def owned_patterns(rules) -> list[str]:
    """Globs of the label keys the rules may own (each rule's ``prefix + keys``)."""
    return sorted({r["prefix"] + r["keys"] for r in check_rules(rules)})


@dataclass
class Taken:
    """What the rules make of one node's grains: the ``labels``, the label globs they
    ``owned`` (rules whose grain is present), what was ``skipped`` and the rules whose
    grain is ``missing`` (each a text for a warning)."""

    labels: dict[str, str] = field(default_factory=dict)
    owned: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        return [f"skipped {why}" for why in self.skipped] + self.missing


def taken(grains: dict, rules) -> Taken:
    out = Taken()
    owned = set()
    for i, rule in enumerate(check_rules(rules)):
        source = _walk(grains or {}, rule["grain"])
        if not isinstance(source, dict):
            what = "missing" if source is None else f"a {type(source).__name__}, not a mapping"
            out.missing.append(
                f"swarm:grain_labels[{i}]: grain {rule['grain']!r} is {what}: labels "
                f"{rule['prefix'] + rule['keys']!r} are kept as they are"
            )
            continue
        owned.add(rule["prefix"] + rule["keys"])
        for key, value in sorted(source.items(), key=lambda kv: str(kv[0])):
            if not isinstance(key, str) or not fnmatch.fnmatchcase(key, rule["keys"]):
                continue
            where = f"{rule['grain'] + ':' if rule['grain'] else ''}{key}"
            if isinstance(value, dict | list | tuple | set):
                out.skipped.append(f"{where}: a {type(value).__name__}, not a scalar")
                continue
            label = rule["prefix"] + key
            try:
                check_key(label)
            except SwarmError:
                out.skipped.append(f"{where}: {label!r} is not a valid label key")
                continue
            out.labels[label] = _text(value)
    out.owned = sorted(owned)
    return out


def labels_from(grains: dict, rules) -> dict[str, str]:
    """The labels the rules take from ``grains``; keys that are not valid label keys,
    and values that are mappings or lists, are skipped."""
    return taken(grains, rules).labels


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def needed_grains(grains: dict, rules) -> dict:
    """The part of ``grains`` the rules read (their grain, only the keys they match):
    what a minion sends so the master computes its labels with the master's rules."""
    out: dict = {}
    for rule in check_rules(rules):
        source = _walk(grains or {}, rule["grain"])
        if not isinstance(source, dict):
            continue
        picked = {
            k: v
            for k, v in source.items()
            if isinstance(k, str) and fnmatch.fnmatchcase(k, rule["keys"])
        }
        node = out
        for part in [p for p in rule["grain"].split(":") if p]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node.update(picked)
    return out


def stale_keys(current: dict, wanted: dict, owned) -> list[str]:
    """Keys of ``current`` the rules own (``owned`` globs) that ``wanted`` lacks."""
    return sorted(
        k
        for k in (current or {})
        if k not in wanted and any(fnmatch.fnmatchcase(k, p) for p in owned or ())
    )


def _walk(grains: dict, path: str):
    if not path:
        return grains
    node = grains
    for part in path.split(":"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
