"""One message for an unknown key, with the closest known one when there is one."""

from __future__ import annotations

import difflib


def unknown_key(field: str, key, known) -> str:
    names = [str(k) for k in known]
    close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.5)
    close = close or [n for n in names if str(key).startswith(n) or n.startswith(str(key))][:1]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{field}: unknown key {key!r}{hint}; known: {', '.join(sorted(names))}"
