"""Services on the swarm: decided (``service_plan``: create, update with the
differences, or nothing), then applied (``apply_service``) and followed until the
rollout converges, fails, or is rolled back by Docker. Run on a manager.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from salt_swarm.core import docker_api
from salt_swarm.core import service_spec as spec_logic
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.nodes import list_nodes, require_manager

CONVERGE_SECONDS = 300  # how long a rollout may take before the state fails
POLL_SECONDS = 0.5
SHOWN_TASK_ERRORS = 5
# Labels that tie a secret or config version to the name services refer to.
VERSION_OF = "io.salt-swarm.version-of"
CONTENT_HASH = "io.salt-swarm.sha256"


class SwarmResolver(spec_logic.Resolver):
    """Names to ids from the swarm this manager sees (read once per plan)."""

    def __init__(self, client):
        self.client = client
        self._networks = None
        self._objects = {}

    def networks(self) -> list[dict]:
        if self._networks is None:
            self._networks = self.client.api.networks()
        return self._networks

    def network_id(self, name: str) -> str:
        for net in self.networks():
            if name in (net["Name"], net["Id"]):
                if net.get("Scope") != "swarm":
                    raise SwarmError(f"networks: {name!r} is not a swarm-scoped (overlay) network")
                return net["Id"]
        raise SwarmError(
            f"networks: no network named {name!r} (create it with swarm.network_present)"
        )

    def network_name(self, ident: str) -> str:
        for net in self.networks():
            if ident in (net["Id"], net["Name"]):
                return net["Name"]
        return ident

    def objects(self, kind: str) -> list[dict]:
        if kind not in self._objects:
            lister = self.client.api.secrets if kind == "secret" else self.client.api.configs
            self._objects[kind] = lister()
        return self._objects[kind]

    def current_version(self, kind: str, name: str) -> dict | None:
        """The secret or config a reference ``name`` means now: the newest version
        salt-swarm made of it, else a plain one of that exact name."""
        found = [o for o in self.objects(kind) if _labels(o).get(VERSION_OF) == name]
        if found:
            return max(found, key=lambda o: (o.get("CreatedAt") or "", o["ID"]))
        for obj in self.objects(kind):
            if obj["Spec"]["Name"] == name:
                return obj
        return None

    def _ref(self, kind: str, name: str) -> tuple[str, str]:
        obj = self.current_version(kind, name)
        if obj is None:
            raise SwarmError(
                f"{kind}s: no {kind} named {name!r} (create it with swarm.{kind}_present)"
            )
        return obj["ID"], obj["Spec"]["Name"]

    def secret(self, name: str) -> tuple[str, str]:
        return self._ref("secret", name)

    def config(self, name: str) -> tuple[str, str]:
        return self._ref("config", name)


def _labels(obj: dict) -> dict:
    return (obj.get("Spec") or {}).get("Labels") or {}


@dataclass(frozen=True)
class ServicePlan:
    name: str
    action: str  # "create", "update" or "none"
    want: spec_logic.Wanted
    changes: dict = field(default_factory=dict)
    current: dict | None = None  # the service as inspected
    warnings: tuple[str, ...] = ()

    def report(self) -> dict:
        """The return of a test run (or of a run with nothing to do)."""
        if self.action == "none":
            comment = f"service {self.name} is as wanted"
        elif self.action == "create":
            comment = f"service {self.name} would be created"
        else:
            comment = f"service {self.name} would be updated: {', '.join(sorted(self.changes))}"
        out = {"changed": self.action != "none", "action": self.action, "changes": self.changes}
        out["comment"] = comment
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def find_service(client, name: str) -> dict | None:
    for svc in client.api.services(filters={"name": name}):
        if svc["Spec"]["Name"] == name:  # the filter matches prefixes
            return svc
    return None


def service_plan(client, name: str, spec: dict) -> ServicePlan:
    """What making service ``name`` look like ``spec`` would do; bad input raises
    before anything is read or changed on the swarm."""
    require_manager(client)
    resolver = SwarmResolver(client)
    want = spec_logic.wanted(name, spec, resolver)
    warnings = tuple(constraint_warnings(spec.get("constraints"), list_nodes(client)))
    current = find_service(client, name)
    if current is None:
        changes = {k: {"old": None, "new": v} for k, v in _shown(want, resolver).items()}
        return ServicePlan(name, "create", want, changes, warnings=warnings)
    changes = spec_logic.differences(want, current["Spec"], resolver)
    action = "update" if changes else "none"
    return ServicePlan(name, action, want, changes, current, warnings=warnings)


_LABEL_CONSTRAINT = re.compile(r"^\s*node\.labels\.([^\s=!]+)\s*(==|!=)\s*(.+?)\s*$")


def constraint_warnings(constraints, nodes) -> list[str]:
    """A constraint ``node.labels.<key>==<value>`` no node's labels meet: the tasks
    would stay pending (a warning: the label may come with a node still to join)."""
    found = []
    for text in (
        constraints if isinstance(constraints, list) else [constraints] if constraints else []
    ):
        match = _LABEL_CONSTRAINT.match(str(text))
        if not match or match.group(2) != "==":
            continue
        key, value = match.group(1), match.group(3)
        if not any(n.labels.get(key) == value for n in nodes):
            found.append(
                f"constraints: no node has label {key}={value} ({text!r}): tasks wait for one"
            )
    return found


def _shown(want: spec_logic.Wanted, resolver) -> dict:
    return {
        key: spec_logic.FIELDS[key].view(want.api[spec_logic.FIELDS[key].path], resolver)
        for key in want.keys
    }


def apply_service(client, plan: ServicePlan, wait: float = CONVERGE_SECONDS) -> dict:
    """Create or update as planned, then follow the rollout up to ``wait`` seconds."""
    out = plan.report()
    if plan.action == "none":
        return out
    if plan.action == "create":
        answer = docker_api.post(client, "/services/create", plan.want.spec(), answer=True)
        service_id, since = answer["ID"], None
    else:
        service_id = plan.current["ID"]
        docker_api.post(
            client,
            "/services/{0}/update",
            plan.want.spec(plan.current["Spec"]),
            service_id,
            params={"version": plan.current["Version"]["Index"]},
        )
        since = _replaced_after(client, plan, service_id)
    verb = "created" if plan.action == "create" else "updated"
    tasks = wait_converged(client, service_id, plan.name, wait, since, verb)
    out["comment"] = f"service {plan.name} {verb}" + (
        "" if plan.action == "create" else f": {', '.join(sorted(plan.changes))}"
    )
    out["tasks"] = tasks
    return out


def _replaced_after(client, plan: ServicePlan, service_id: str):
    """For an update that replaces tasks: when Docker took it (the service's
    UpdatedAt, read right after), as tasks of the new spec are made later; None when
    only the replica count or the service's own labels changed (no task replaced)."""
    replaces = any(
        spec_logic.FIELDS[k].path[0] in ("TaskTemplate", "EndpointSpec") for k in plan.changes
    )
    return (
        timestamp_ns(client.api.inspect_service(service_id).get("UpdatedAt")) if replaces else None
    )


def timestamp_ns(text) -> int:
    """Docker's RFC 3339 time with up to nine fractional digits -> ns since the epoch."""
    if not text:
        return 0
    from datetime import datetime, timezone

    text = str(text).rstrip("Z")
    offset = ""
    for sign in ("+", "-"):
        head, sep, tail = text[10:].rpartition(sign)
        if sep and ":" in tail:
            text, offset = text[:10] + head, sign + tail
            break
    whole, _, fraction = text.partition(".")
    moment = datetime.fromisoformat(whole + (offset or "+00:00")).astimezone(timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000 + int((fraction + "000000000")[:9])


def wait_converged(client, service_id, name, wait, replaced_after, verb) -> dict:
    """Until every task the service wants runs its current spec; raises when Docker
    pauses or rolls back the rollout, or after ``wait`` seconds, naming failed tasks."""
    deadline = time.monotonic() + float(wait)
    while True:
        state = rollout_state(client, service_id, replaced_after)
        if state["done"]:
            return {"running": state["running"], "wanted": state["wanted"]}
        if state["failed"]:
            raise SwarmError(
                f"service {name}: {state['failed']}{_task_errors(state)}; it was {verb}, "
                "Docker ended the rollout"
            )
        if time.monotonic() >= deadline:
            raise SwarmError(
                f"service {name} was {verb} but did not converge within {float(wait):g} s "
                f"({state['running']} of {state['wanted']} tasks running the current spec)"
                f"{_task_errors(state)}"
            )
        time.sleep(POLL_SECONDS)


def rollout_state(client, service_id, replaced_after=None) -> dict:
    svc = client.api.inspect_service(service_id)
    status = svc.get("UpdateStatus") or {}
    tasks = client.api.tasks(filters={"service": service_id})
    failed_tasks = [
        t
        for t in tasks
        if t["Status"]["State"] in ("failed", "rejected") and t["Status"].get("Err")
    ]
    failed_tasks.sort(key=lambda t: t["Status"].get("Timestamp") or "", reverse=True)
    out = {"done": False, "failed": None, "running": 0, "wanted": 0, "errors": failed_tasks}
    if status.get("State") == "rollback_completed":
        out["failed"] = f"the update failed and Docker rolled it back ({status.get('Message', '')})"
        return out
    if status.get("State") in ("paused", "rollback_paused"):
        out["failed"] = f"the rollout is paused ({status.get('Message', '')})"
        return out
    template = svc["Spec"]["TaskTemplate"].get("ContainerSpec")
    wanted_tasks = [t for t in tasks if t["DesiredState"] == "running"]
    current = [
        t
        for t in wanted_tasks
        if t["Status"]["State"] == "running"
        and (t.get("Spec") or {}).get("ContainerSpec") == template
        and (replaced_after is None or timestamp_ns(t.get("CreatedAt")) > replaced_after)
    ]
    mode = svc["Spec"].get("Mode") or {}
    target = (mode.get("Replicated") or {}).get("Replicas") if "Replicated" in mode else None
    out["running"] = len(current)
    out["wanted"] = target if target is not None else len(wanted_tasks)
    in_progress = status.get("State") in ("updating", "rollback_started")
    if target is not None:
        out["done"] = not in_progress and len(current) == target == len(wanted_tasks)
    else:  # global: one per eligible node, as many as the orchestrator wants
        out["done"] = not in_progress and bool(wanted_tasks) and len(current) == len(wanted_tasks)
    return out


def _task_errors(state) -> str:
    shown = []
    for task in state["errors"][:SHOWN_TASK_ERRORS]:
        shown.append(f"task {task['ID'][:12]}: {task['Status'].get('Err')}")
    return f"; failed tasks: {'; '.join(shown)}" if shown else ""


def service_present(client, name, spec, test=False, wait=CONVERGE_SECONDS) -> dict:
    plan = service_plan(client, name, spec)
    return plan.report() if test else apply_service(client, plan, wait)


def remove_service(client, name: str, test: bool = False) -> dict:
    require_manager(client)
    svc = find_service(client, name)
    if svc is None:
        return {"changed": False, "comment": f"service {name} is absent"}
    if test:
        return {"changed": True, "comment": f"service {name} would be removed"}
    client.api.remove_service(svc["ID"])
    return {"changed": True, "comment": f"service {name} removed", "id": svc["ID"]}


def scale(client, name: str, replicas, test=False, wait=CONVERGE_SECONDS) -> dict:
    """Set a replicated service's replica count and wait for it."""
    require_manager(client)
    replicas = spec_logic._int(replicas, "replicas")
    svc = find_service(client, name)
    if svc is None:
        raise SwarmError(f"service {name}: no such service")
    mode = svc["Spec"].get("Mode") or {}
    if "Replicated" not in mode:
        raise SwarmError(f"service {name}: a global service has no replica count")
    old = mode["Replicated"].get("Replicas")
    if old == replicas:
        return {"changed": False, "comment": f"service {name} has {replicas} replicas"}
    changes = {"replicas": {"old": old, "new": replicas}}
    if test:
        return {"changed": True, "changes": changes, "comment": f"service {name} would be scaled"}
    spec = svc["Spec"]
    spec["Mode"] = {"Replicated": {"Replicas": replicas}}
    docker_api.post(
        client, "/services/{0}/update", spec, svc["ID"], params={"version": svc["Version"]["Index"]}
    )
    tasks = wait_converged(client, svc["ID"], name, wait, None, "scaled")
    return {
        "changed": True,
        "changes": changes,
        "tasks": tasks,
        "comment": f"service {name} scaled",
    }


def service_info(client, name: str) -> dict:
    """A service in the user's keys, with its tasks' states and the rollout status."""
    require_manager(client)
    svc = find_service(client, name)
    if svc is None:
        raise SwarmError(f"service {name}: no such service")
    resolver = SwarmResolver(client)
    tasks = client.api.tasks(filters={"service": svc["ID"]})
    states: dict[str, int] = {}
    for task in tasks:
        if task["DesiredState"] == "running":
            states[task["Status"]["State"]] = states.get(task["Status"]["State"], 0) + 1
    return {
        "id": svc["ID"],
        "name": name,
        "spec": spec_logic.user_view(svc["Spec"], resolver),
        "tasks": states,
        "update_status": (svc.get("UpdateStatus") or {}).get("State"),
        "created": svc.get("CreatedAt"),
        "updated": svc.get("UpdatedAt"),
    }


def list_services(client) -> list[dict]:
    require_manager(client)
    resolver = SwarmResolver(client)
    return [
        {"id": s["ID"], "name": s["Spec"]["Name"], **spec_logic.user_view(s["Spec"], resolver)}
        for s in client.api.services()
    ]
