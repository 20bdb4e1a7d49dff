"""A node's membership through a token store, with no salt-master in the loop.

``converge`` brings the local node to its role using the join data in a store
(``salt_swarm.core.token_store``), in this order:

1. read the store (the managers and this role's token): a store that is down fails
   here, before anything changes;
2. a member of a swarm checks it is the store's swarm; a manager refreshes the store
   (tokens after a rotation, its own address; a store in salt-swarm 0.1's layout is
   moved to the current one) and applies the labels workers published;
3. not a member, join data published: join through them (a manager then adds its
   address to the list);
4. a manager, nothing published: the store's election picks one node, which inits
   and publishes; the others wait for the data and join, or elect again if the
   elected node's claim lapses (it died) with nothing published;
5. a worker, nothing published: wait for the data, then join.

A worker then publishes the labels its grains give (``labels/<hostname>``); a manager
applies its own grain labels itself, and those workers published after checking each
entry (``vet_label_entries``): a worker's entry is its own word.
"""

from __future__ import annotations

import fnmatch
import logging
import time
from dataclasses import dataclass, field

from salt_swarm.core import (
    cluster_settings,
    local_node,
    membership,
    swarm_init,
    swarm_join,
    token_store,
)
from salt_swarm.core import labels as label_logic
from salt_swarm.core import nodes as node_ops
from salt_swarm.core.cluster import NodeView
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import check_role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreJoin:
    """What one node wants: its role and options, and how long to wait on others."""

    me: str
    role: str
    # Addresses for a join too: advertise_addr, listen_addr and data_path_addr.
    init: swarm_init.InitOptions = field(default_factory=swarm_init.InitOptions)
    availability: str | None = None
    wait: float = 300
    # etcd: the election lease's TTL (default token_store.DEFAULT_LEASE_TTL); other
    # stores: after how long a record whose holder never published is taken over.
    election_ttl: float | None = None
    labels: dict | None = None  # from grains; None: no swarm:grain_labels rules
    labels_owned: tuple = ()  # globs of the label keys this node's rules own on this run
    rule_globs: tuple = ()  # globs of every swarm:grain_labels rule (what entries may own)
    may_init: bool = True  # False: another node is swarm:first_manager; only wait and join


def converge(client, store, want: StoreJoin, test: bool = False) -> dict:
    """Returns ``changed``, ``comment``, ``action`` (none, init, join), ``store`` (the
    keys written, never their values), ``labels`` (hostname -> label changes) and
    ``skipped`` (published label entries a manager refused, with why)."""
    check_role(want.role)
    now = membership.info(client)
    if now["state"] == "locked":
        raise SwarmError("this node is a locked swarm manager: unlock it (swarm:unlock_key) first")
    out = {"changed": False, "action": "none", "store": [], "labels": {}, "skipped": []}
    member_manager = now["state"] == "active" and now["manager"] and want.role == "manager"
    try:
        data = token_store.read_join_data(store, want.role)
    except token_store.OldLayout:
        if not member_manager:
            raise
        _check_old_cluster(store, now)
        data = None  # a member manager moves the store to the current layout below
    if now["state"] == "active":
        out["comment"] = _check_member(client, store, now, want, data)
    elif data is not None:
        _join(client, store, data, want, test, out)
    elif want.role == "manager" and want.may_init:
        _elect_and_init(client, store, want, test, out)
    elif test:
        out.update(changed=True, action="join")
        out["comment"] = f"would join as {want.role} once join data are in {store.where}"
    else:
        data = _wait(store, want, want.wait)
        _join(client, store, data, want, test, out)
    _after_member(client, store, want, test, out)
    return out


def _wait(store, want: StoreJoin, timeout: float, until_vacant: bool = False):
    log.info("swarm: no join data in %s yet; waiting up to %g s", store.where, timeout)
    return token_store.wait_for_join_data(
        store, want.role, timeout, until_vacant=until_vacant, ttl=want.election_ttl
    )


def _check_old_cluster(store, now: dict) -> None:
    old = token_store.old_layout_cluster(store)
    if old is not None and old != now["cluster_id"]:
        raise SwarmError(
            f"this node manages swarm {now['cluster_id']}, but {store.where} holds the join "
            f"data of swarm {old} (in salt-swarm 0.1's layout): point swarm:token_store at "
            "this swarm's path, or clear the stale one"
        )


def _check_member(client, store, now: dict, want: StoreJoin, data) -> str:
    have = "manager" if now["manager"] else "worker"
    if have != want.role:
        raise SwarmError(
            f"this node is already a {have} of its swarm; a manager changes its role "
            f"(swarm.{'promote' if want.role == 'manager' else 'demote'} or state swarm.node)"
        )
    if data is not None and now["manager"] and now["cluster_id"] != data.cluster_id:
        raise SwarmError(
            f"this node manages swarm {now['cluster_id']}, but {store.where} holds the join "
            f"data of swarm {data.cluster_id}: point swarm:token_store at this swarm's path, "
            "or clear the stale one"
        )
    foreign = data is not None and not set(now["remote_managers"]) & set(data.managers)
    if foreign and not now["manager"]:
        raise SwarmError(
            f"this worker's managers ({', '.join(now['remote_managers']) or 'unknown'}) are "
            f"none of those in {store.where}: it is in another swarm; leave it first"
        )
    return f"already a {have} of the swarm in {store.where}"


def _join(client, store, data, want: StoreJoin, test: bool, out: dict) -> None:
    req = swarm_join.JoinRequest(
        role=want.role,
        managers=tuple(data.managers),
        token=data.token,
        advertise_addr=want.init.advertise_addr,
        listen_addr=want.init.listen_addr,
        data_path_addr=want.init.data_path_addr,
        availability=want.availability,
    )
    res = swarm_join.join(client, req, test=test)
    out.update(changed=res["changed"], action="join", comment=res["comment"])
    if test or want.role != "manager":
        return
    try:
        addr = local_node.manager_address(client.info())
        if addr and token_store.add_manager(store, addr):
            out["store"].append(token_store.MANAGERS)
    except SwarmError as exc:
        raise SwarmError(
            f"{res['comment']}, but adding its address to {store.where} failed ({exc}): the "
            "node IS a manager of the swarm; a re-run adds the address"
        ) from None


def _elect_and_init(client, store, want: StoreJoin, test: bool, out: dict) -> None:
    if test:
        holder = token_store.leader(store)
        who = f"; {holder['minion']} holds the election" if holder else ""
        out.update(changed=True, action="init")
        out["comment"] = (
            f"nothing published in {store.where}{who}: would init a new swarm if elected, "
            "else join as manager once the winner publishes"
        )
        return
    deadline = time.monotonic() + want.wait
    lapsed = []
    while True:
        won = token_store.elect(store, want.me, want.election_ttl)
        if won.won:
            _init_and_publish(client, store, want, won, lapsed, out)
            return
        if won.published:
            data = _wait(store, want, max(0.0, deadline - time.monotonic()))
            _join(client, store, data, want, test, out)
            return
        log.info("swarm: %s holds the election in %s", won.leader, store.where)
        data = _wait(store, want, max(0.0, deadline - time.monotonic()), until_vacant=True)
        if data is not None:
            _join(client, store, data, want, test, out)
            out["comment"] += f" ({won.leader} won the election and initialized)"
            return
        log.warning(
            "swarm: %s's election in %s lapsed with nothing published; electing again",
            won.leader,
            store.where,
        )
        lapsed.append(won.leader)


def _init_and_publish(client, store, want: StoreJoin, won, lapsed: list, out: dict) -> None:
    with token_store.holding(store, won, want.election_ttl):
        try:
            res = swarm_init.init(client, want.init)
        except Exception:
            token_store.resign(store, want.me, won)
            raise
        try:
            tokens = cluster_settings.join_tokens(client)
            addr = local_node.manager_address(client.info())
            out["store"] += token_store.publish(store, [addr], tokens, election=won)
        except SwarmError as exc:
            raise SwarmError(
                f"initialized swarm {res.get('cluster_id')} here, but publishing its join data "
                f"to {store.where} failed ({exc}): other nodes cannot join it until a re-run "
                "here publishes it"
            ) from None
    after = won.took_over_from or (lapsed[-1] if lapsed else None)
    taken = f", after {after}'s claim lapsed" if after else ""
    out.update(changed=True, action="init")
    out["comment"] = f"won the election in {store.where}{taken}; {res['comment']}"


def _after_member(client, store, want: StoreJoin, test: bool, out: dict) -> None:
    """A worker publishes its grain labels; a manager refreshes the join data, applies
    its own grain labels and those workers published."""
    now = membership.info(client)
    if now["state"] != "active":
        return  # test mode on a node not yet in the swarm
    if not now["manager"]:
        _publish_labels(store, want, now, test, out)
    else:
        _refresh_join_data(client, store, now, test, out)
        _apply_labels(client, store, want, now, test, out)
    if out["store"] or out["labels"]:
        out["changed"] = True
        written = ", ".join(sorted(set(out["store"])))
        if written:
            verb = "would write" if test else "wrote"
            out["comment"] += f"; {verb} {written} in {store.where}"
        if out["labels"]:
            verb = "would change" if test else "changed"
            out["comment"] += f"; {verb} labels of {', '.join(sorted(out['labels']))}"
    if out["skipped"]:
        names = ", ".join(sorted({why.split(":", 1)[0] for why in out["skipped"]}))
        out["comment"] += f"; ignored published labels: {names} (the minion log says why)"


def _publish_labels(store, want: StoreJoin, now: dict, test: bool, out: dict) -> None:
    if want.labels is None:
        return
    try:
        key = token_store.label_key(now["hostname"])
    except SwarmError as exc:
        log.warning("swarm: publishing this node's grain labels: %s", exc)
        out["comment"] += "; its grain labels are not published: its hostname cannot name a key"
        return
    if token_store.put_node_labels(
        store, now["node_id"], now["hostname"], want.labels, want.labels_owned, test
    ):
        out["store"].append(key)


def _refresh_join_data(client, store, now: dict, test: bool, out: dict) -> None:
    """Make the store hold this swarm's current tokens and this manager's address;
    remove salt-swarm 0.1's keys (the tokens workers could read)."""
    tokens = cluster_settings.join_tokens(client)
    addr = local_node.manager_address(client.info())
    wanted = token_store.token_entries(tokens)
    stale = {key: value for key, value in wanted.items() if store.get(key) != value}
    if stale and not test:
        store.set_many(stale)  # before the managers: readers take managers as "all there"
    out["store"] += list(stale)
    if addr not in (store.get(token_store.MANAGERS) or []):
        if not test:
            token_store.add_manager(store, addr)
        out["store"].append(token_store.MANAGERS)
    old = [k for k in (token_store.OLD_TOKENS, token_store.OLD_LABELS) if store.get(k) is not None]
    if old:
        if not test:
            # salt-swarm 0.1's election record never expired: it goes with the old keys.
            for key in (*old, token_store.LEADER):
                store.delete(key)
        out["store"] += old
        log.warning(
            "swarm: moved %s from salt-swarm 0.1's layout (removed %s); give workers the "
            "narrower permissions of docs/token-store.md",
            store.where,
            ", ".join(old),
        )


def _apply_labels(client, store, want: StoreJoin, now: dict, test: bool, out: dict) -> None:
    entries = token_store.published_labels(store)  # before the node list: see vet_label_entries
    nodes = node_ops.list_nodes(client)
    plan, skipped, gone = vet_label_entries(entries, nodes, list(want.rule_globs))
    for why in skipped:
        log.warning("swarm: skipped published labels %s", why)
    out["skipped"] += skipped
    for name in gone:
        if not test:
            token_store.remove_node_labels(store, name, entries[name])
        out["store"].append(token_store.LABELS + name)
    mine = next((n for n in nodes if n.id == now["node_id"]), None)
    if want.labels is not None and mine is not None:
        plan.append((mine, want.labels, list(want.labels_owned)))
    for node, labels, owned in plan:
        try:
            changes, spec = node_ops.planned(nodes, node, labels=labels, labels_owned=owned)
            if changes and not test:
                node_ops.write(client, node, client.api.inspect_node(node.id)["Spec"], spec)
        except SwarmError as exc:
            raise SwarmError(f"labels of {node.hostname} from {store.where}: {exc}") from None
        if changes:
            out["labels"][node.hostname] = changes


def vet_label_entries(
    entries: dict, nodes: list[NodeView], owned: list[str]
) -> tuple[list[tuple[NodeView, dict]], list[str], list[str]]:
    """Check what workers published before a manager applies it; a worker's entry is
    its own word, and any worker may have written any entry under ``labels/``.

    ``entries`` is {name under labels/: value}; ``nodes`` the swarm's node list, read
    AFTER the entries (a worker publishes only once it is a member, so an entry read
    first names a node the list has, unless that node has left); ``owned`` the label
    globs of this manager's own ``swarm:grain_labels`` rules. Returns

    - the plan: (node, labels, owned) per acceptable entry: only keys inside
      ``owned``; the globs the entry says its rules own on that run, among
      ``owned`` (all of them for an entry that does not say: salt-swarm 0.2.0);
    - skipped: one "labels/<name>: why" per entry (or part of one) refused;
    - gone: names whose entry names a node that is not in the swarm, or a manager's
      node (a manager's labels come from its own grains): the caller removes them.

    An entry must be ``{node_id, hostname, labels}`` under ``labels/<hostname>``, and
    its node id and hostname must both match one node of the list, a worker.
    """
    by_id = {n.id: n for n in nodes}
    plan, skipped, gone = [], [], []
    for name in sorted(entries, key=str):
        entry = entries[name]
        where = f"{token_store.LABELS}{_shown(name)}"
        try:
            token_store.label_key(name)
        except SwarmError:
            skipped.append(f"{where}: not a hostname key")
            continue
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), t)
            for k, t in (("node_id", str), ("hostname", str), ("labels", dict))
        ):
            skipped.append(f"{where}: not an entry {{node_id, hostname, labels}}")
            continue
        if entry["hostname"] != name:
            skipped.append(f"{where}: names hostname {_shown(entry['hostname'])}, not {name}")
            continue
        node = by_id.get(entry["node_id"])
        if node is None:
            skipped.append(f"{where}: node {_shown(entry['node_id'])} is not in the swarm")
            gone.append(name)
            continue
        if node.hostname != name:
            skipped.append(f"{where}: node {node.id} is {_shown(node.hostname)}, not {name}")
            continue
        if node.is_manager:
            skipped.append(f"{where}: {name} is a manager (its labels come from its own grains)")
            gone.append(name)
            continue
        if not owned:
            skipped.append(f"{where}: this manager has no swarm:grain_labels rules")
            continue
        inside = {k: v for k, v in entry["labels"].items() if _owned(k, owned)}
        outside = sorted(_shown(k) for k in entry["labels"] if k not in inside)
        if outside:
            skipped.append(f"{where}: keys outside swarm:grain_labels: {', '.join(outside)}")
        try:
            labels = label_logic.validate(inside, where)
        except SwarmError as exc:
            skipped.append(str(exc))
            continue
        plan.append((node, labels, _entry_owns(entry, owned)))
    return plan, skipped, gone


def _entry_owns(entry: dict, owned: list[str]) -> list[str]:
    """The globs a worker's entry owns: those it names among the manager's own (a worker
    whose grain is missing names fewer, and keeps its labels); a worker can only narrow."""
    said = entry.get("owned")
    if not isinstance(said, list):
        return list(owned)
    return [p for p in owned if p in said]


def _owned(key, owned: list[str]) -> bool:
    return isinstance(key, str) and any(fnmatch.fnmatchcase(key, p) for p in owned)


def _shown(text, limit: int = 64) -> str:
    """Something a worker wrote, fit for a log line: repr'd (no newlines), cut short."""
    shown = (
        text if isinstance(text, str) and token_store.HOSTNAME_RE.fullmatch(text) else repr(text)
    )
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
