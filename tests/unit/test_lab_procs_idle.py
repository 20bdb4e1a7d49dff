"""procs.wait_idle on a cgroup's CPU time: pure logic, checked on a fake usage clock."""

import time

from lab import procs


def test_cpu_seconds_reads_usage(tmp_path):
    (tmp_path / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 0\nsystem_usec 0\n")
    assert procs.cpu_seconds(tmp_path) == 2.5
    assert procs.cpu_seconds(tmp_path / "gone") is None


def busy_until(monkeypatch, seconds):
    """A group that uses a full core for ``seconds``, then nothing."""
    began = time.monotonic()
    monkeypatch.setattr(procs, "cpu_seconds", lambda group: min(time.monotonic() - began, seconds))


def test_an_idle_group_is_idle_after_one_window(monkeypatch, tmp_path):
    busy_until(monkeypatch, 0)
    began = time.monotonic()
    assert procs.wait_idle(tmp_path, window=0.05, timeout=2) is True
    assert time.monotonic() - began < 0.5


def test_a_busy_group_is_waited_for_until_it_calms_down(monkeypatch, tmp_path):
    busy_until(monkeypatch, 0.3)
    began = time.monotonic()
    assert procs.wait_idle(tmp_path, window=0.05, timeout=3) is True
    assert time.monotonic() - began >= 0.3


def test_a_group_that_stays_busy_or_is_missing_gives_false(monkeypatch, tmp_path):
    assert procs.wait_idle(tmp_path / "gone", window=0.05, timeout=0.2) is False
    busy_until(monkeypatch, 60)
    assert procs.wait_idle(tmp_path, window=0.05, timeout=0.3) is False
