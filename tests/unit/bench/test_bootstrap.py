"""Unit tests for bench/bootstrap.py's step_seconds: an orchestrate's time split into
before the first step, each step, and after the last (pure logic, no lab)."""

from datetime import datetime

import pytest

from bench.bootstrap import step_seconds


def _state(run: int, name: str, start: str, ms: float) -> dict:
    return {"__run_num__": run, "__id__": name, "start_time": start, "duration": ms}


def test_before_each_step_and_after_add_up_to_the_wall_time():
    steps = {
        "b": _state(1, "workers", "10:00:07.000000", 3000),
        "a": _state(0, "first manager", "10:00:05.500000", 1000),
    }
    got = step_seconds(steps, datetime(2026, 12, 3, 10, 0, 0), took=12.0)
    assert list(got) == ["before", "first manager", "workers", "after"]
    assert got["before"] == pytest.approx(5.5)
    assert got["first manager"] == pytest.approx(1.0)
    assert got["after"] == pytest.approx(2.0)  # 12 - (7 + 3)


def test_a_run_that_passes_midnight():
    steps = {"a": _state(0, "only", "00:00:01.000000", 500)}
    got = step_seconds(steps, datetime(2026, 12, 3, 23, 59, 58), took=4.0)
    assert got["before"] == pytest.approx(3.0)
    assert got["after"] == pytest.approx(0.5)


def test_no_steps_is_all_before():
    assert step_seconds({}, datetime(2026, 12, 3), took=3.0) == {"before": 3.0, "after": 0.0}
