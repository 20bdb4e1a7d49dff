"""Join, init and leave: the local node's membership, idempotent and quorum-safe.

Every function checks its input before it changes anything, and never leaves a node
half-joined without saying so in the error.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from salt_swarm.core import docker_api, local_node
from salt_swarm.core.addresses import check_pool, split_port, with_port
from salt_swarm.core.cluster import check_availability, manager_counts, node_view
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.quorum import check_manager_removal
from salt_swarm.core.secrets import check_role, check_token, redact, token_cluster, token_role

DEFAULT_SUBNET_SIZE = 24  # Docker's, when a pool is given without subnet_size

ROLE_SETTLE_SECONDS = 3
# Docker answers a join that takes over 20 s with "...will continue in the
# background": on a loaded host a manager join can. Wait this long for it to finish
# before calling it failed and cleaning up.
BACKGROUND_JOIN_SECONDS = 60
# A node is "pending" while an init or join is under way, maybe another run's: wait
# this long for it to settle before treating it as a stuck join to clean up (leaving
# would destroy the swarm the other run is making).
PENDING_SETTLE_SECONDS = 30
BACKGROUND_JOIN = "continue in the background"


def info(client) -> dict:
    return local_node.summarize(client.info())


def tcp_reachable(addr: str, timeout: float = 2.0) -> bool:
    host, port = split_port(addr)
    try:
        with socket.create_connection((host, port or 2377), timeout=timeout):
            return True
    except OSError:
        return False


def settled_info(client, seconds: float = PENDING_SETTLE_SECONDS) -> dict:
    """``info``, once the node is no longer "pending" (or ``seconds`` have passed)."""
    deadline = time.monotonic() + seconds
    now = info(client)
    while now["state"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.5)
        now = info(client)
    return now


# ---- init -------------------------------------------------------------------


@dataclass(frozen=True)
class InitOptions:
    advertise_addr: str | None = None
    listen_addr: str = "0.0.0.0:2377"
    data_path_addr: str | None = None
    data_path_port: int | None = None
    default_addr_pool: tuple[str, ...] = ()
    subnet_size: int | None = None
    autolock: bool = False
    availability: str = "active"
    force_new_cluster: bool = False

    def validated(self) -> InitOptions:
        check_availability(self.availability)
        pools = self.default_addr_pool or ()
        if isinstance(pools, str):  # one CIDR, or several comma-separated, from the CLI
            pools = tuple(p.strip() for p in pools.split(",") if p.strip())
        if not isinstance(pools, list | tuple):
            raise SwarmError(
                f"default_addr_pool: expected a list of CIDRs, got {type(pools).__name__}"
            )
        pools = tuple(check_pool(p) for p in pools)
        if self.subnet_size is not None and not (
            isinstance(self.subnet_size, int) and 8 <= self.subnet_size <= 29
        ):
            raise SwarmError(f"subnet_size: {self.subnet_size!r} must be an integer from 8 to 29")
        if self.subnet_size is not None and not pools:
            raise SwarmError("subnet_size: only valid together with default_addr_pool")
        for pool in pools:
            prefix = int(pool.split("/")[1])
            if self.subnet_size is not None and prefix > self.subnet_size:
                raise SwarmError(
                    f"subnet_size: /{self.subnet_size} subnets do not fit in pool {pool}"
                )
            if self.subnet_size is None and prefix > DEFAULT_SUBNET_SIZE:
                raise SwarmError(
                    f"default_addr_pool: pool {pool} is smaller than one /{DEFAULT_SUBNET_SIZE} "
                    f"subnet (Docker's default subnet_size): give a pool of "
                    f"/{DEFAULT_SUBNET_SIZE} or larger, or a smaller subnet_size"
                )
        if self.data_path_port is not None and not (
            isinstance(self.data_path_port, int) and 1024 <= self.data_path_port <= 49151
        ):
            raise SwarmError(
                f"data_path_port: {self.data_path_port!r} must be an integer from 1024 to 49151"
            )
        return InitOptions(**{**self.__dict__, "default_addr_pool": pools})

    def request_body(self) -> dict:
        body = {
            "ListenAddr": self.listen_addr,
            "AdvertiseAddr": self.advertise_addr or "",
            "DataPathAddr": self.data_path_addr or "",
            "ForceNewCluster": self.force_new_cluster,
            "Availability": self.availability,
            "Spec": {"EncryptionConfig": {"AutoLockManagers": bool(self.autolock)}},
        }
        if self.data_path_port:
            body["DataPathPort"] = self.data_path_port
        if self.default_addr_pool:
            body["DefaultAddrPool"] = list(self.default_addr_pool)
            body["SubnetSize"] = self.subnet_size or DEFAULT_SUBNET_SIZE
        return body


def init(client, opts: InitOptions, test: bool = False) -> dict:
    """Make this node the first manager of a new swarm, unless it already manages one."""
    opts = opts.validated()
    now = settled_info(client)
    if now["state"] == "locked":
        raise SwarmError("this node is a locked swarm manager: unlock it (swarm.unlock) first")
    if now["state"] == "active" and not opts.force_new_cluster:
        if now["manager"]:
            return {
                "changed": False,
                "comment": f"already a manager of swarm {now['cluster_id'] or '(cluster id unknown: no quorum?)'}",
            }
        raise SwarmError(
            "this node is a worker in a swarm (managers "
            f"{', '.join(now['remote_managers']) or 'unknown'}); it cannot start another one: "
            "leave that swarm first (swarm.leave)"
        )
    if test:
        return {"changed": True, "comment": "a new swarm would be initialized here"}
    if now["state"] in ("pending", "error"):
        client.api.leave_swarm(force=True)
    try:
        node_id = docker_api.post(client, "/swarm/init", opts.request_body(), answer=True)
    except Exception as exc:  # docker.errors.APIError; the SDK is imported lazily
        _raise_if_initialized_meanwhile(client, exc)
        raise
    after = info(client)
    return {
        "changed": True,
        "node_id": node_id,
        "cluster_id": after["cluster_id"],
        "address": after["address"],
        "comment": "initialized a new swarm",
    }


def _raise_if_initialized_meanwhile(client, exc) -> None:
    """Between this node's reading and its init, another run (a second orchestrate, a
    second manager booting from the store) made it a swarm member: say so rather
    than Docker's advice to leave, which would break that swarm."""
    if "already part of a swarm" not in _explain(exc):
        return
    try:
        now = info(client)
    except Exception:  # dockerd busy: Docker's own words stand
        return
    if now["state"] != "active":
        return
    role = "a manager" if now["manager"] else "a worker"
    raise SwarmError(
        f"another run made this node {role} of swarm {now['cluster_id'] or '(id unknown)'} "
        "while this one was about to initialize it: this run changed nothing; run it "
        "again and it converges on that swarm"
    ) from exc


# ---- join -------------------------------------------------------------------


@dataclass(frozen=True)
class JoinRequest:
    role: str
    managers: tuple[str, ...]
    token: str
    advertise_addr: str | None = None
    listen_addr: str = "0.0.0.0:2377"
    data_path_addr: str | None = None
    availability: str | None = None
    # The swarm's {manager, worker} tokens when known (from the mine): lets a token of
    # the wrong kind be refused before anything changes.
    known_tokens: dict | None = None

    def validated(self) -> JoinRequest:
        check_role(self.role)
        check_token(self.token)
        if self.availability is not None:
            check_availability(self.availability)
        managers = self.managers
        if isinstance(managers, str):
            managers = tuple(m for m in managers.replace(",", " ").split() if m)
        if not managers:
            raise SwarmError("managers: no manager address to join through")
        managers = tuple(dict.fromkeys(with_port(m) for m in managers))
        if self.known_tokens:
            kind = token_role(self.token, self.known_tokens)
            if kind and kind != self.role:
                raise SwarmError(
                    f"token: it is the swarm's {kind} token, but role {self.role} was asked"
                )
        return JoinRequest(**{**self.__dict__, "managers": managers})

    def body(self, manager: str) -> dict:
        body = {
            "ListenAddr": self.listen_addr,
            "AdvertiseAddr": self.advertise_addr or "",
            "DataPathAddr": self.data_path_addr or "",
            "RemoteAddrs": [manager],
            "JoinToken": self.token,
        }
        if self.availability:
            body["Availability"] = self.availability
        return body


def _same_swarm(now: dict, req: JoinRequest, client) -> bool:
    if set(now["remote_managers"]) & set(req.managers):
        return True
    if now["manager"]:
        tokens = client.api.inspect_swarm().get("JoinTokens") or {}
        return any(token_cluster(t) == token_cluster(req.token) for t in tokens.values() if t)
    return False


def already_member(client, role: str) -> dict:
    """The no-op answer for a member when no swarm is named: right role, or an error."""
    check_role(role)
    now = info(client)
    have = "manager" if now["manager"] else "worker"
    if have != role:
        raise SwarmError(
            f"this node is already a {have} of its swarm; a manager changes its role "
            f"(swarm.{'promote' if role == 'manager' else 'demote'} or state swarm.node)"
        )
    return {"changed": False, "role": have, "comment": f"already a {have} of its swarm"}


def join(
    client, req: JoinRequest, force: bool = False, test: bool = False, probe=tcp_reachable
) -> dict:
    """Join the swarm through the first manager that answers; a no-op when already in it."""
    req = req.validated()
    now = settled_info(client)
    if now["state"] == "locked":
        raise SwarmError("this node is a locked swarm manager: unlock it (swarm.unlock) first")
    if now["state"] == "active":
        if _same_swarm(now, req, client):
            role = "manager" if now["manager"] else "worker"
            if role != req.role:
                raise SwarmError(
                    f"this node is already a {role} of the swarm; a manager changes its role "
                    f"(swarm.{'promote' if req.role == 'manager' else 'demote'} or state swarm.node)"
                )
            return {"changed": False, "role": role, "comment": f"already a {role} of this swarm"}
        if not force:
            raise SwarmError(
                "this node is active in another swarm (managers "
                f"{', '.join(now['remote_managers']) or 'unknown'}); force=True leaves it first"
            )
    if test:
        return {"changed": True, "role": req.role, "comment": f"would join as {req.role}"}
    cleaned = ""
    if now["state"] != "inactive":
        client.api.leave_swarm(force=True)
        cleaned = f" (left {now['state']} state first)"

    failures = []
    for manager in req.managers:
        if not probe(manager):
            failures.append(f"{manager}: no answer on TCP")
            continue
        try:
            docker_api.post(client, "/swarm/join", req.body(manager))
        except Exception as exc:  # APIError and transport errors alike
            why = _explain(exc)
            if BACKGROUND_JOIN in why and _background_join_done(client):
                return _verify_role(
                    client, req, manager, cleaned + " (Docker finished it in the background)"
                )
            failures.append(f"{manager}: {redact(why, [req.token])}")
            _clean_failed_join(client, failures)
            continue
        return _verify_role(client, req, manager, cleaned)
    raise SwarmError(
        f"could not join as {req.role} through any manager: " + "; ".join(failures) + cleaned
    )


def _explain(exc) -> str:
    detail = getattr(exc, "explanation", None) or str(exc)
    return detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)


def _background_join_done(client, seconds: float = BACKGROUND_JOIN_SECONDS) -> bool:
    """Wait for a join Docker goes on with after its own timeout: True once the node
    is active, False when it gives up (inactive, error) or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = info(client)["state"]
        except Exception:  # dockerd busy: ask again
            state = "pending"
        if state == "active":
            return True
        if state in ("inactive", "error"):
            return False
        time.sleep(0.5)
    return False


def _clean_failed_join(client, failures: list[str]) -> None:
    """A timed-out join goes on in the background (state pending): stop it before the next try."""
    try:
        if info(client)["state"] != "inactive":
            client.api.leave_swarm(force=True)
    except Exception as exc:
        failures.append(f"cleanup after the failed join also failed: {redact(_explain(exc))}")


def _verify_role(client, req: JoinRequest, manager: str, cleaned: str) -> dict:
    deadline = time.monotonic() + ROLE_SETTLE_SECONDS
    now = info(client)
    while (now["manager"] != (req.role == "manager")) and time.monotonic() < deadline:
        time.sleep(0.2)
        now = info(client)
    role = "manager" if now["manager"] else "worker"
    if role != req.role:
        try:
            leave(client)
            undone = "it left again (demoted first), nothing changed"
        except Exception as exc:
            undone = f"leaving again failed ({redact(_explain(exc))}): the node IS in the swarm"
        raise SwarmError(f"token: it joined as {role}, not {req.role}: a {role} token; {undone}")
    return {
        "changed": True,
        "role": role,
        "node_id": now["node_id"],
        "manager": manager,
        "comment": f"joined as {role} through {manager}{cleaned}",
    }


# ---- leave ------------------------------------------------------------------


@dataclass(frozen=True)
class LeavePlan:
    """What leaving means for this node now: ``steps`` (``demote``, ``leave``,
    ``force_leave``; none when it is in no swarm) and the words for either outcome."""

    steps: tuple[str, ...]
    would: str
    done: str
    node_id: str | None = None

    def report(self, test: bool) -> dict:
        if not self.steps:
            return {"changed": False, "comment": self.done}
        out = {"changed": True, "comment": self.would if test else self.done}
        if self.node_id and not test:
            out["node_id"] = self.node_id
        return out


def leave_plan(client, force: bool = False) -> LeavePlan:
    """How this node would leave its swarm; raises when it must not (quorum, a locked
    or blind manager) unless ``force``. A manager is demoted first."""
    now = info(client)
    stays = f"node {now['node_id']} stays listed as down until removed"
    if now["state"] == "inactive":
        return LeavePlan((), "", "not in a swarm")
    if now["state"] == "locked":
        if not force:
            raise SwarmError("this node is a locked manager: unlock it first, or force=True")
        how = "(forced while locked)"
        return LeavePlan(("force_leave",), f"would leave the swarm {how}", f"left the swarm {how}")
    if now["state"] != "active":
        state = now["state"]
        return LeavePlan(
            ("force_leave",), f"would drop the {state} join attempt", f"left a {state} join attempt"
        )
    if not now["manager"]:
        return LeavePlan(
            ("leave",), "would leave the swarm", f"left the swarm; {stays}", now["node_id"]
        )
    try:
        listed = client.api.nodes()
    except Exception as exc:  # no leader: this manager cannot see its swarm
        if not force:
            raise SwarmError(
                f"this manager cannot list its swarm ({_explain(exc)}): quorum is lost or it "
                "was removed; force=True leaves anyway (see swarm.recover)"
            ) from None
        return LeavePlan(
            ("force_leave",),
            "would leave the swarm (forced; no leader seen)",
            "left the swarm by force: it could not see a leader",
        )
    counts = manager_counts([node_view(n) for n in listed])
    try:
        check_manager_removal(counts, True, "leave as a manager")
    except SwarmError:
        if not force:
            raise
        if counts.total <= 1:
            what = "it was the last manager: the swarm is gone"
        else:
            what = "without demotion: the other managers count it until it is removed"
        return LeavePlan(
            ("force_leave",),
            f"would leave the swarm (forced; {what})",
            f"left the swarm (forced; {what})",
            now["node_id"],
        )
    return LeavePlan(
        ("demote", "leave"),
        "would demote this manager, then leave",
        f"demoted, then left; {stays}",
        now["node_id"],
    )


def apply_leave(client, plan: LeavePlan) -> None:
    for step in plan.steps:
        if step == "demote":
            _demote_self(client, plan.node_id)
        else:
            client.api.leave_swarm(force=step == "force_leave")


def leave(client, force: bool = False, test: bool = False) -> dict:
    """Leave the swarm; a manager is demoted first so quorum is never broken silently."""
    plan = leave_plan(client, force)
    if not test:
        apply_leave(client, plan)
    return plan.report(test)


def _demote_self(client, node_id: str) -> None:
    node = client.api.inspect_node(node_id)
    spec = node["Spec"]
    spec["Role"] = "worker"
    client.api.update_node(node_id, node["Version"]["Index"], spec)
    deadline = time.monotonic() + ROLE_SETTLE_SECONDS * 10
    while info(client)["manager"]:
        if time.monotonic() > deadline:
            raise SwarmError(
                "demoted this node, but it still acts as a manager after "
                f"{ROLE_SETTLE_SECONDS * 10} s; it has not left (it is a worker in the spec)"
            )
        time.sleep(0.2)
