"""Leave: this node out of its swarm, a manager demoted first so quorum is never
broken silently. Decided first (``leave_plan``), then applied (``apply_leave``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from salt_swarm.core.cluster import manager_counts, node_view
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.membership import (
    ROLE_SETTLE_SECONDS,
    explain,
    info,
)
from salt_swarm.core.quorum import check_manager_removal


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
                f"this manager cannot list its swarm ({explain(exc)}): quorum is lost or it "
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
