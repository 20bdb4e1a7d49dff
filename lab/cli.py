"""Command line of the lab: ``python -m lab VERB ...``."""

from __future__ import annotations

import argparse
import json
import os
import sys

from lab.lab import Lab, LabError
from lab.prereqs import MissingPrerequisite


def host_names(args) -> list[str]:
    names = list(args.names)
    names += [f"host{i}" for i in range(1, args.hosts + 1)]
    names += [f"manager{i}" for i in range(1, args.managers + 1)]
    names += [f"worker{i}" for i in range(1, args.workers + 1)]
    return list(dict.fromkeys(names))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    p.add_argument(
        "--root",
        help="lab folder (default: $SALT_SWARM_LAB_DIR, else /var/lib/salt-swarm-lab, or "
        "/var/lib/salt-swarm-lab-<i> for lab i of several: SALT_SWARM_LAB_INDEX=i)",
    )
    verbs = p.add_subparsers(dest="verb", required=True)

    up = verbs.add_parser("up", help="start the master and hosts (idempotent; adds hosts)")
    up.add_argument("names", nargs="*", help="host names (= hostnames = minion ids)")
    up.add_argument("--hosts", type=int, default=0, help="also hosts host1..hostN")
    up.add_argument("--managers", type=int, default=0, help="also hosts manager1..managerN")
    up.add_argument("--workers", type=int, default=0, help="also hosts worker1..workerN")
    up.add_argument("--pillar", help="pillar folder for the master (default pillar.example/)")
    up.add_argument("--states", help="file_roots folder (default the repo's states/)")
    up.add_argument("--timeout", type=float, default=180.0)

    rm = verbs.add_parser("remove", help="take hosts out of a running lab (daemons, key, files)")
    rm.add_argument("names", nargs="+", help="host names")
    rs = verbs.add_parser("restart", help="stop one daemon of a host and start it again")
    rs.add_argument("host")
    rs.add_argument("daemon", choices=["dockerd"])
    verbs.add_parser("down", help="stop every lab process and remove what the lab made")
    st = verbs.add_parser("status", help="hosts, addresses, daemons")
    st.add_argument("--json", action="store_true")

    for verb, what in (("salt", "the salt CLI"), ("salt-run", "salt-run")):
        v = verbs.add_parser(verb, help=f"run {what} against the lab's master")
        v.add_argument("args", nargs=argparse.REMAINDER)
    for verb, what in (
        ("salt-call", "salt-call on a host"),
        ("docker", "the docker CLI on a host's dockerd"),
        ("sh", "a command (default: a shell) inside a host's namespaces"),
    ):
        v = verbs.add_parser(verb, help=f"run {what}")
        v.add_argument("host")
        v.add_argument("args", nargs=argparse.REMAINDER)
    return p


def print_status(status: dict) -> None:
    print(
        f"lab {status['root']}  master pid {status['master'] or '-'}  pillar {status['pillar_dir']}"
    )
    print(f"{'HOST':<12} {'ADDRESS':<15} {'DOCKERD':>8} {'MINION':>8}")
    for name, host in status["hosts"].items():
        print(
            f"{name:<12} {host['addr']:<15} {host['dockerd'] or '-':>8} {host['minion'] or '-':>8}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    lab = Lab(args.root)
    try:
        return run(lab, args)
    except (LabError, MissingPrerequisite, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def run(lab: Lab, args) -> int:
    if args.verb == "up":
        names = host_names(args)
        report = lab.up(names, pillar_dir=args.pillar, states_dir=args.states, timeout=args.timeout)
        mem = report.memory_kib
        print(
            f"lab up: {len(report.hosts)} hosts in {report.seconds} s, "
            f"started {len(report.started)} daemons; memory (PSS) "
            + ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in mem.items())
        )
        return 0
    if args.verb == "remove":
        unknown = sorted(set(args.names) - set(lab.hosts))
        if unknown:
            raise LabError(f"not lab hosts: {', '.join(unknown)}")
        print("lab remove: " + ", ".join(lab.remove(args.names)))
        return 0
    if args.verb == "restart":  # a maintenance action run by the host's own minion
        lab.stop_daemon(args.host, args.daemon)
        lab.start_daemon(args.host, args.daemon)
        print(f"lab restart: {args.daemon} on {args.host}")
        return 0
    if args.verb == "down":
        lab.down()
        print("lab down")
        return 0
    if args.verb == "status":
        status = lab.status()
        if args.json:
            print(json.dumps(status, indent=2))
        else:
            print_status(status)
        return 0
    if args.verb in ("salt", "salt-run"):
        res = (lab.salt if args.verb == "salt" else lab.salt_run)(*args.args)
    elif args.verb == "salt-call":
        res = lab.salt_call(args.host, *args.args)
    elif args.verb == "docker":
        res = lab.docker(args.host, *args.args)
    else:
        argv = lab.shell_argv(args.host, args.args or ["bash"])
        env = dict(os.environ, DOCKER_HOST=lab.docker_url(args.host))
        os.execvpe(argv[0], argv, env)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    return res.returncode
