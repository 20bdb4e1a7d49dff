"""A highstate on every member at once: wall time of the `salt` command, and how many
states reported changes. Raises when a minion does not return or a state fails."""

from __future__ import annotations

import json
import time

from lab.lab import Lab


def highstate(lab: Lab, members: list[str]) -> tuple[float, int]:
    began = time.monotonic()
    res = lab.salt("-L", ",".join(members), "state.apply", "--out=json", "--static", "-t", "120")
    took = time.monotonic() - began
    try:
        data = json.loads(res.stdout)
    except ValueError:
        raise SystemExit(f"highstate: no JSON\n{res.stdout}{res.stderr}") from None
    changes, failed = 0, []
    for minion in members:
        states = data.get(minion)
        if not isinstance(states, dict):
            failed.append(f"{minion}: {states!r}"[:200])
            continue
        for state in states.values():
            changes += bool(state.get("changes"))
            if state.get("result") is not True:
                failed.append(f"{minion}: {state.get('comment')}"[:200])
    if failed:
        raise SystemExit("highstate failed:\n" + "\n".join(failed))
    return took, changes
