"""The managers' mine entries: each present, each token readable only by whom it is for.

The master stores what a manager sends under ``mine_functions`` (``swarm.manager_addr``,
``swarm.worker_token``, ``swarm.manager_token``, each possibly with ``allow_tgt``) and
answers a minion's ``mine.get`` only when the entry's ``allow_tgt`` matches it. The
worker token lets its holder join as a worker: members only. The manager token lets
its holder join as a manager, which controls the swarm: managers only. A target by
grain is chosen by the minion itself, so it is refused unless grains are trusted.
"""

from __future__ import annotations

from salt_swarm.core.mine_data import MINE_ADDR, MINE_TOKEN
from salt_swarm.core.role_targets import grain_based

KINDS = {"addr": MINE_ADDR, "worker": MINE_TOKEN["worker"], "manager": MINE_TOKEN["manager"]}
# Gave every reader both tokens (salt-swarm 0.1); its name no longer exists.
OBSOLETE = "swarm.join_tokens"


def problems(
    reports: dict, managers, workers, names: dict, trust_grains: bool, nodegroups=None
) -> list[str]:
    """What is wrong with the mine entries each manager reports (``swarm.preflight``'s
    ``mine``: alias -> {kind, function, allow_tgt, allow_tgt_type})."""
    wanted = {
        "addr": names.get("addr_function") or KINDS["addr"],
        "worker": names.get("worker_token_function") or KINDS["worker"],
        "manager": names.get("manager_token_function") or KINDS["manager"],
    }
    found = []
    for minion in sorted(managers):
        entries = reports.get(minion)
        if not isinstance(entries, dict):
            continue  # did not answer: named as such elsewhere
        kinds = {e.get("kind") for e in entries.values() if isinstance(e, dict)}
        if "obsolete" in kinds:
            found.append(
                f"{minion}: mine_functions names {OBSOLETE}, which salt-swarm no longer has (it "
                f"gave every reader the manager token): use {KINDS['worker']} (allow_tgt: the "
                f"members) and {KINDS['manager']} (allow_tgt: the managers), docs/security.md"
            )
        for kind, function in wanted.items():
            if kind not in kinds:
                found.append(
                    f"{minion}: mine_functions has no entry for {function}: the joins need it "
                    "(pillar.example/swarm.sls shows the entries)"
                )
        for alias, entry in sorted(entries.items()):
            if not isinstance(entry, dict) or entry.get("kind") not in ("worker", "manager"):
                continue
            kind = entry["kind"]
            tgt, tgt_type = entry.get("allow_tgt"), entry.get("allow_tgt_type") or "glob"
            if not tgt:
                found.append(
                    f"{minion}: mine_functions entry {alias} has no allow_tgt: every minion "
                    f"could read the {kind} join token"
                )
            elif not trust_grains and grain_based(tgt, tgt_type, nodegroups):
                found.append(
                    f"{minion}: mine_functions entry {alias}: allow_tgt {tgt!r} ({tgt_type}) "
                    f"matches on grains, which each minion sets for itself: any minion could "
                    f"read the {kind} join token (or set swarm:trust_grains, docs/security.md)"
                )
    return found


def acls(reports: dict, managers) -> set[tuple[str, str, str]]:
    """(allow_tgt, allow_tgt_type, kind) of the managers' token entries."""
    out = set()
    for minion in managers:
        for entry in (reports.get(minion) or {}).values():
            kind = entry.get("kind") if isinstance(entry, dict) else None
            tgt = entry.get("allow_tgt") if kind in ("worker", "manager") else None
            if tgt and isinstance(tgt, str):
                out.add((tgt, entry.get("allow_tgt_type") or "glob", kind))
    return out


def reader_problems(kind: str, tgt: str, readers: set, managers, workers) -> list[str]:
    """Minions a token entry's ``allow_tgt`` lets read it that must not."""
    allowed = set(managers) if kind == "manager" else set(managers) | set(workers)
    extra = sorted(set(readers) - allowed)
    if not extra:
        return []
    who = "managers" if kind == "manager" else "members"
    return [
        f"the {kind} join token's allow_tgt {tgt!r} also matches {', '.join(extra)}, "
        f"which are not {who}: they could join as {kind}s; narrow it to the {who}"
    ]
