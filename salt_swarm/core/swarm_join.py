"""Join: this node into a swarm through the first manager that answers. Decided
first (``join_plan``: nothing, or drop the node's current state and join), then
applied, so ``test=True`` reports the plan the real run carries out. Never leaves a
node half-joined without saying so in the error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from salt_swarm.core import docker_api, swarm_leave
from salt_swarm.core.addresses import with_port
from salt_swarm.core.cluster import check_availability
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.membership import (
    ROLE_SETTLE_SECONDS,
    explain,
    info,
    refuse_locked,
    settled_info,
    tcp_reachable,
)
from salt_swarm.core.secrets import check_role, check_token, redact, token_cluster, token_role

# Docker answers a join that takes over 20 s with "...will continue in the
# background": on a loaded host a manager join can. Wait this long for it to finish
# before calling it failed and cleaning up.
BACKGROUND_JOIN_SECONDS = 60
BACKGROUND_JOIN = "continue in the background"


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


@dataclass(frozen=True)
class JoinPlan:
    """``steps``: none (already in this swarm with this role), or ``drop_current``
    (a stale join attempt, or another swarm left by force) and ``join``."""

    req: JoinRequest
    steps: tuple[str, ...]
    comment: str
    role: str
    was: str = "inactive"  # the node's state before

    def report(self) -> dict:
        """The return of a test run (or of a run with nothing to do)."""
        return {"changed": bool(self.steps), "role": self.role, "comment": self.comment}


def join_plan(client, req: JoinRequest, force: bool = False) -> JoinPlan:
    """What joining would do here; raises when it must not (a locked node, another
    swarm without ``force``, a role only a manager can change)."""
    req = req.validated()
    now = settled_info(client)
    refuse_locked(now)
    if now["state"] == "active":
        if _same_swarm(now, req, client):
            role = "manager" if now["manager"] else "worker"
            if role != req.role:
                raise SwarmError(
                    f"this node is already a {role} of the swarm; a manager changes its role "
                    f"(swarm.{'promote' if req.role == 'manager' else 'demote'} or state swarm.node)"
                )
            return JoinPlan(req, (), f"already a {role} of this swarm", role)
        if not force:
            raise SwarmError(
                "this node is active in another swarm (managers "
                f"{', '.join(now['remote_managers']) or 'unknown'}); force=True leaves it first"
            )
    steps = ("join",) if now["state"] == "inactive" else ("drop_current", "join")
    return JoinPlan(req, steps, f"would join as {req.role}", req.role, now["state"])


def apply_join(client, plan: JoinPlan, probe=tcp_reachable) -> dict:
    if not plan.steps:
        return plan.report()
    req = plan.req
    cleaned = ""
    if "drop_current" in plan.steps:
        client.api.leave_swarm(force=True)
        cleaned = f" (left {plan.was} state first)"
    failures = []
    for manager in req.managers:
        if not probe(manager):
            failures.append(f"{manager}: no answer on TCP")
            continue
        try:
            docker_api.post(client, "/swarm/join", req.body(manager))
        except Exception as exc:  # APIError and transport errors alike
            why = explain(exc)
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


def join(
    client, req: JoinRequest, force: bool = False, test: bool = False, probe=tcp_reachable
) -> dict:
    """Join the swarm through the first manager that answers; a no-op when already in it."""
    plan = join_plan(client, req, force)
    return plan.report() if test else apply_join(client, plan, probe)


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
        failures.append(f"cleanup after the failed join also failed: {redact(explain(exc))}")


def _verify_role(client, req: JoinRequest, manager: str, cleaned: str) -> dict:
    deadline = time.monotonic() + ROLE_SETTLE_SECONDS
    now = info(client)
    while (now["manager"] != (req.role == "manager")) and time.monotonic() < deadline:
        time.sleep(0.2)
        now = info(client)
    role = "manager" if now["manager"] else "worker"
    if role != req.role:
        try:
            swarm_leave.leave(client)
            undone = "it left again (demoted first), nothing changed"
        except Exception as exc:
            undone = f"leaving again failed ({redact(explain(exc))}): the node IS in the swarm"
        raise SwarmError(f"token: it joined as {role}, not {req.role}: a {role} token; {undone}")
    return {
        "changed": True,
        "role": role,
        "node_id": now["node_id"],
        "manager": manager,
        "comment": f"joined as {role} through {manager}{cleaned}",
    }
