"""The README's demo: a lab of 3 managers and 3 workers, then every host's swarm.info."""

from __future__ import annotations

import argparse
import json
import sys

from salt_swarm.core.table import format_table
from salt_swarm.lab.lab import Lab


def info_table(infos: dict) -> str:
    rows = []
    for minion in sorted(infos):
        i = infos[minion]
        if not isinstance(i, dict):
            rows.append((minion, None, f"error: {i}", None, None, None, None))
            continue
        manager = "yes" if i["manager"] else "no"
        rows.append(
            (
                minion,
                i["hostname"],
                i["state"],
                manager,
                i["node_id"],
                i["address"],
                i["engine_version"],
            )
        )
    header = ("MINION", "HOSTNAME", "STATE", "MANAGER", "NODE ID", "ADDRESS", "ENGINE")
    return format_table(header, rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m salt_swarm.lab.demo")
    p.add_argument("--managers", type=int, default=3)
    p.add_argument("--workers", type=int, default=3)
    args = p.parse_args(argv)
    names = [f"manager{i}" for i in range(1, args.managers + 1)]
    names += [f"worker{i}" for i in range(1, args.workers + 1)]
    lab = Lab()
    report = lab.up(names)
    print(f"lab: {len(report.hosts)} hosts up in {report.seconds} s")
    res = lab.salt("-L", ",".join(names), "swarm.info", "--out=json", "--static")
    if res.returncode != 0:
        print(res.stdout + res.stderr, file=sys.stderr)
        return res.returncode
    print(info_table(json.loads(res.stdout)))
    print("\nTake the lab down with: .venv/bin/python -m salt_swarm.lab down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
