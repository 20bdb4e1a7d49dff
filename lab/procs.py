"""Start daemons, recognise them again by pid and start time, stop them by pid.

The lab never stops a process by name: it stops the pids it recorded (checking the
start time so a recycled pid is never hit) and, where cgroup v2 is mounted, the pids
found in the lab's own cgroups (children its daemons spawned: containerd, shims,
salt worker processes).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from lab.layout import CGROUP_NAME


@dataclass(frozen=True)
class Proc:
    pid: int
    start_time: int

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Proc | None:
        return cls(int(data["pid"]), int(data["start_time"])) if data else None


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; split after its closing paren.
    return raw[raw.rindex(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def alive(proc: Proc | None) -> bool:
    if proc is None:
        return False
    fields = _stat(proc.pid)
    if fields is None or int(fields[19]) != proc.start_time:
        return False
    if fields[0] in ("Z", "X"):
        _reap(proc.pid)
        return False
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def cgroup_root() -> Path | None:
    """The lab's folder in a writable cgroup v2 hierarchy, or None where there is none."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[2] == "cgroup2":
            base = Path(parts[1])
            if os.access(base, os.W_OK):
                return base / CGROUP_NAME
    return None


def cgroup_pids(group: Path) -> list[int]:
    pids: list[int] = []
    if not group.is_dir():
        return pids
    for procs in group.rglob("cgroup.procs"):
        try:
            pids.extend(int(p) for p in procs.read_text().split())
        except OSError:
            continue
    return pids


def remove_cgroup(group: Path) -> None:
    """Kill what is left in a cgroup, then remove it and its children, deepest first."""
    if not group.is_dir():
        return
    kill_pids(cgroup_pids(group))
    for child in sorted(group.rglob("*"), key=lambda p: -len(p.parts)):
        if child.is_dir():
            with contextlib.suppress(OSError):
                child.rmdir()
    with contextlib.suppress(OSError):
        group.rmdir()


def cpu_seconds(group: Path) -> float | None:
    """CPU time used so far by a cgroup and its children; None if it is not there."""
    try:
        for line in (group / "cpu.stat").read_text().splitlines():
            key, value = line.split()
            if key == "usage_usec":
                return int(value) / 1e6
    except OSError:
        return None
    return None


def wait_idle(group: Path, limit: float = 0.2, window: float = 0.2, timeout: float = 5.0) -> bool:
    """Until the cgroup uses under ``limit`` of a core over ``window`` s, at most
    ``timeout`` s. False if it stayed busy (or is not there)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(group)
        if before is None:
            return False
        time.sleep(window)
        after = cpu_seconds(group)
        if after is not None and (after - before) / window < limit:
            return True
    return False


def spawn(argv: list[str], log: Path, cgroup: Path | None = None, env: dict | None = None) -> Proc:
    """Start a daemon in its own session, logging to ``log``; return its pid record.

    With ``cgroup``, a tiny shell puts itself into the cgroup and then execs the
    daemon, so the daemon and every child it spawns are tracked from the first
    instruction on.
    """
    if cgroup is not None:
        cgroup.mkdir(parents=True, exist_ok=True)
        argv = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup), *argv]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    started = start_time(child.pid)
    if started is None:
        raise RuntimeError(f"{argv[0]} exited at once; see {log}")
    return Proc(child.pid, started)


def stop(procs: list[Proc | None], timeout: float = 20.0) -> list[Proc]:
    """SIGTERM the live ones, wait, SIGKILL what is left; return those that survived."""
    live = [p for p in procs if alive(p)]
    for proc in live:
        _signal(proc.pid, signal.SIGTERM)
    live = wait_gone(live, timeout)
    for proc in live:
        _signal(proc.pid, signal.SIGKILL)
    return wait_gone(live, 5.0)


def kill_pids(pids: list[int]) -> None:
    """SIGKILL pids found in the lab's cgroups, and wait until they are gone."""
    recs = [Proc(pid, st) for pid in pids if (st := start_time(pid)) is not None]
    for proc in recs:
        _signal(proc.pid, signal.SIGKILL)
    wait_gone(recs, 5.0)


def wait_gone(procs: list[Proc], timeout: float) -> list[Proc]:
    deadline = time.monotonic() + timeout
    live = [p for p in procs if alive(p)]
    while live and time.monotonic() < deadline:
        time.sleep(0.05)
        live = [p for p in live if alive(p)]
    return live


def wait_reaped(procs: list[Proc], timeout: float = 5.0) -> None:
    """Give dead processes' parents (often init) a moment to reap the zombies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(start_time(p.pid) == p.start_time for p in procs):
        for proc in procs:
            _reap(proc.pid)
        time.sleep(0.05)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def pss_kib(pid: int) -> int:
    """Proportional set size of a process: shared pages counted once over all sharers."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
