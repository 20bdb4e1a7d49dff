"""Stacks: a compose file deployed with the Docker CLI's ``docker stack deploy`` (the
SDK has no stack API; nothing here translates compose).

To tell a re-run from a change without asking Docker to redeploy, each service of the
file gets one label, the digest of its own compose section and the file's shared
sections (networks, secrets, configs, volumes). The plan compares those digests with
the labels of the stack's running services: services to create, to update, and (with
``prune``) to remove. A run with nothing to do does not call Docker at all; a run
that deploys follows the changed services' rollouts like ``service_present``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import yaml

from salt_swarm.core import service_spec as spec_logic
from salt_swarm.core import services as service_logic
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.nodes import require_manager

NAMESPACE = "com.docker.stack.namespace"
DIGEST = "io.salt-swarm.compose-sha256"
SHARED = ("networks", "secrets", "configs", "volumes")
RESOLVE = ("always", "changed", "never")


@dataclass(frozen=True)
class Compose:
    text: str  # the file as deployed: the user's, each service labelled with its digest
    digests: dict[str, str]  # service -> digest


def parse(text, where: str = "compose file") -> Compose:
    """The compose file checked for what this module needs (a ``services`` mapping)
    and labelled; Docker's CLI checks the rest when it deploys."""
    if isinstance(text, bytes):
        text = text.decode()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SwarmError(f"{where}: not YAML ({exc})") from None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("services"), dict)
        or not doc["services"]
    ):
        raise SwarmError(f"{where}: no services (a compose file has a services: mapping)")
    shared = {key: doc.get(key) for key in SHARED}
    digests = {}
    for name, service in doc["services"].items():
        spec_logic.check_name(name, "compose service")
        if not isinstance(service, dict):
            raise SwarmError(f"{where}: services.{name}: expected a mapping")
        body = json.dumps({"service": service, "shared": shared}, sort_keys=True, default=str)
        digests[name] = hashlib.sha256(body.encode()).hexdigest()
        deploy = service.setdefault("deploy", {})
        labels = deploy.get("labels") or {}
        if isinstance(labels, list):
            labels = [item for item in labels if not str(item).startswith(f"{DIGEST}=")]
            labels.append(f"{DIGEST}={digests[name]}")
        elif isinstance(labels, dict):
            labels = {**labels, DIGEST: digests[name]}
        else:
            raise SwarmError(f"{where}: services.{name}.deploy.labels: a mapping or a list")
        deploy["labels"] = labels
    return Compose(yaml.safe_dump(doc, sort_keys=False), digests)


def stack_services(client, stack: str) -> dict[str, dict]:
    """The stack's services by their name in the compose file."""
    found = client.api.services(filters={"label": f"{NAMESPACE}={stack}"})
    prefix = f"{stack}_"
    return {s["Spec"]["Name"].removeprefix(prefix): s for s in found}


@dataclass(frozen=True)
class StackPlan:
    stack: str
    compose: Compose | None
    create: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # not in the file, kept (no prune)

    @property
    def changes(self) -> dict:
        out = {"created": self.create, "updated": self.update, "removed": self.remove}
        return {k: v for k, v in out.items() if v}

    def report(self, done: bool = False) -> dict:
        if not self.changes:
            comment = f"stack {self.stack} is as the compose file says"
        else:
            verb = "deployed" if done else "would be deployed"
            parts = [f"{k} {', '.join(v)}" for k, v in self.changes.items()]
            comment = f"stack {self.stack} {verb}: " + "; ".join(parts)
        if self.left:
            comment += f" (not in the file, kept without prune: {', '.join(self.left)})"
        return {"changed": bool(self.changes), "changes": self.changes, "comment": comment}


def stack_plan(client, stack: str, text, prune: bool = False) -> StackPlan:
    spec_logic.check_name(stack, "stack")
    compose = parse(text)
    require_manager(client)
    running = stack_services(client, stack)
    create = sorted(n for n in compose.digests if n not in running)
    update = sorted(
        n
        for n in compose.digests
        if n in running
        and (running[n]["Spec"].get("Labels") or {}).get(DIGEST) != compose.digests[n]
    )
    gone = sorted(n for n in running if n not in compose.digests)
    return StackPlan(stack, compose, create, update, gone if prune else [], [] if prune else gone)


def apply_stack(client, plan: StackPlan, deploy, wait=service_logic.CONVERGE_SECONDS) -> dict:
    """``deploy(compose_text, prune)`` runs the CLI (the loader module's job: where
    the daemon is, the TLS files); then the changed services' rollouts are followed."""
    if not plan.changes:
        return plan.report()
    before = stack_services(client, plan.stack)
    deploy(plan.compose.text, bool(plan.remove))
    after = stack_services(client, plan.stack)
    for name in [*plan.create, *plan.update]:
        svc = after.get(name)
        if svc is None:
            raise SwarmError(f"stack {plan.stack}: service {name} is missing after the deploy")
        since = None
        old = before.get(name)
        if old and old["Spec"].get("TaskTemplate") != svc["Spec"].get("TaskTemplate"):
            since = service_logic.timestamp_ns(svc.get("UpdatedAt"))  # tasks are replaced
        verb = "created" if name in plan.create else "updated"
        service_logic.wait_converged(client, svc["ID"], svc["Spec"]["Name"], wait, since, verb)
    return plan.report(done=True)


def remove_plan(client, stack: str) -> list[str]:
    spec_logic.check_name(stack, "stack")
    require_manager(client)
    return sorted(stack_services(client, stack))
