"""A file_roots folder for the benches: the formula (linked), a no-op state, a top
file that can point at either, and an orchestrate with bootstrap.sls's shape that
only pings (what Salt itself costs for the same publishes, no Docker and no swarm)."""

from __future__ import annotations

from pathlib import Path

from lab.lab import repo_root

NOOP = "nothing to do:\n  test.nop: []\n"


def _ping(step: str, targets: list[str], previous: str | None) -> str:
    text = (
        f"{step}:\n  salt.function:\n    - name: test.ping\n"
        f"    - tgt: {','.join(targets)}\n    - tgt_type: list\n    - failhard: True\n"
    )
    if previous:
        text += f"    - require:\n      - salt: {previous}\n"
    return text


def salt_floor_sls(managers: list[str], workers: list[str]) -> str:
    """The bootstrap's publishes with test.ping: every member (the plan's preflight),
    the first manager, each other manager, all workers at once, then one on the
    first manager for the node settings (which the bootstrap runs beside the
    workers' joins, and whose node list its check then reads)."""
    steps = [("preflight", managers + workers), ("first manager", managers[:1])]
    steps += [(f"manager {m}", [m]) for m in managers[1:]]
    steps += [("workers", workers), ("node settings", managers[:1])]
    parts, previous = [], None
    for step, targets in steps:
        if targets:
            parts.append(_ping(step, targets, previous))
            previous = step
    return "\n".join(parts)


def make(folder: Path, managers: list[str], workers: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "swarm"
    if not link.exists():
        link.symlink_to(repo_root() / "states" / "swarm")
    (folder / "noop.sls").write_text(NOOP)
    (folder / "salt_floor.sls").write_text(salt_floor_sls(managers, workers))
    point_top(folder, "swarm")
    return folder


def point_top(folder: Path, sls: str) -> None:
    """Every minion's highstate applies ``sls`` (``swarm`` or ``noop``)."""
    (folder / "top.sls").write_text(f"base:\n  '*':\n    - {sls}\n")
