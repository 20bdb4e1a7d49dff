"""The minions as the master sees them: targets, ``swarm.*`` calls, the node record.

The record (Salt's master cache, bank ``salt_swarm``) keeps which minion runs which
swarm node, so a node can still be matched to its minion after the minion is gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import salt.cache
import salt.client
import salt.pillar

from salt_swarm import salt_internals
from salt_swarm.core import claims
from salt_swarm.core.cluster import NodeView, node_view
from salt_swarm.core.errors import Refused, SwarmError, is_refusal
from salt_swarm.core.secrets import redact

log = logging.getLogger(__name__)


class RefusedThere(Refused):
    """A minion's refusal, as its job returned it (the whole text is the message)."""

    def __init__(self, text: str):
        SwarmError.__init__(self, text)


BANK = "salt_swarm"
RECORD = "node_minions"


@dataclass
class Preflight:
    """What ``swarm.preflight`` gave, per minion."""

    infos: dict = field(default_factory=dict)  # swarm.info, None where it failed
    live: set = field(default_factory=set)  # the minions that answered
    problems: dict = field(default_factory=dict)  # what each one's own checks found
    grains: dict = field(default_factory=dict)  # the grains the label rules read
    mine: dict = field(default_factory=dict)  # its mine_functions entries of ours
    versions: dict = field(default_factory=dict)  # the salt-swarm it runs (None: before 0.2)


class Fleet:
    def __init__(self, opts: dict, timeout: float = 10):
        self.opts = opts
        self.timeout = timeout
        self._client = None
        self.listed: dict[str, list] = {}  # manager -> swarm.nodes rows from preflight
        # minion -> why its last report about its own node is not trusted (core.claims)
        self.doubts: dict[str, str] = {}

    @property
    def client(self):
        if self._client is None:
            self._client = salt.client.get_local_client(self.opts["conf_file"])
        return self._client

    def matched(self, tgt: str, tgt_type: str) -> tuple[list[str], list[str]]:
        return salt_internals.matched(self.opts, tgt, tgt_type)

    def accepted(self) -> set[str]:
        return salt_internals.accepted_minions(self.opts)

    def swarm_pillar(self) -> dict:
        """The ``swarm:`` pillar compiled for the master's own id, as orchestrate renders it."""
        pillar = salt.pillar.get_pillar(
            self.opts,
            {},
            self.opts["id"],
            saltenv=self.opts.get("saltenv") or "base",
            pillarenv=self.opts.get("pillarenv"),
        ).compile_pillar()
        conf = pillar.get("swarm")
        return conf if isinstance(conf, dict) else {}

    def infos(self, minions=None, tgt=None, tgt_type="list") -> tuple[dict, set]:
        """minion -> swarm.info (None where it failed), and the minions that answered."""
        if tgt is None and not minions:
            return {}, set()
        ret = self.client.cmd(
            tgt or list(minions),
            "swarm.info",
            tgt_type="glob" if tgt else tgt_type,
            timeout=self.timeout,
            full_return=True,
        )
        infos = {}
        for minion, data in ret.items():
            ok = isinstance(data, dict) and data.get("retcode", 0) == 0
            infos[minion] = claims.well_formed(data.get("ret")) if ok else None
        return infos, set(ret)

    def preflight(self, minions, grain_rules=None) -> Preflight:
        """``swarm.preflight`` on each minion, in one publish (``grain_rules``: pillar's
        ``swarm:grain_labels``, whose grains each minion sends back)."""
        found = Preflight()
        if not minions:
            return found
        kwarg = {"grain_rules": grain_rules} if grain_rules else None
        ret = self.client.cmd(
            list(minions),
            "swarm.preflight",
            tgt_type="list",
            timeout=self.timeout,
            full_return=True,
            kwarg=kwarg,
        )
        found.live = set(ret)
        for minion, data in ret.items():
            body = data.get("ret") if isinstance(data, dict) else None
            if not (isinstance(body, dict) and data.get("retcode", 0) == 0):
                found.infos[minion] = None
                found.problems[minion] = [f"swarm.preflight failed: {redact(repr(body))}"]
                continue
            info = claims.well_formed(body.get("info"))
            found.infos[minion] = info
            found.problems[minion] = [str(p) for p in body.get("problems") or []]
            if body.get("info") is not None and info is None:
                found.problems[minion].append(
                    "swarm.preflight: its info is not in swarm.info's shape"
                )
            found.grains[minion] = (
                body.get("grains") if isinstance(body.get("grains"), dict) else {}
            )
            found.mine[minion] = body.get("mine") if isinstance(body.get("mine"), dict) else {}
            found.versions[minion] = (
                body.get("version") if isinstance(body.get("version"), str) else None
            )
            if isinstance(body.get("nodes"), list):
                self.listed[minion] = body["nodes"]
        return found

    def on_manager(self, candidates: list[str], fun: str, timeout=None, **kwargs):
        """Run ``fun`` (a function that must run on a manager) on the first of
        ``candidates`` where it works: (that minion, its return). A candidate that
        is down, no manager, locked or without a leader fails and the next is
        tried; salt-swarm's own refusals (``refusing to ...``, quorum) are final."""
        failures = []
        for minion in candidates:
            try:
                return minion, self.call(minion, fun, timeout=timeout, **kwargs)
            except Refused:
                raise
            except SwarmError as exc:
                failures.append(str(exc))
        raise SwarmError(f"no active manager could run {fun}: " + "; ".join(failures))

    def call(self, minion: str, fun: str, arg=(), timeout=None, **kwargs):
        """One function on one minion; its return, or SwarmError with the minion's message.
        The minion is an exact list target: an id may hold glob characters or commas."""
        ret = self.client.cmd(
            [minion],
            fun,
            tgt_type="list",
            arg=list(arg),
            kwarg=kwargs or None,
            timeout=timeout or self.timeout,
            full_return=True,
        ).get(minion)
        if not isinstance(ret, dict):
            raise SwarmError(f"{minion}: no answer to {fun}")
        if ret.get("retcode", 0) != 0:
            text = f"{minion}: {fun}: {ret.get('ret')}"
            raise RefusedThere(text) if is_refusal(text) else SwarmError(text)
        return ret.get("ret")

    def nodes_from(self, candidates: list[str]) -> tuple[str, list[NodeView]]:
        """The node list from the first of ``candidates`` (active managers) that answers."""
        failures = []
        for manager in candidates:
            try:
                if manager in self.listed:  # listed in this run's preflight
                    rows = self.listed[manager]
                else:
                    rows = self.call(manager, "swarm.nodes")
                return manager, [node_view(api_shape(n)) for n in rows]
            except SwarmError as exc:
                failures.append(str(exc))
            except (KeyError, TypeError, AttributeError):
                failures.append(f"{manager}: swarm.nodes gave rows of another shape")
        raise SwarmError(
            "no active manager could list the nodes"
            + (": " + "; ".join(failures) if failures else " (none found among the minions)")
        )

    # ---- the node record -------------------------------------------------------
    def _cache(self):
        return salt.cache.factory(self.opts)

    def record(self) -> dict[str, str]:
        """node id -> minion id, as last seen in a report that held up."""
        found = self._cache().fetch(BANK, RECORD)
        return dict(found) if isinstance(found, dict) else {}

    def check_reports(self, infos: dict, nodes: list[NodeView] | None = None) -> dict[str, str]:
        """minion -> why its report about its own node is not trusted (core.claims),
        against the record, the accepted keys and, when given, a manager's node list."""
        return claims.doubtful(infos, self.record(), self.accepted(), nodes)

    def remember(self, infos: dict, nodes: list[NodeView]) -> dict[str, str]:
        """Record node -> minion for the reports that hold up against ``nodes`` (a
        pillar manager's node list): only nodes listed there are recorded. Returns the
        doubts (also kept in ``self.doubts``), each logged as a warning."""
        doubts = self.check_reports(infos, nodes)
        listed = {n.id for n in nodes if n.hostname}  # described: its hostname checked
        for minion, why in doubts.items():
            if self.doubts.get(minion) != why:
                log.warning("salt-swarm: not trusting %r about its node: %s", minion, why)
        self.doubts.update(doubts)
        for minion in infos:
            if minion not in doubts:
                self.doubts.pop(minion, None)
        seen = {
            i["node_id"]: m
            for m, i in claims.trusted(infos, doubts).items()
            if i.get("node_id") in listed and i.get("state") in ("active", "locked")
        }
        known = self.record()
        if any(known.get(node) != minion for node, minion in seen.items()):
            self._cache().store(BANK, RECORD, {**known, **seen})
        return doubts


def active_managers(infos: dict, among) -> list[str]:
    """Minions of ``among`` (pillar's managers) that say they are active managers.
    Only those: a worker that says it manages would hand over a node list of its own."""
    among = set(among)
    return sorted(
        m for m, i in infos.items() if m in among and i and i["state"] == "active" and i["manager"]
    )


def api_shape(row: dict) -> dict:
    """A ``swarm.nodes`` row back in the Docker API's node shape that node_view reads."""
    manager = None
    if row["role"] == "manager":
        manager = {"Reachability": row["reachability"], "Leader": row["leader"]}
    return {
        "ID": row["id"],
        "Spec": {"Role": row["role"], "Availability": row["availability"], "Labels": row["labels"]},
        "Status": {"State": row["status"], "Addr": row["addr"]},
        "ManagerStatus": manager,
        "Description": {
            "Hostname": row["hostname"],
            "Engine": {"EngineVersion": row["engine_version"]},
        },
    }
