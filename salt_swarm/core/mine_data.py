"""What the managers' mine entries give a joining node: manager addresses and the
join token of its role.

Each token has a mine function of its own (``swarm.worker_token``,
``swarm.manager_token``), so each can have its own ``allow_tgt``: the manager token
is readable by managers only. An entry is ``{cluster_id, <role>: token}``. Only real
addresses and real tokens are used: an entry holding an error text, ``None`` (a node
that is no active manager) or a token of the wrong shape is skipped.
"""

from __future__ import annotations

import ipaddress

from salt_swarm.core.addresses import split_port
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import ROLES, check_role, check_token

MINE_ADDR = "swarm.manager_addr"
MINE_TOKEN = {"worker": "swarm.worker_token", "manager": "swarm.manager_token"}


def token_entry(tokens: dict, role: str) -> dict:
    """The mine entry of ``role``'s token from a manager's ``{cluster_id, manager, worker}``."""
    return {"cluster_id": tokens["cluster_id"], role: tokens[role]}


def _good_tokens(tokens: dict, role: str) -> dict[str, dict]:
    good = {}
    for minion, data in sorted(tokens.items()):
        if not isinstance(data, dict) or not isinstance(data.get("cluster_id"), str):
            continue
        try:
            check_token(data.get(role))
        except SwarmError:
            continue
        good[minion] = {"cluster_id": data["cluster_id"], role: data[role]}
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


def usable(
    addrs: dict, tokens: dict, role: str, exclude: str | None = None, prefer=()
) -> dict | None:
    """``{managers: [addr:port, ...], tokens: {cluster_id, <role>: token}, source}``
    (``source``: whose token) or None.

    ``addrs`` and ``tokens`` map minion id to its ``swarm.manager_addr`` entry and its
    entry of ``role``'s token. Without ``prefer``, tokens of two swarms are an
    error (a stale entry to clear). With ``prefer`` (minion ids, best first), the
    first of them with a real token names the swarm, and entries of any other swarm
    are left out as stale. ``exclude`` is this node's own address.
    """
    check_role(role)
    good = _good_tokens(tokens, role)
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


def join_data(addrs: dict, by_role: dict, role: str, need_token: bool = True, exclude=None):
    """What a joiner takes from the managers' entries: ``usable`` for ``role``; with
    ``need_token`` False (the token was given) the other role's entries do too, for
    the addresses and to tell a token of the wrong kind. ``tokens`` then holds every
    token known of that swarm. ``by_role``: role -> minion -> token entry."""
    found = usable(addrs, by_role.get(role) or {}, role, exclude)
    other = "manager" if role == "worker" else "worker"
    if found is None and not need_token:
        found = usable(addrs, by_role.get(other) or {}, other, exclude)
    if found is None:
        return None
    for kind in ROLES:
        entry = (by_role.get(kind) or {}).get(found["source"])
        if (
            kind not in found["tokens"]
            and isinstance(entry, dict)
            and entry.get("cluster_id") == found["tokens"]["cluster_id"]
            and _good_tokens({found["source"]: entry}, kind)
        ):
            found["tokens"][kind] = entry[kind]
    return found
