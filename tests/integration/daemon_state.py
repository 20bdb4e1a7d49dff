"""Runs in the background and watches on the lab's daemons, for the fault tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from lab import swarms
from tests.integration.conftest import Orchestrate, read_orchestrate


class Background:
    """An orchestrate run by ``salt-run`` in a session of its own, so that ``stop()``
    can end it and anything it started (by its pid, as a process group)."""

    def __init__(self, lab, sls: str, timeout: float):
        self.proc = subprocess.Popen(
            lab.salt_run_argv("state.orchestrate", sls),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        pool = ThreadPoolExecutor(max_workers=1)
        self._output = pool.submit(self._communicate, timeout)
        pool.shutdown(wait=False)

    def _communicate(self, timeout: float):
        try:
            return self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(grace=5)
            raise

    def done(self) -> bool:
        return self._output.done()

    def result(self, timeout: float | None = None) -> Orchestrate:
        """An Orchestrate (summary may be absent)."""
        stdout, stderr = self._output.result(timeout=timeout)
        return read_orchestrate(self.proc.returncode, stdout, stderr)

    def stop(self, grace: float = 10) -> None:
        """End the run if it still goes on: SIGTERM to its group, SIGKILL after ``grace``."""
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=grace)


def in_background(lab, sls="swarm.bootstrap", timeout=600) -> Background:
    """Start the orchestrate; ``.result()`` gives an Orchestrate (summary may be absent)."""
    return Background(lab, sls, timeout)


def watch(check, until, interval=0.05):
    """Call ``check`` every ``interval`` s until ``until()`` is true; return what it saw."""
    seen = []
    while not until():
        try:
            seen.append(check())
        except Exception as exc:  # a daemon restarting: note it, keep watching
            seen.append(exc)
        time.sleep(interval)
    return seen


def managers_ready(lab, manager: str) -> int:
    nodes = swarms.node_states(lab, manager)
    return sum(
        1
        for n in nodes.values()
        if n["Spec"]["Role"] == "manager" and n["Status"]["State"] == "ready"
    )
