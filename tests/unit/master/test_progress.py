"""Progress events of long runs (master/progress.py): what a step fires, and the
line a terminal shows."""

from salt_swarm.master import progress


class Fleet:
    opts = {"sock_dir": "/nonexistent"}


def test_a_step_fires_its_summary_after_a_real_run_only(monkeypatch):
    fired = []
    monkeypatch.setattr(progress, "fire", lambda opts, what, data: fired.append((what, data)))

    @progress.reported("step")
    def step(fleet, record, name, members, test, **how):
        changes = {m: {"new": "worker"} for m in members}
        return {"name": name, "result": True, "changes": changes, "comment": "joined"}

    step(Fleet(), None, "swarm workers", ["w1", "w2"], False, settle=None)
    step(Fleet(), None, "swarm workers", ["w1"], test=True)
    step(None, None, "no fleet", ["w1"], False)
    assert fired == [
        (
            "bootstrap/step",
            {"step": "swarm workers", "result": True, "joined": 2, "comment": "joined"},
        )
    ]


def test_lines_for_a_terminal():
    tag = progress.PREFIX + "bootstrap/step"
    data = {"step": "swarm workers", "result": False, "joined": 3, "comment": "FAILED: w4"}
    assert progress.line(tag, data) == "[FAILED] swarm workers, 3 joined: FAILED: w4"
    step = {"index": 2, "nodes": ["w2"]}
    assert progress.line(progress.PREFIX + "maintain/step", step) == "maintained step 2: w2"
    stopped = progress.line(progress.PREFIX + "maintain/stopped", {"stage": "action"})
    assert stopped == "maintain/stopped: stage=action"


def test_a_bus_that_cannot_take_the_event_does_not_fail_the_run():
    progress.fire({"sock_dir": "/nonexistent/sock", "transport": "zeromq"}, "x", {})
