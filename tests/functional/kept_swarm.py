"""A swarm a test left exactly as it was built, kept for the next test that asks for
the same shape: a leave and a build on these hosts cost several seconds each.

"Exactly as built" is the daemons' fingerprint (`swarms.fingerprint`, as the
bad-input tests use): every host's membership and node id, and on a manager the
swarm's version (tokens, settings, autolock) and each node's version (a write or a
status change moves it).
Anything else, and the swarm is taken down and built again.
"""

from __future__ import annotations

from lab import swarms


class KeptSwarm:
    def __init__(self):
        self.shape = None
        self.reading = None

    def standing(self, lab, shape) -> bool:
        """The swarm of this shape is up, untouched since it was built."""
        if self.shape != shape or self.reading is None:
            return False
        try:
            return swarms.fingerprint(lab, lab.hosts) == self.reading
        except Exception:
            return False

    def build(self, lab, managers: list[str], workers: list[str]) -> None:
        self.forget(lab)
        swarms.leave_all(lab, lab.hosts)
        swarms.build(lab, managers, workers)
        swarms.wait_ready(lab, managers[0], [*managers, *workers])
        self.shape = (tuple(managers), tuple(workers))
        self.reading = swarms.fingerprint(lab, lab.hosts)

    def forget(self, lab, take_down: bool = False) -> None:
        if take_down and self.shape is not None:
            swarms.leave_all(lab, lab.hosts)
        self.shape = self.reading = None
