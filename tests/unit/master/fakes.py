"""A fake Fleet for the master-side workflows, and what it stands on.

``FakeFleet`` has the Fleet's face: ``call`` answers from what the test set per
function (else from the minions' reports and the swarm's node rows), ``infos`` from
the reports, ``client`` records every direct publish, and the master cache is a
dict. What the Fleet decides itself (trying managers in turn, the node list a
preflight left, the node record and its doubts) is the real Fleet's code running
over these: the workflows under test see the record and the refusals they would.
Every ``call`` is kept in ``calls``; ``changes()`` leaves out the reads.
"""

from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass, field

from salt_swarm.core import claims
from salt_swarm.core.errors import SwarmError, is_refusal
from salt_swarm.master.fleet import BANK, RECORD, Fleet, RefusedThere
from tests.unit import fake_clock

READS = ("swarm.info", "swarm.nodes")
SILENT = "<no answer>"  # a minion that does not answer (in reports, or a handler's return)


def row(id_, host, role="worker", status="ready", availability="active", labels=None, **kw):
    """A ``swarm.nodes`` row."""
    manager = role == "manager"
    return {
        "id": id_,
        "hostname": host,
        "role": role,
        "availability": availability,
        "status": status,
        "addr": "198.18.0.1",
        "labels": dict(labels or {}),
        "reachability": kw.get("reachability", "reachable") if manager else None,
        "leader": kw.get("leader", False),
        "engine_version": "27.0.0",
    }


def info(node_id, host, manager=False, state="active"):
    """A ``swarm.info`` return."""
    return {
        "state": state,
        "node_id": node_id,
        "hostname": host,
        "manager": manager,
        "cluster_id": "c1" if manager else None,
    }


class Fail:
    """A minion's error return (retcode 1) with this text."""

    def __init__(self, text):
        self.text = text


@dataclass
class Call:
    minion: str
    fun: str
    args: list
    kwargs: dict
    timeout: float | None = None


@dataclass
class Publish:
    tgt: object
    fun: str
    tgt_type: str
    kwarg: dict | None
    arg: list = field(default_factory=list)


class MemCache:
    """salt.cache as the workflows use it: fetch/store by bank and key."""

    def __init__(self):
        self.banks: dict[str, dict] = {}

    def fetch(self, bank, key):
        return copy.deepcopy(self.banks.get(bank, {}).get(key, {}))

    def store(self, bank, key, data):
        self.banks.setdefault(bank, {})[key] = copy.deepcopy(data)


class FakeClient:
    """salt.client.LocalClient: publishes recorded, each minion answering through the
    fleet's ``answer``."""

    def __init__(self, fleet):
        self.fleet = fleet
        self.published: list[Publish] = []
        self.jobs: dict[str, tuple] = {}

    def cmd(self, tgt, fun, arg=(), tgt_type="glob", kwarg=None, full_return=False, **kw):
        self.published.append(Publish(tgt, fun, tgt_type, kwarg, list(arg or ())))
        minions = self.fleet.matched(tgt, tgt_type)[0]
        out = {}
        for minion in minions:
            got = self.fleet.answer(minion, fun, list(arg or ()), dict(kwarg or {}))
            if got is SILENT:
                continue
            if isinstance(got, Fail):
                out[minion] = {"retcode": 1, "ret": got.text} if full_return else got.text
            else:
                out[minion] = {"retcode": 0, "ret": got} if full_return else got
        return out

    def run_job(self, tgt, fun, tgt_type="glob", kwarg=None, listen=False, **kw):
        self.published.append(Publish(tgt, fun, tgt_type, kwarg))
        jid = f"job{len(self.jobs) + 1}"
        self.jobs[jid] = (list(tgt), fun, dict(kwarg or {}))
        return {"jid": jid, "minions": list(tgt)}

    def get_iter_returns(self, jid, minions, timeout=None, **kw):
        tgt, fun, kwarg = self.jobs[jid]
        for minion in tgt:
            got = self.fleet.answer(minion, fun, [], kwarg)
            if got is SILENT:
                continue
            if isinstance(got, Fail):
                yield {minion: {"retcode": 1, "ret": got.text}}
            else:
                yield {minion: {"retcode": 0, "ret": got}}


class FakeFleet:
    """``minions``: every minion the master knows; ``accepted``: those with an
    accepted key (default: all); ``reports``: minion -> its ``swarm.info`` (a
    ``Fail``, or ``SILENT``; missing: SILENT); ``rows``: the swarm's node list as
    any manager gives it; ``record``: the master's node record to start with."""

    # The real Fleet's own logic, over this fake's call, reports and cache.
    nodes_from = Fleet.nodes_from
    on_manager = Fleet.on_manager
    record = Fleet.record
    check_reports = Fleet.check_reports
    remember = Fleet.remember

    def __init__(
        self, minions=(), accepted=None, pillar=None, reports=None, rows=None, record=None
    ):
        self.opts = {"id": "salt", "hash_type": "sha256", "nodegroups": {}}
        self.timeout = 10
        self.listed: dict[str, list] = {}
        self.doubts: dict[str, str] = {}
        self.minions = list(minions)
        self.accepted_ids = set(self.minions if accepted is None else accepted)
        self.pillar = dict(pillar or {})
        self.reports = dict(reports or {})
        self.rows = [dict(r) for r in rows or []]
        self.cache = MemCache()
        if record:
            self.cache.store(BANK, RECORD, dict(record))
        self.handlers: dict = {}  # fun -> value, or callable(minion, args, kwargs)
        self.calls: list[Call] = []
        self.asked_infos: list[list[str]] = []
        self.client = FakeClient(self)

    # ---- the Fleet's face --------------------------------------------------------
    def _cache(self):
        return self.cache

    def accepted(self):
        return set(self.accepted_ids)

    def swarm_pillar(self):
        return copy.deepcopy(self.pillar)

    def matched(self, tgt, tgt_type="glob"):
        if tgt_type == "list":
            ids = tgt.split(",") if isinstance(tgt, str) else list(tgt)
            return [m for m in ids if m in self.minions], [m for m in ids if m not in self.minions]
        if tgt_type != "glob":
            raise AssertionError(f"the fake matches globs and lists, not {tgt_type}")
        return sorted(m for m in self.minions if fnmatch.fnmatchcase(m, tgt)), []

    def infos(self, minions=None, tgt=None, tgt_type="list"):
        if tgt is None and not minions:
            return {}, set()
        asked = self.matched(tgt, "glob")[0] if tgt else list(minions)
        self.asked_infos.append(list(asked))
        found = {}
        for minion in asked:
            got = self.answer(minion, "swarm.info", [], {})
            if got is SILENT:
                continue
            found[minion] = None if isinstance(got, Fail) else claims.well_formed(got)
        return found, set(found)

    def call(self, minion, fun, arg=(), timeout=None, **kwargs):
        self.calls.append(Call(minion, fun, list(arg), dict(kwargs), timeout))
        got = self.answer(minion, fun, list(arg), kwargs)
        if got is SILENT:
            raise SwarmError(f"{minion}: no answer to {fun}")
        if isinstance(got, Fail):
            text = f"{minion}: {fun}: {got.text}"
            raise RefusedThere(text) if is_refusal(text) else SwarmError(text)
        return got

    # ---- the minions' answers ----------------------------------------------------
    def answer(self, minion, fun, args, kwargs):
        if fun in self.handlers:
            handler = self.handlers[fun]
            return handler(minion, args, kwargs) if callable(handler) else copy.deepcopy(handler)
        if fun == "swarm.info":
            return copy.deepcopy(self.reports.get(minion, SILENT))
        if fun == "swarm.nodes":
            return copy.deepcopy(self.rows)
        if fun == "test.ping":
            return True
        return {}

    # ---- what the test reads -----------------------------------------------------
    def changes(self):
        """Every call but the reads: (minion, fun, args, kwargs)."""
        return [(c.minion, c.fun, c.args, c.kwargs) for c in self.calls if c.fun not in READS]

    def node_record(self):
        return self.cache.fetch(BANK, RECORD)

    def row(self, node_id):
        return next(r for r in self.rows if r["id"] == node_id)


class Clock(fake_clock.Clock):
    """The workflows' ``time``, at an epoch-like start (``time()`` is compared with
    stored times)."""

    def __init__(self, start=1_000_000.0):
        super().__init__(start)


# ---- the master's mine, as joins.join_data reads it ------------------------------------
DIGEST = "a" * 50
TOKENS = {
    "cluster_id": "c1",
    "manager": f"SWMTKN-1-{DIGEST}-{'m' * 25}",
    "worker": f"SWMTKN-1-{DIGEST}-{'w' * 25}",
}


def manager_mine(addr="198.18.0.1:2377"):
    """A manager's mine entries (address, and both tokens ACL-wrapped as Salt keeps them)."""
    from salt_swarm.core import mine_data

    def acl(data):
        return {"__saltmine_acl__": 1, "__data__": data, "allow_tgt": "*"}

    return {
        mine_data.MINE_ADDR: addr,
        mine_data.MINE_TOKEN["worker"]: acl({"cluster_id": "c1", "worker": TOKENS["worker"]}),
        mine_data.MINE_TOKEN["manager"]: acl({"cluster_id": "c1", "manager": TOKENS["manager"]}),
    }
