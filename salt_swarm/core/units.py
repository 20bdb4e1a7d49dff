"""Durations, sizes and flags as people write them in SLS and on the command line
('1m30s', '500ms', '64M', 'false'), turned into what the Docker API and the code take
(nanoseconds, bytes, booleans), and back for reports."""

from __future__ import annotations

import re

from salt_swarm.core.errors import SwarmError

NS = 1_000_000_000
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)")
_DURATION_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": NS, "m": 60 * NS, "h": 3600 * NS}
_DURATION_NS["d"] = 24 * _DURATION_NS["h"]
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$", re.IGNORECASE)
_SIZE_FACTOR = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def truthy(value) -> bool:
    """A flag as given: 'false', 'no', 'off', '0' and '' are False, as is any falsy value."""
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


def duration_ns(value, field: str) -> int:
    """'1m30s', '500ms', '2h', or a number of seconds -> nanoseconds (>= 0)."""
    if isinstance(value, bool) or value is None:
        raise SwarmError(f"{field}: {value!r} is not a duration such as 10s, 500ms or 1m30s")
    if isinstance(value, int | float):
        if value < 0:
            raise SwarmError(f"{field}: {value!r} is negative")
        return int(value * NS)
    text = str(value).strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise SwarmError(f"{field}: {value!r} is not a duration such as 10s, 500ms or 1m30s")
    return int(sum(float(n) * _DURATION_NS[u] for n, u in parts))


def shown_duration(ns) -> str | None:
    """Nanoseconds as the shortest exact text ('90s' -> '1m30s')."""
    if ns is None:
        return None
    ns = int(ns)
    if ns == 0:
        return "0s"
    out = ""
    for unit in ("h", "m", "s", "ms", "us", "ns"):
        size = _DURATION_NS[unit]
        if ns >= size:
            out += f"{ns // size}{unit}"
            ns %= size
    return out


def size_bytes(value, field: str) -> int:
    """'64M', '1.5G', '512k', '1024' or a number -> bytes (binary units)."""
    if isinstance(value, bool) or value is None:
        raise SwarmError(f"{field}: {value!r} is not a size such as 64M or 1G")
    if isinstance(value, int | float):
        if value < 0:
            raise SwarmError(f"{field}: {value!r} is negative")
        return int(value)
    match = _SIZE.match(str(value).strip())
    if not match:
        raise SwarmError(f"{field}: {value!r} is not a size such as 64M or 1G")
    return int(float(match.group(1)) * _SIZE_FACTOR[match.group(2).lower()])


def nano_cpus(value, field: str) -> int:
    """CPUs as a number (0.5, 2) -> Docker's NanoCPUs."""
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        raise SwarmError(f"{field}: {value!r} is not a number of CPUs such as 0.5 or 2") from None
    if isinstance(value, bool) or cpus <= 0:
        raise SwarmError(f"{field}: {value!r} must be a positive number of CPUs")
    return int(round(cpus * NS))
