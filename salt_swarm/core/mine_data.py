"""What the managers' mine entries give a joining node: manager addresses and tokens.

Only real addresses and real tokens are used: a mine entry holding an error text,
``None`` (a node that is no active manager) or tokens of the wrong shape is skipped.
"""

from __future__ import annotations

import ipaddress

from salt_swarm.core.addresses import split_port
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import check_token


def _good_tokens(tokens: dict) -> dict[str, dict]:
    good = {}
    for minion, data in sorted(tokens.items()):
        if not isinstance(data, dict):
            continue
        try:
            check_token(data.get("manager"))
            check_token(data.get("worker"))
        except SwarmError:
            continue
        good[minion] = data
    return good


def _host(addr) -> str | None:
    """The IP of a real ``addr:port`` entry; None for anything else (an error text)."""
    if not isinstance(addr, str) or not addr:
        return None
    try:
        host, _ = split_port(addr)
        ipaddress.ip_address(host)
    except (SwarmError, ValueError):
        return None
    return host


def usable(addrs: dict, tokens: dict, exclude: str | None = None, prefer=()) -> dict | None:
    """``{managers: [addr:port, ...], tokens: {cluster_id, manager, worker}, source}``
    (``source``: whose tokens) or None.

    ``addrs`` and ``tokens`` map minion id to its ``swarm.manager_addr`` and
    ``swarm.join_tokens`` entries. Without ``prefer``, tokens of two swarms are an
    error (a stale entry to clear). With ``prefer`` (minion ids, best first), the
    first of them with real tokens names the swarm, and entries of any other swarm
    are left out as stale. ``exclude`` is this node's own address.
    """
    good = _good_tokens(tokens)
    chosen = next((m for m in prefer if m in good), None)
    if chosen is not None:
        cluster = good[chosen]["cluster_id"]
        stale = {m for m, t in good.items() if t["cluster_id"] != cluster}
        good = {m: t for m, t in good.items() if m not in stale}
    else:
        stale = set()
        clusters = {t["cluster_id"] for t in good.values()}
        if len(clusters) > 1:
            raise SwarmError(
                f"the mine holds tokens of {len(clusters)} different swarms "
                f"(clusters {', '.join(sorted(clusters))}); clear the stale entries (mine.flush)"
            )
        chosen = next(iter(good), None)
    managers = [
        a
        for m, a in sorted(addrs.items())
        if m not in stale and _host(a) is not None and _host(a) != (exclude or "")
    ]
    if not good or not managers:
        return None
    # Managers whose tokens we have first: they are known members of this swarm.
    with_tokens = {addrs.get(m) for m in good}
    managers.sort(key=lambda a: a not in with_tokens)
    if chosen in addrs and addrs[chosen] in managers:
        managers.remove(addrs[chosen])
        managers.insert(0, addrs[chosen])
    return {"managers": managers, "tokens": good[chosen], "source": chosen}
