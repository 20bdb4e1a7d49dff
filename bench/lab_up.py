#!/usr/bin/env python3
"""Time and memory of `lab up` from nothing, for several host counts.

Usage (root): python bench/lab_up.py 4 23
Prints one row per count: wall seconds of `up`, PSS of the lab's processes by kind,
and how much MemAvailable dropped. Takes the lab down before and after each row.
"""

import os
import sys
from pathlib import Path

from lab import Lab


def mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def main(counts: list[int]) -> None:
    lab = Lab()
    print(f"cpus {os.cpu_count()}")
    print(
        f"{'hosts':>5} {'up s':>6} {'PSS MiB':>8} {'master':>7} {'dockerd':>8} {'minion':>7} {'MemAvail drop MiB':>18}"
    )
    for count in counts:
        lab.down(log=lambda *_: None)
        before = mem_available_kib()
        report = lab.up([f"host{i}" for i in range(1, count + 1)], log=lambda *_: None)
        drop = (before - mem_available_kib()) / 1024
        m = {k: v / 1024 for k, v in report.memory_kib.items()}
        print(
            f"{count:>5} {report.seconds:>6.1f} {m.get('total', 0):>8.0f} {m['master']:>7.0f} "
            f"{m['dockerd']:>8.0f} {m['minion']:>7.0f} {drop:>18.0f}"
        )
        lab.down(log=lambda *_: None)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [4, 23])
