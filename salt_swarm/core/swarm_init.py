"""Init: make this node the first manager of a new swarm. Decided first
(``init_plan``: nothing, or drop a stale join attempt and init), then applied, so
``test=True`` reports the plan the real run carries out.
"""

from __future__ import annotations

from dataclasses import dataclass

from salt_swarm.core import docker_api
from salt_swarm.core.addresses import check_pool
from salt_swarm.core.cluster import check_availability
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.membership import explain, info, refuse_locked, settled_info

DEFAULT_SUBNET_SIZE = 24  # Docker's, when a pool is given without subnet_size


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


@dataclass(frozen=True)
class InitPlan:
    """``steps``: none (already a manager: ``comment`` says of which swarm), or
    ``drop_stale`` (a pending or failed join attempt) and ``init``."""

    opts: InitOptions
    steps: tuple[str, ...]
    comment: str

    def report(self) -> dict:
        """The return of a test run (or of a run with nothing to do)."""
        return {"changed": bool(self.steps), "comment": self.comment}


def init_plan(client, opts: InitOptions) -> InitPlan:
    """What init would do here; raises when it must not (a worker, a locked node)."""
    opts = opts.validated()
    now = settled_info(client)
    refuse_locked(now)
    if now["state"] == "active" and not opts.force_new_cluster:
        if now["manager"]:
            swarm = now["cluster_id"] or "(cluster id unknown: no quorum?)"
            return InitPlan(opts, (), f"already a manager of swarm {swarm}")
        raise SwarmError(
            "this node is a worker in a swarm (managers "
            f"{', '.join(now['remote_managers']) or 'unknown'}); it cannot start another one: "
            "leave that swarm first (swarm.leave)"
        )
    if now["state"] in ("pending", "error"):
        return InitPlan(
            opts,
            ("drop_stale", "init"),
            f"a new swarm would be initialized here (the {now['state']} join attempt dropped first)",
        )
    return InitPlan(opts, ("init",), "a new swarm would be initialized here")


def apply_init(client, plan: InitPlan) -> dict:
    if not plan.steps:
        return plan.report()
    if "drop_stale" in plan.steps:
        client.api.leave_swarm(force=True)
    try:
        node_id = docker_api.post(client, "/swarm/init", plan.opts.request_body(), answer=True)
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


def init(client, opts: InitOptions, test: bool = False) -> dict:
    """Make this node the first manager of a new swarm, unless it already manages one."""
    plan = init_plan(client, opts)
    return plan.report() if test else apply_init(client, plan)


def _raise_if_initialized_meanwhile(client, exc) -> None:
    """Between this node's reading and its init, another run (a second orchestrate, a
    second manager booting from the store) made it a swarm member: say so rather
    than Docker's advice to leave, which would break that swarm."""
    if "already part of a swarm" not in explain(exc):
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
