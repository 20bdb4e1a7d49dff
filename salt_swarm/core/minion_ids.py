"""Minion ids and event fields as they reach the master: data to check, never to trust.

Salt refuses only ``/``, ``\\`` and NUL in a minion id (``salt.utils.verify.valid_id``),
so an id may hold a newline, a colon, quotes or YAML. Such an id is legal and is
handled as data; what is checked here is only what Salt itself would refuse, and the
shape of the values a reactor hands over.
"""

from __future__ import annotations

import json
import re

from salt_swarm.core.errors import SwarmError

MAX_ID_LENGTH = 255  # a file name under the master's pki dir
MAX_MINIONS_PER_EVENT = 1000
START_TAG = re.compile(r"salt/minion/(.+)/start", re.DOTALL)


_PLAIN = re.compile(r"[A-Za-z0-9_.@-]+")


def shown(value) -> str:
    """A value as a message may show it: quoted and escaped, one line."""
    return json.dumps(value, ensure_ascii=True) if isinstance(value, str) else repr(value)


def shown_id(minion) -> str:
    """A minion id in a message or log line: as it is when plain, else quoted and
    escaped (an id may hold a newline that would forge another log line)."""
    return minion if isinstance(minion, str) and _PLAIN.fullmatch(minion) else shown(minion)


def check_minion_id(value, field: str = "minion") -> str:
    """``value`` if it is a minion id Salt would accept, else SwarmError."""
    if not isinstance(value, str) or not value:
        raise SwarmError(f"{field}: expected a minion id (a non-empty string), got {shown(value)}")
    if any(c in value for c in ("/", "\\", "\0")) or value in (".", ".."):
        raise SwarmError(f"{field}: {shown(value)} is not a valid minion id")
    if len(value) > MAX_ID_LENGTH:
        raise SwarmError(f"{field}: a minion id of {len(value)} characters is not valid")
    return value


def check_minion_list(value, field: str = "minions") -> list[str]:
    """A list of minion ids (a comma-separated string is split), each checked."""
    if isinstance(value, str):
        value = [m for m in value.split(",") if m]
    if not isinstance(value, list | tuple) or not value:
        raise SwarmError(f"{field}: expected a list of minion ids, got {shown(value)}")
    if len(value) > MAX_MINIONS_PER_EVENT:
        raise SwarmError(f"{field}: {len(value)} minions at once is more than this takes")
    return [check_minion_id(m, f"{field}[{i}]") for i, m in enumerate(value)]


def check_start_tag(tag, minion: str) -> None:
    """A minion start event's tag must name the minion that sent it (``data["id"]``,
    which the master sets to the authenticated sender); a tag naming another minion
    is a forgery."""
    found = START_TAG.fullmatch(tag) if isinstance(tag, str) else None
    if found is None:
        raise SwarmError(f"event tag {shown(tag)} is not a minion start tag")
    if found.group(1) != minion:
        raise SwarmError(
            f"event tag {shown(tag)} names another minion than its sender {shown(minion)}: "
            "a forged start event, ignored"
        )
