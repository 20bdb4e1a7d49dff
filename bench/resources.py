"""Peak memory (PSS) and CPU time of the lab's master, minions and dockerds while
something runs: sampled from the lab's cgroups, so only the lab's own processes count."""

from __future__ import annotations

import os
import resource
import threading
import time
from pathlib import Path

from lab import procs


def _groups(cg: Path) -> dict[str, list[Path]]:
    return {
        "master": [cg / "master"],
        "minions": sorted(cg.glob("*/minion")),
        "dockerds": sorted(cg.glob("*/dockerd")),
    }


def _cpu_seconds(groups: list[Path]) -> float:
    return sum(procs.cpu_seconds(group) or 0.0 for group in groups)


def lab_cpu() -> float:
    """CPU seconds used so far by every lab daemon: master, minions, dockerds."""
    return sum(_cpu_seconds(g) for g in _groups(procs.cgroup_root()).values())


QUIET_LIMIT = 0.5  # cores: under this the lab counts as quiet
QUIET_WINDOW = 1.0  # seconds
QUIET_TIMEOUT = 60.0  # at 3+20 the dockerds took up to 26 s to go quiet after Ready


def cores() -> int:
    """The CPUs this process (and so the lab, which shares them) may run on."""
    return len(os.sched_getaffinity(0))


def spent_cpu() -> float:
    """CPU seconds so far of the lab's daemons and of the commands this process ran
    and waited for (salt-run, salt): what a timed part costs the machine."""
    own = resource.getrusage(resource.RUSAGE_CHILDREN)
    return lab_cpu() + own.ru_utime + own.ru_stime


class CpuBound:
    """``with CpuBound() as c: ...``: ``c.cpu``, the CPU seconds the body set off,
    counted until the lab is quiet again (a join keeps dockerds busy long after it
    returns, and on shared cores that work competes with the body); ``c.least``, that
    CPU spread over all of this machine's cores: the body and the work it set off
    cannot be done sooner."""

    def __enter__(self):
        self.before = spent_cpu()
        return self

    def __exit__(self, *exc):
        mark, calm = _until_quiet(spent_cpu, QUIET_LIMIT, QUIET_WINDOW, QUIET_TIMEOUT)
        if not calm:
            print(f"the lab was not quiet {QUIET_TIMEOUT:.0f} s after a timed part")
        self.cpu = mark - self.before  # the quiet second itself is not counted
        self.least = self.cpu / cores()
        return False


def _until_quiet(read, limit: float, window: float, timeout: float) -> tuple[float, bool]:
    """Sample ``read()`` (CPU seconds) every ``window`` s until it grows by less than
    ``limit`` cores, at most ``timeout`` s. Returns the reading at the start of the
    last window, and whether the lab went quiet."""
    began = time.monotonic()
    while True:
        mark = read()
        time.sleep(window)
        if read() - mark < limit * window:
            return mark, True
        if time.monotonic() - began >= timeout:
            return mark, False


def quiet(limit: float = QUIET_LIMIT, window: float = QUIET_WINDOW, timeout: float = 30) -> float:
    """Wait until the lab's daemons use less than ``limit`` cores over ``window`` s
    (a leave or join sets dockerds working for seconds after it returns), at most
    ``timeout`` s. Returns the seconds waited."""
    began = time.monotonic()
    _until_quiet(lab_cpu, limit, window, timeout)
    return time.monotonic() - began


def cpu_probe(adds: int = 2_000_000) -> float:
    """Milliseconds one core takes for ``adds`` Python additions, the lab quiet: how
    fast the machine runs right now. On shared cloud cores it can change several
    times over within an hour, so the bench prints it beside each run."""
    quiet()
    began = time.perf_counter()
    total = 0
    for i in range(adds):
        total += i
    return (time.perf_counter() - began) * 1000


def cpu_times() -> tuple[int, int]:
    """(steal, total) jiffies of the machine so far, from /proc/stat: the time the
    hypervisor gave our virtual CPUs to someone else, and all of it."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return 100.0 * (after[0] - before[0]) / total if total > 0 else 0.0


def dockerd_cpu() -> float:
    """CPU seconds used so far by every lab host's dockerd (with its children)."""
    return _cpu_seconds(_groups(procs.cgroup_root())["dockerds"])


def _pss_mib(group: Path) -> float:
    return sum(procs.pss_kib(pid) for pid in procs.cgroup_pids(group)) / 1024


class Usage:
    """``with Usage() as u: ...`` then ``u.report()``: peak PSS (MiB) of the master,
    of all minions together and of the largest single minion; CPU seconds of each kind."""

    def __init__(self, interval: float = 0.25):
        self.cg = procs.cgroup_root()
        self.interval = interval
        self.peak = {"master": 0.0, "minions": 0.0, "one minion": 0.0}
        self._stop = threading.Event()

    def _sample(self) -> None:
        groups = _groups(self.cg)
        while not self._stop.is_set():
            minions = [_pss_mib(g) for g in groups["minions"]]
            now = {
                "master": _pss_mib(groups["master"][0]),
                "minions": sum(minions),
                "one minion": max(minions, default=0.0),
            }
            for key, value in now.items():
                self.peak[key] = max(self.peak[key], value)
            self._stop.wait(self.interval)

    def __enter__(self):
        self.began = time.monotonic()
        self.cpu_before = {k: _cpu_seconds(v) for k, v in _groups(self.cg).items()}
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()
        self.wall = time.monotonic() - self.began
        after = {k: _cpu_seconds(v) for k, v in _groups(self.cg).items()}
        self.cpu = {k: after[k] - self.cpu_before[k] for k in after}
        return False

    def report(self) -> str:
        cpu = ", ".join(f"{k} {v:.1f} s" for k, v in self.cpu.items())
        mem = ", ".join(f"{k} {v:.0f} MiB" for k, v in self.peak.items())
        return f"wall {self.wall:.1f} s; CPU: {cpu}; peak PSS: {mem}"
