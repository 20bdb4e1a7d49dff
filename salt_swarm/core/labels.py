"""Node label validation and diffs (merge or replace, plus keys to remove)."""

from __future__ import annotations

import re

from salt_swarm.core.errors import SwarmError

_KEY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$")
MAX_KEY = 255
MAX_VALUE = 4096
MODES = ("merge", "replace")


def validate(labels, field: str = "labels") -> dict[str, str]:
    """Return labels as str -> str, or raise naming the bad key or value."""
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise SwarmError(
            f"{field}: expected a mapping of label keys to values, got {type(labels).__name__}"
        )
    clean = {}
    for key, value in labels.items():
        check_key(key, field)
        if isinstance(value, dict | list | tuple | set):
            raise SwarmError(
                f"{field}: value of {key!r} must be a string, got {type(value).__name__}"
            )
        text = (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
        if len(text) > MAX_VALUE or "\n" in text or "\x00" in text:
            raise SwarmError(f"{field}: value of {key!r} is too long or holds a newline")
        clean[key] = text
    return clean


def check_key(key, field: str = "labels") -> str:
    if not isinstance(key, str) or not key:
        raise SwarmError(f"{field}: label key {key!r} must be a non-empty string")
    if len(key) > MAX_KEY or not _KEY_RE.match(key):
        raise SwarmError(
            f"{field}: bad label key {key!r}: use letters, digits, '.', '-', '_' and '/', "
            "starting and ending with a letter or digit"
        )
    return key


def desired(current: dict, wanted: dict | None, mode: str = "merge", remove=None) -> dict[str, str]:
    """The label set a node should end with."""
    if mode not in MODES:
        raise SwarmError(f"labels_mode: {mode!r} is not one of {', '.join(MODES)}")
    wanted = validate(wanted)
    if isinstance(remove, str):  # one key, or several comma-separated, from the CLI
        remove = [k.strip() for k in remove.split(",") if k.strip()]
    remove = [check_key(k, "labels_remove") for k in (remove or [])]
    if mode == "replace":
        result = dict(wanted)
    else:
        result = dict(current or {})
        result.update(wanted)
    for key in remove:
        if key in wanted:
            raise SwarmError(f"labels_remove: {key!r} is also in labels")
        result.pop(key, None)
    return result


def diff(old: dict, new: dict) -> dict:
    """Changes between two label sets, in Salt's changes style; empty if equal."""
    old, new = old or {}, new or {}
    changes = {}
    added = {k: v for k, v in new.items() if k not in old}
    removed = sorted(k for k in old if k not in new)
    changed = {k: {"old": old[k], "new": v} for k, v in new.items() if k in old and old[k] != v}
    if added:
        changes["added"] = added
    if changed:
        changes["changed"] = changed
    if removed:
        changes["removed"] = removed
    return changes
