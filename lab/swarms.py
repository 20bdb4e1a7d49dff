"""Build and tear down swarms on lab hosts straight through the Docker API.

Tests use these as ground truth independent of salt-swarm's own code; the benchmark
uses them as the floor (the fastest a swarm can be built on these hosts).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from lab import procs
from lab.layout import SWARM_ADDR_POOL
from lab.wait import wait_for


def build(lab, managers: list[str], workers: list[str] = ()) -> dict:
    """Init on managers[0], join the other managers one by one, the workers in parallel."""
    first = lab.docker_client(managers[0])
    first_addr = f"{lab.addr(managers[0])}:2377"
    first.api.init_swarm(
        advertise_addr=lab.addr(managers[0]),
        listen_addr=first_addr,
        default_addr_pool=[SWARM_ADDR_POOL],
        subnet_size=24,
    )
    tokens = first.api.inspect_swarm()["JoinTokens"]

    def join(name: str, token: str) -> None:
        client = lab.docker_client(name)
        client.api.join_swarm([first_addr], token, advertise_addr=lab.addr(name))
        client.close()

    for name in managers[1:]:
        join(name, tokens["Manager"])
    with ThreadPoolExecutor(max_workers=max(len(workers), 1)) as pool:
        list(pool.map(lambda n: join(n, tokens["Worker"]), workers))
    first.close()
    return {"manager_addr": first_addr, "tokens": tokens}


def node_states(lab, manager: str) -> dict[str, dict]:
    """hostname -> Docker's node object, read on ``manager``."""
    client = lab.docker_client(manager)
    try:
        # A node that has only just joined may not have reported its description yet.
        return {
            (n.get("Description") or {}).get("Hostname", n["ID"]): n for n in client.api.nodes()
        }
    finally:
        client.close()


def node_list(lab, manager: str) -> list[dict]:
    """Every node object, twins of one hostname included, read on ``manager``."""
    client = lab.docker_client(manager)
    try:
        return client.api.nodes()
    finally:
        client.close()


def wait_ready(lab, manager: str, names: list[str], timeout: float = 30) -> None:
    """Until the node each host is now (its dockerd's node id) shows Ready on
    ``manager``: a host that left and joined again has a Down twin of its hostname."""

    def all_ready():
        try:
            ids = [local_state(lab, n).get("NodeID") for n in names]
            listed = {node["ID"]: node for node in node_list(lab, manager)}
        except Exception:  # a dockerd restarting: ask again
            return False
        return all(i and listed.get(i, {}).get("Status", {}).get("State") == "ready" for i in ids)

    wait_for(all_ready, timeout, f"nodes {', '.join(names)} ready")


def local_state(lab, name: str) -> dict:
    client = lab.docker_client(name)
    try:
        return client.info()["Swarm"]
    finally:
        client.close()


def leave(lab, name: str, timeout: float = 10) -> None:
    """Take ``name`` out of any swarm: force-leave, or if dockerd hangs, wipe its swarm state."""
    import docker
    import requests

    client = docker.DockerClient(base_url=lab.docker_url(name), timeout=timeout)
    try:
        if client.info()["Swarm"]["LocalNodeState"] == "inactive":
            return
        # For a second or so after a join, dockerd sets up the ingress network (a full
        # core here); a leave in that time waits 5 s in Docker for its removal.
        cg = procs.cgroup_root()
        if cg:
            procs.wait_idle(cg / name / "dockerd", timeout=5)
        client.api.leave_swarm(force=True)
        return
    except (requests.RequestException, docker.errors.APIError):
        pass
    finally:
        client.close()
    lab.wipe_swarm_state(name)


def leave_all(lab, names: list[str]) -> None:
    """Every member but the leaders at once, then the leaders one at a time.

    A leader that force-leaves beside its managers leaves them waiting on a Raft that
    is falling apart (about 15 s for three); beside its workers, it can leave a
    worker's gossip (network DB) unclosed, still holding port 7946, so that every later
    leave on that dockerd waits 5 s for the ingress network. While the leader stays,
    the others leave in under 2 s together, then the leader alone in a fraction of one.
    Managers of a swarm with no leader leave one at a time, as the leaders do.
    """
    with ThreadPoolExecutor(max_workers=16) as pool:
        standing = dict(zip(names, pool.map(lambda n: _standing(lab, n), names), strict=True))
        first = [n for n in names if standing[n] in ("worker", "manager")]
        list(pool.map(lambda n: leave(lab, n), first))
    for name in names:
        if standing[name] in ("leader", "unsure"):
            leave(lab, name)


def _standing(lab, name: str) -> str:
    """out | worker | manager (a leader is in its swarm) | leader | unsure."""
    import docker

    try:
        client = docker.DockerClient(base_url=lab.docker_url(name), timeout=10)
    except Exception:
        return "unsure"
    try:
        swarm = client.info()["Swarm"]
        if swarm["LocalNodeState"] == "inactive":
            return "out"
        if not swarm.get("ControlAvailable"):
            return "worker" if swarm["LocalNodeState"] == "active" else "unsure"
        nodes = client.api.nodes(filters={"role": "manager"})
        mine = [n for n in nodes if n["ID"] == swarm.get("NodeID")]
        if mine and (mine[0].get("ManagerStatus") or {}).get("Leader"):
            return "leader"
        led = any((n.get("ManagerStatus") or {}).get("Leader") for n in nodes)
        return "manager" if led else "unsure"
    except Exception:
        return "unsure"
    finally:
        client.close()


def host_state(lab, name: str):
    """Membership, and on a manager every node's spec version and the swarm's version."""
    try:
        client = lab.docker_client(name)
    except Exception as exc:
        return f"dockerd not answering: {type(exc).__name__}"
    try:
        swarm = client.info()["Swarm"]
        state = {
            "state": swarm["LocalNodeState"],
            "node": swarm.get("NodeID"),
            "cluster": (swarm.get("Cluster") or {}).get("ID"),
        }
        if swarm.get("ControlAvailable"):
            state["swarm_version"] = client.api.inspect_swarm()["Version"]["Index"]
            state["nodes"] = sorted(
                (n["ID"], n["Version"]["Index"], n["Spec"]["Role"], n["Spec"]["Availability"])
                for n in client.api.nodes()
            )
        return state
    finally:
        client.close()


def fingerprint(lab, hosts) -> dict:
    """Every host's ``host_state``: equal readings mean no daemon changed in between."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(hosts, pool.map(lambda h: host_state(lab, h), hosts), strict=True))
