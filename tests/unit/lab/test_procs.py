"""procs.wait_idle on a cgroup's CPU time: pure logic, on a fake clock and usage."""

import pytest

from lab import procs
from tests.unit.fake_clock import Clock


def test_cpu_seconds_reads_usage(tmp_path):
    (tmp_path / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 0\nsystem_usec 0\n")
    assert procs.cpu_seconds(tmp_path) == 2.5
    assert procs.cpu_seconds(tmp_path / "gone") is None


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(procs, "time", fake)
    return fake


def busy_until(monkeypatch, clock, seconds):
    """A group that uses a full core for ``seconds`` of the fake clock, then nothing."""
    monkeypatch.setattr(procs, "cpu_seconds", lambda group: min(clock.now, seconds))


def test_an_idle_group_is_idle_after_one_window(monkeypatch, tmp_path, clock):
    busy_until(monkeypatch, clock, 0)
    assert procs.wait_idle(tmp_path, window=0.05, timeout=2) is True
    assert clock.now == pytest.approx(0.05)


def test_a_busy_group_is_waited_for_until_it_calms_down(monkeypatch, tmp_path, clock):
    busy_until(monkeypatch, clock, 0.3)
    assert procs.wait_idle(tmp_path, window=0.05, timeout=3) is True
    assert 0.3 <= clock.now <= 0.4


def test_a_group_that_stays_busy_or_is_missing_gives_false(monkeypatch, tmp_path, clock):
    assert procs.wait_idle(tmp_path / "gone", window=0.05, timeout=0.2) is False
    busy_until(monkeypatch, clock, 60)
    assert procs.wait_idle(tmp_path, window=0.05, timeout=0.3) is False
    assert clock.now < 60
