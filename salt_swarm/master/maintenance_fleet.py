"""The rolling maintenance over the real fleet: which nodes the target names, the
availability pillar gives each, the maintenance action on the minions, readings
through the pillar managers, the run's progress in the master cache and an event
per stage (``salt/swarm/progress/maintain/<stage>``) for anyone following the run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import salt.cache
from salt.exceptions import SaltInvocationError

from salt_swarm.core import maintenance as logic
from salt_swarm.core.cluster import node_view
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.secrets import redact
from salt_swarm.core.settings import default
from salt_swarm.core.units import truthy
from salt_swarm.master import progress
from salt_swarm.master.fleet import BANK, Fleet, active_managers, api_shape
from salt_swarm.master.maintenance import Limits, Look, Run
from salt_swarm.master.targets import pillar_managers, target

PROGRESS_KEY = "maintenance"
_FUNCTION = re.compile(r"^[A-Za-z_][\w]*\.[A-Za-z_][\w]*$")


@dataclass
class Action:
    """What runs on each node: ``state.apply <sls>`` or any execution function."""

    fun: str
    arg: list = field(default_factory=list)
    kwarg: dict = field(default_factory=dict)

    @classmethod
    def given(cls, sls=None, fun=None, arg=None, kwarg=None) -> Action:
        if bool(sls) == bool(fun):
            raise SaltInvocationError("give one of sls (a state to apply) or fun (a function)")
        if sls:
            if not isinstance(sls, str):
                raise SaltInvocationError(f"sls: expected an SLS name, got {sls!r}")
            return cls("state.apply", [sls])
        if not isinstance(fun, str) or not _FUNCTION.match(fun):
            raise SaltInvocationError(f"fun: expected a function such as cmd.run, got {fun!r}")
        if arg is not None and not isinstance(arg, list | tuple):
            arg = [arg]
        if kwarg is not None and not isinstance(kwarg, dict):
            raise SaltInvocationError("kwarg: expected a mapping")
        return cls(fun, list(arg or []), dict(kwarg or {}))

    @property
    def text(self) -> str:
        return " ".join(
            [self.fun, *map(str, self.arg), *(f"{k}={v}" for k, v in self.kwarg.items())]
        )

    def run(self, client, minions: list[str], timeout: float) -> dict[str, str | None]:
        """minion -> why the action failed there, or None."""
        ret = client.cmd(
            list(minions),
            self.fun,
            arg=list(self.arg),
            kwarg=self.kwarg or None,
            tgt_type="list",
            timeout=timeout,
            full_return=True,
        )
        return {m: _failure(self.fun, ret.get(m)) for m in minions}


def _failure(fun: str, ret) -> str | None:
    if not isinstance(ret, dict):
        return "no answer"
    body = ret.get("ret")
    if fun.startswith("state.") and isinstance(body, dict):
        failed = [
            f"{step.get('__id__', key)}: {step.get('comment')}"
            for key, step in body.items()
            if isinstance(step, dict) and step.get("result") is False
        ]
        if failed:
            return redact("; ".join(failed))[:2000]
    if ret.get("retcode", 0) != 0:
        return redact(repr(body))[:2000]
    return None


class CacheProgress:
    """The run's record in the master cache (bank ``salt_swarm``)."""

    def __init__(self, opts: dict):
        self.cache = salt.cache.factory(opts)

    def load(self) -> dict | None:
        found = self.cache.fetch(BANK, PROGRESS_KEY)
        return found if isinstance(found, dict) and found else None

    def save(self, record: dict) -> None:
        self.cache.store(BANK, PROGRESS_KEY, record)

    def clear(self) -> None:
        self.cache.flush(BANK, PROGRESS_KEY)


class FleetCluster:
    """``maintenance.Cluster`` over the fleet: readings and node changes through the
    pillar managers (the one that answered last is asked first; minions of the step
    under way are not asked)."""

    def __init__(self, fleet: Fleet, managers: list[str], action: Action, action_timeout: float):
        self.echo = None  # a line per stage for a terminal (the runner's progress)
        self.fleet = fleet
        self.managers = list(managers)
        self.action = action
        self.action_timeout = action_timeout

    def _candidates(self, avoid) -> list[str]:
        return [m for m in self.managers if m not in avoid]

    def _on_manager(self, avoid, fun, **kwargs):
        minion, ret = self.fleet.on_manager(self._candidates(avoid), fun, **kwargs)
        self.managers.remove(minion)
        self.managers.insert(0, minion)
        return ret

    def look(self, avoid) -> Look:
        data = self._on_manager(avoid, "swarm.placement")
        return Look(
            nodes=[node_view(api_shape(row)) for row in data["nodes"]],
            services=list(data["services"]),
            tasks=dict(data["tasks"]),
            capacity=dict(data.get("capacity") or {}),
        )

    def set_availability(self, node_id, availability, avoid) -> None:
        self._on_manager(avoid, "swarm.node_update", node=node_id, availability=availability)

    def act(self, minions):
        return self.action.run(self.fleet.client, minions, self.action_timeout)

    def local_states(self, minions):
        return self.fleet.infos(minions)[0]

    def progress(self, stage, data) -> None:
        progress.fire(self.fleet.opts, f"maintain/{stage}", data)
        if self.echo:
            self.echo(progress.line(f"{progress.PREFIX}maintain/{stage}", data))


def prepare(fleet: Fleet, tgt, tgt_type, action: Action, limits: Limits, expect_down=False):
    """(Run, FleetCluster, minions matched that are no swarm member), or
    SaltInvocationError / SwarmError before anything changes."""
    conf = fleet.swarm_pillar()
    budgets = conf.get("budget") or {}
    logic.check_budgets(budgets)
    managers = pillar_managers(fleet)
    if not managers:
        raise SwarmError("pillar swarm:managers matches no minion: no manager to ask")
    chosen, missing = fleet.matched(tgt, tgt_type)
    if missing or not chosen:
        raise SaltInvocationError(
            f"tgt {tgt!r} ({tgt_type}): "
            + (f"no such minions: {', '.join(missing)}" if missing else "matches no minion")
        )
    infos, _ = fleet.infos(sorted(set(chosen) | set(managers)))
    _, nodes = fleet.nodes_from(active_managers(infos, managers))
    doubts = fleet.remember(infos, nodes)
    listed = {n.id for n in nodes}
    node_of, not_members, problems = {}, [], []
    for minion in chosen:
        info = infos.get(minion)
        if minion in doubts:
            problems.append(
                f"{minion}: its report about its node does not hold up: {doubts[minion]}"
            )
        elif info is None:
            problems.append(f"{minion}: swarm.info gave no answer")
        elif info.get("state") == "inactive":
            not_members.append(minion)
        elif info.get("node_id") not in listed:
            problems.append(
                f"{minion}: its node {info.get('node_id')} is not in the managers' list"
            )
        else:
            node_of[info["node_id"]] = minion
    if problems:
        raise SwarmError("cannot start: " + "; ".join(problems))
    if not node_of:
        raise SwarmError(f"tgt {tgt!r} matches no swarm member")
    drain_managers = conf.get("drain_managers", default("drain_managers"))
    workers = fleet.matched(*target(conf["workers"], "workers"))[0] if conf.get("workers") else []
    wanted = {w: "active" for w in workers}
    wanted |= {m: "drain" if drain_managers else "active" for m in managers}
    key = json.dumps([tgt, tgt_type, action.fun, action.arg, action.kwarg], sort_keys=True)
    run = Run(key, action.text, node_of, wanted, budgets, limits, bool(expect_down))
    return run, FleetCluster(fleet, managers, action, limits.up_wait), sorted(not_members)


def run_maintenance(
    fleet: Fleet,
    tgt,
    tgt_type,
    action: Action,
    limits: Limits,
    test,
    fresh,
    expect_down=False,
    echo=None,
):
    """The runner's and the state's one entry: the plan (``test``) or the run;
    ``echo`` gets a line per stage."""
    from salt_swarm.master import maintenance

    run, cluster, not_members = prepare(fleet, tgt, tgt_type, action, limits, expect_down)
    cluster.echo = echo
    progress = CacheProgress(fleet.opts)
    if fresh and not test:
        progress.clear()
    elif fresh:
        progress = _Forgotten()
    report = (maintenance.plan if test else maintenance.maintain)(cluster, run, progress)
    if not_members:
        report["not_members"] = not_members
    return report


class _Forgotten:
    """``fresh=True`` with ``test=True``: plan as if nothing was recorded, keep the record."""

    def load(self):
        return None


def limits_from(batch=None, budget_wait=None, drain_wait=None, up_wait=None) -> Limits:
    """Limits from the runner's (or the state's) arguments; None keeps Limits' default."""
    given = {
        "batch": batch,
        "budget_wait": budget_wait,
        "drain_wait": drain_wait,
        "up_wait": up_wait,
    }
    try:
        return Limits(
            **{k: (v if k == "batch" else float(v)) for k, v in given.items() if v is not None}
        )
    except (TypeError, ValueError) as exc:
        raise SaltInvocationError(f"budget_wait, drain_wait, up_wait: seconds ({exc})") from None


def run_from_arguments(
    fleet: Fleet,
    tgt,
    tgt_type,
    test,
    sls=None,
    fun=None,
    arg=None,
    kwarg=None,
    batch=None,
    fresh=False,
    budget_wait=None,
    drain_wait=None,
    up_wait=None,
    expect_down=False,
    echo=None,
) -> dict:
    """The runner's and the state's arguments, checked, then ``run_maintenance``."""
    action = Action.given(sls, fun, arg, kwarg)
    limits = limits_from(batch, budget_wait, drain_wait, up_wait)
    return run_maintenance(
        fleet, tgt, tgt_type, action, limits, truthy(test), truthy(fresh), truthy(expect_down), echo
    )


def state_return(ret: dict, report: dict, test: bool) -> dict:
    """The state ``swarm.maintained``: the report as ``changes`` (what was maintained,
    or with ``test`` the plan), the stop as a failure."""
    if test:
        lines = [f"{', '.join(s['nodes'])}: {'; '.join(s['checks'])}" for s in report["steps"]]
        return {**ret, "result": None, "changes": {"plan": report}, "comment": "\n".join(lines)}
    ret["changes"] = {"maintained": report["maintained"]} if report["maintained"] else {}
    ret["result"] = report["result"]
    ret["comment"] = report["comment"]
    if report.get("stopped"):
        ret["changes"]["stopped"] = report["stopped"]
    return ret
