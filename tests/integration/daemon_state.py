"""What every lab dockerd holds, read straight from Docker: to prove nothing changed."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from salt_swarm.lab import swarms
from tests.integration.conftest import SUMMARY, Orchestrate


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
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(hosts, pool.map(lambda h: host_state(lab, h), hosts), strict=True))


def in_background(lab, sls="swarm.bootstrap", timeout=600):
    """Start the orchestrate; ``.result()`` gives an Orchestrate (summary may be absent)."""
    pool = ThreadPoolExecutor(max_workers=1)

    def run():
        res = lab.salt_run("state.orchestrate", sls, timeout=timeout)
        out = res.stdout + res.stderr
        found = SUMMARY.findall(res.stdout)
        succeeded, changed, failed = found[-1] if found else (0, 0, -1)
        return Orchestrate(res.returncode, int(succeeded), int(changed or 0), int(failed), out)

    future = pool.submit(run)
    pool.shutdown(wait=False)
    return future


def watch(check, until, interval=0.05):
    """Call ``check`` every ``interval`` s until ``until()`` is true; return what it saw."""
    seen = []
    while not until():
        try:
            seen.append(check())
        except Exception as exc:  # a daemon restarting: note it, keep watching
            seen.append(exc)
        time.sleep(interval)
    return seen


def managers_ready(lab, manager: str) -> int:
    nodes = swarms.node_states(lab, manager)
    return sum(
        1
        for n in nodes.values()
        if n["Spec"]["Role"] == "manager" and n["Status"]["State"] == "ready"
    )
