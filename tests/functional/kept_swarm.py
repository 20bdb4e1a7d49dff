"""A swarm a test left exactly as it was built, kept for the next test that asks for
the same shape: a leave and a build on these hosts cost several seconds each.

"Exactly as built" is read from the daemons: every host's membership and node id,
the swarm's version (tokens, settings, autolock), and each node's version (any write
to a node moves it). Anything else, and the swarm is taken down and built again.
"""

from __future__ import annotations

from salt_swarm.lab import swarms


def _reading(lab, manager: str) -> dict:
    members = {}
    for name in lab.hosts:
        client = lab.docker_client(name)
        try:
            state = client.info()["Swarm"]
            members[name] = (state["LocalNodeState"], state.get("NodeID") or None)
            if name == manager and state.get("ControlAvailable"):
                spec = client.api.inspect_swarm()
                nodes = sorted(
                    (n["ID"], n["Version"]["Index"], n["Status"]["State"])
                    for n in client.api.nodes()
                )
                members["swarm"] = (spec["ID"], spec["Version"]["Index"], tuple(nodes))
        finally:
            client.close()
    return members


class KeptSwarm:
    def __init__(self):
        self.shape = None
        self.reading = None

    def standing(self, lab, shape) -> bool:
        """The swarm of this shape is up, untouched since it was built."""
        if self.shape != shape or self.reading is None:
            return False
        try:
            return _reading(lab, shape[0][0]) == self.reading
        except Exception:
            return False

    def build(self, lab, managers: list[str], workers: list[str]) -> None:
        self.forget(lab)
        swarms.leave_all(lab, lab.hosts)
        swarms.build(lab, managers, workers)
        swarms.wait_ready(lab, managers[0], [*managers, *workers])
        self.shape = (tuple(managers), tuple(workers))
        reading = _reading(lab, managers[0])
        ready = all(state == "ready" for _, _, state in reading.get("swarm", (0, 0, ()))[2])
        self.reading = reading if ready else None

    def forget(self, lab, take_down: bool = False) -> None:
        if take_down and self.shape is not None:
            swarms.leave_all(lab, lab.hosts)
        self.shape = self.reading = None
