"""The minions as the master sees them: targets, ``swarm.*`` calls, the node record.

The record (Salt's master cache, bank ``salt_swarm``) keeps which minion runs which
swarm node, so a node can still be matched to its minion after the minion is gone.
"""

from __future__ import annotations

import salt.cache
import salt.client
import salt.key
import salt.pillar
import salt.utils.minions

from salt_swarm.core.cluster import NodeView, node_view
from salt_swarm.core.errors import SwarmError

BANK = "salt_swarm"
RECORD = "node_minions"


class Fleet:
    def __init__(self, opts: dict, timeout: float = 10):
        self.opts = opts
        self.timeout = timeout
        self._client = None
        self.listed: dict[str, list] = {}  # manager -> swarm.nodes rows from preflight

    @property
    def client(self):
        if self._client is None:
            self._client = salt.client.get_local_client(self.opts["conf_file"])
        return self._client

    def matched(self, tgt: str, tgt_type: str) -> tuple[list[str], list[str]]:
        found = salt.utils.minions.CkMinions(self.opts).check_minions(tgt, tgt_type)
        return sorted(found.get("minions", [])), sorted(found.get("missing", []))

    def accepted(self) -> set[str]:
        keys = salt.key.get_key(self.opts).list_status("accepted")
        return set(keys.get("minions", []))

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
            infos[minion] = data.get("ret") if ok and isinstance(data.get("ret"), dict) else None
        self.remember(infos)
        return infos, set(ret)

    def preflight(self, minions) -> tuple[dict, set, dict, dict]:
        """``swarm.preflight`` on each minion, in one publish: (minion -> swarm.info or
        None, the minions that answered, minion -> problems its own checks found,
        minion -> its grain labels ``{labels, owned}``)."""
        if not minions:
            return {}, set(), {}, {}
        ret = self.client.cmd(
            list(minions),
            "swarm.preflight",
            tgt_type="list",
            timeout=self.timeout,
            full_return=True,
        )
        infos, problems, grain_labels = {}, {}, {}
        for minion, data in ret.items():
            body = data.get("ret") if isinstance(data, dict) else None
            if isinstance(body, dict) and data.get("retcode", 0) == 0:
                infos[minion] = body.get("info")
                problems[minion] = list(body.get("problems") or [])
                grain_labels[minion] = body.get("grain_labels") or {}
                if isinstance(body.get("nodes"), list):
                    self.listed[minion] = body["nodes"]
            else:
                infos[minion] = None
                problems[minion] = [f"swarm.preflight failed: {body!r}"]
        self.remember(infos)
        return infos, set(ret), problems, grain_labels

    def on_manager(self, candidates: list[str], fun: str, timeout=None, **kwargs):
        """Run ``fun`` (a function that must run on a manager) on the first of
        ``candidates`` where it works: (that minion, its return). A candidate that
        is down, no manager, locked or without a leader fails and the next is
        tried; salt-swarm's own refusals (``refusing to ...``, quorum) are final."""
        failures = []
        for minion in candidates:
            try:
                return minion, self.call(minion, fun, timeout=timeout, **kwargs)
            except SwarmError as exc:
                if "refusing to" in str(exc):
                    raise
                failures.append(str(exc))
        raise SwarmError(f"no active manager could run {fun}: " + "; ".join(failures))

    def call(self, minion: str, fun: str, arg=(), timeout=None, **kwargs):
        """One function on one minion; its return, or SwarmError with the minion's message."""
        ret = self.client.cmd(
            minion,
            fun,
            arg=list(arg),
            kwarg=kwargs or None,
            timeout=timeout or self.timeout,
            full_return=True,
        ).get(minion)
        if not isinstance(ret, dict):
            raise SwarmError(f"{minion}: no answer to {fun}")
        if ret.get("retcode", 0) != 0:
            raise SwarmError(f"{minion}: {fun}: {ret.get('ret')}")
        return ret.get("ret")

    def nodes_from(self, candidates: list[str]) -> tuple[str, list[NodeView]]:
        """The node list from the first of ``candidates`` (active managers) that answers."""
        failures = []
        for manager in candidates:
            if manager in self.listed:  # listed in this run's preflight
                return manager, [node_view(api_shape(n)) for n in self.listed[manager]]
            try:
                rows = self.call(manager, "swarm.nodes")
            except SwarmError as exc:
                failures.append(str(exc))
                continue
            return manager, [node_view(api_shape(n)) for n in rows]
        raise SwarmError(
            "no active manager could list the nodes"
            + (": " + "; ".join(failures) if failures else " (none found among the minions)")
        )

    # ---- the node record -------------------------------------------------------
    def _cache(self):
        return salt.cache.factory(self.opts)

    def record(self) -> dict[str, str]:
        """node id -> minion id, as last seen."""
        return dict(self._cache().fetch(BANK, RECORD) or {})

    def remember(self, infos: dict) -> None:
        seen = {i["node_id"]: m for m, i in infos.items() if i and i.get("node_id")}
        if not seen:
            return
        known = self.record()
        if any(known.get(node) != minion for node, minion in seen.items()):
            self._cache().store(BANK, RECORD, {**known, **seen})


def active_managers(infos: dict, prefer=()) -> list[str]:
    """Minions that are active managers, those in ``prefer`` first."""
    active = [m for m, i in infos.items() if i and i["state"] == "active" and i["manager"]]
    return sorted(active, key=lambda m: (m not in prefer, m))


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
