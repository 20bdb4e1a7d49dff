"""A node's membership through a token store, with no salt-master in the loop.

``converge`` brings the local node to its role using the join data in a store
(``salt_swarm.core.token_store``), in this order:

1. read the store: a store that is down fails here, before anything changes;
2. a member of a swarm checks it is the store's swarm; a manager refreshes the store
   (tokens after a rotation, its own address) and applies the labels nodes published;
3. not a member, join data published: join through them (a manager then adds its
   address to the list);
4. a manager, nothing published: the store's election picks one node, which inits
   and publishes; the others wait for the data and join;
5. a worker, nothing published: wait for the data, then join.

Every node then publishes the labels its grains give; managers apply them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from salt_swarm.core import cluster_settings, local_node, membership, token_store
from salt_swarm.core import nodes as node_ops
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import check_role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreJoin:
    """What one node wants: its role and options, and how long to wait on others."""

    me: str
    role: str
    # Addresses for a join too: advertise_addr, listen_addr and data_path_addr.
    init: membership.InitOptions = field(default_factory=membership.InitOptions)
    availability: str | None = None
    wait: float = 300
    election_ttl: float | None = None
    labels: dict | None = None  # from grains; None: this node publishes no labels
    labels_owned: tuple = ()
    may_init: bool = True  # False: another node is swarm:first_manager; only wait and join


def converge(client, store, want: StoreJoin, test: bool = False) -> dict:
    """Returns ``changed``, ``comment``, ``action`` (none, init, join), ``store`` (the
    keys written, never their values) and ``labels`` (hostname -> label changes)."""
    check_role(want.role)
    now = membership.info(client)
    if now["state"] == "locked":
        raise SwarmError("this node is a locked swarm manager: unlock it (swarm:unlock_key) first")
    data = token_store.read_join_data(store)
    out = {"changed": False, "action": "none", "store": [], "labels": {}}
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
        data = _wait(store, want)
        _join(client, store, data, want, test, out)
    _after_member(client, store, want, test, out)
    return out


def _wait(store, want: StoreJoin):
    log.info("swarm: no join data in %s yet; waiting up to %g s", store.where, want.wait)
    return token_store.wait_for_join_data(store, want.wait)


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
    req = membership.JoinRequest(
        role=want.role,
        managers=tuple(data.managers),
        token=data.token(want.role),
        advertise_addr=want.init.advertise_addr,
        listen_addr=want.init.listen_addr,
        data_path_addr=want.init.data_path_addr,
        availability=want.availability,
        known_tokens=data.tokens,
    )
    res = membership.join(client, req, test=test)
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
    won = token_store.elect(store, want.me, want.election_ttl)
    if not won.won:
        data = _wait(store, want)
        _join(client, store, data, want, test, out)
        out["comment"] += f" ({won.leader} won the election and initialized)"
        return
    try:
        res = membership.init(client, want.init)
    except Exception:
        token_store.resign(store, want.me)
        raise
    try:
        tokens = cluster_settings.join_tokens(client)
        addr = local_node.manager_address(client.info())
        out["store"] += token_store.publish(store, [addr], tokens)
    except SwarmError as exc:
        raise SwarmError(
            f"initialized swarm {res.get('cluster_id')} here, but publishing its join data to "
            f"{store.where} failed ({exc}): other nodes cannot join until a re-run here "
            "publishes it"
        ) from None
    taken = f", taking over from {won.took_over_from}" if won.took_over_from else ""
    out.update(changed=True, action="init")
    out["comment"] = f"won the election in {store.where}{taken}; {res['comment']}"


def _after_member(client, store, want: StoreJoin, test: bool, out: dict) -> None:
    """Publish this node's grain labels; a manager also refreshes the join data and
    applies every published node's labels."""
    now = membership.info(client)
    if now["state"] != "active":
        return  # test mode on a node not yet in the swarm
    if want.labels is not None:
        if test:
            entry = token_store.node_labels(store).get(now["hostname"])
            if entry != {"labels": want.labels, "owned": sorted(want.labels_owned)}:
                out["store"].append(token_store.NODE_LABELS)
        elif token_store.put_node_labels(
            store, now["hostname"], want.labels, list(want.labels_owned)
        ):
            out["store"].append(token_store.NODE_LABELS)
    if now["manager"]:
        _refresh_join_data(client, store, test, out)
        out["labels"] = _apply_labels(client, store, want, now["hostname"], test)
    if out["store"] or out["labels"]:
        out["changed"] = True
        written = ", ".join(sorted(set(out["store"])))
        if written:
            verb = "would write" if test else "wrote"
            out["comment"] += f"; {verb} {written} in {store.where}"
        if out["labels"]:
            verb = "would change" if test else "changed"
            out["comment"] += f"; {verb} labels of {', '.join(sorted(out['labels']))}"


def _refresh_join_data(client, store, test: bool, out: dict) -> None:
    tokens = cluster_settings.join_tokens(client)
    addr = local_node.manager_address(client.info())
    data = token_store.read_join_data(store)
    if data is None:
        if not test:
            token_store.publish(store, [addr], tokens)
        out["store"] += [token_store.TOKENS, token_store.MANAGERS]
        return
    if data.tokens != tokens:  # rotated since published
        if not test:
            store.set(token_store.TOKENS, tokens)
        out["store"].append(token_store.TOKENS)
    if addr not in data.managers:
        if not test:
            token_store.add_manager(store, addr)
        out["store"].append(token_store.MANAGERS)


def _apply_labels(client, store, want: StoreJoin, my_hostname: str, test: bool) -> dict:
    published = token_store.node_labels(store)
    if want.labels is not None:
        published[my_hostname] = {"labels": want.labels, "owned": list(want.labels_owned)}
    hostnames = {n.hostname for n in node_ops.list_nodes(client)}
    changed = {}
    for hostname, entry in sorted(published.items()):
        if hostname not in hostnames:
            continue  # published before its join, or gone: nothing to label
        try:
            changes = node_ops.update(
                client,
                hostname,
                labels=entry["labels"],
                labels_owned=entry.get("owned") or None,
                test=test,
            )
        except SwarmError as exc:
            raise SwarmError(f"labels of {hostname} from {store.where}: {exc}") from None
        if changes:
            changed[hostname] = changes
    return changed
