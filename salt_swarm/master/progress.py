"""Progress of long runs as master events, for ``salt-run swarm.watch`` (or any
listener): ``salt/swarm/progress/bootstrap/step`` after each orchestrate step,
``.../bootstrap/done`` after its final check, ``.../maintain/<stage>`` as a rolling
maintenance goes. Events carry names and counts, never a token."""

from __future__ import annotations

import functools
import inspect
import logging

import salt.utils.event

log = logging.getLogger(__name__)

PREFIX = "salt/swarm/progress/"
ENDS = ("bootstrap/done", "maintain/done", "maintain/stopped")


def fire(opts: dict, what: str, data: dict) -> None:
    """One progress event; a bus that cannot take it costs a debug line, not the run."""
    try:
        with salt.utils.event.get_master_event(opts, opts["sock_dir"], listen=False) as bus:
            bus.fire_event(data, PREFIX + what)
    except Exception as exc:  # noqa: BLE001 - progress must never fail the work
        log.debug("salt-swarm: progress event %s not sent: %s", what, exc)


def step_summary(ret: dict) -> dict:
    """What a step's state return says, in counts: minions joined, whether it failed."""
    changes = ret.get("changes") or {}
    joined = sorted(m for m, c in changes.items() if isinstance(c, dict) and "new" in c)
    return {
        "step": ret.get("name"),
        "result": ret.get("result"),
        "joined": len(joined),
        "comment": str(ret.get("comment") or "")[:300],
    }


def reported(what: str):
    """Decorate an orchestrate step ``(fleet, record, name, ..., test, ...)``: after a
    real run (not ``test``), fire ``bootstrap/<what>`` with the step's summary."""

    def wrap(step):
        signature = inspect.signature(step)

        @functools.wraps(step)
        def run(fleet, *args, **kwargs):
            ret = step(fleet, *args, **kwargs)
            test = signature.bind(fleet, *args, **kwargs).arguments.get("test")
            if fleet is not None and not test:
                fire(fleet.opts, f"bootstrap/{what}", step_summary(ret))
            return ret

        return run

    return wrap


def line(tag: str, data: dict) -> str:
    """One line for a terminal."""
    what = tag[len(PREFIX) :] if tag.startswith(PREFIX) else tag
    if what.startswith("bootstrap/"):
        mark = {True: "ok", False: "FAILED", None: "--"}.get(data.get("result"), "?")
        joined = f", {data['joined']} joined" if data.get("joined") else ""
        return f"[{mark}] {data.get('step')}{joined}: {data.get('comment', '')}"
    if what == "maintain/step":
        return f"maintained step {data.get('index')}: {', '.join(data.get('nodes') or [])}"
    return f"{what}: " + ", ".join(f"{k}={v}" for k, v in sorted(data.items()) if k[0] != "_")
