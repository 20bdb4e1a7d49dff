"""The steps of ``swarm.bootstrap`` for a plan: which states run, in which order, with
which arguments. ``states/swarm/bootstrap.sls`` only writes them out.

1. the first manager (initialized when in no swarm; its mine entries to the master),
   whenever anyone joins; 2. the other managers one at a time, each drained as it
   joins and sending its own mine entries (a stale one leaves its old swarm first);
3. all workers at once (stale ones leave first), the node settings applied beside
   them by a manager; 4. the node settings on their own when no worker joins but a
   node differs; 5. the final check. Members in place get no step.

Each step is ``{id, state, args}``: ``args`` is the SLS argument list (one-key
mappings), ``require`` included. State IDs are constants and counters: minion ids go
into values only.
"""

from __future__ import annotations

INIT_KEYS = ("default_addr_pool", "subnet_size", "data_path_port", "autolock")


def refused(reason: str) -> list[dict]:
    """The one step of a refused plan: it fails the orchestrate with every problem."""
    args = [{"name": "swarm plan"}, {"reason": reason}, {"failhard": True}]
    return [{"id": "swarm plan refused", "state": "swarm.refused", "args": args}]


def steps(plan: dict, settings: dict) -> list[dict]:
    """The steps for ``plan`` (what ``swarm.plan`` returns) under the ``swarm:``
    ``settings`` (defaults merged)."""
    out: list[dict] = []
    first = plan["first_manager"]
    all_managers = [first, *plan["managers"]]
    names = settings.get("mine") or {}
    previous: list[tuple[str, str]] = []  # (kind, id) of the last step run in order

    def add(step_id: str, state: str, args: list, ordered: bool = True) -> None:
        if ordered and previous:
            kind, prior = previous[-1]
            args = [*args, {"require": [{kind: prior}]}]
        out.append({"id": step_id, "state": state, "args": args})
        if ordered:
            previous.append((state.split(".")[0], step_id))

    def availability(minion: str) -> list:
        wanted = plan["nodes"][plan["hostnames"][minion]]["availability"]
        return [] if wanted == "active" else [{"availability": wanted}]

    def join_args(role: str) -> list:
        args = [{"role": role}, {"managers": all_managers}]
        if names.get("addr_function"):
            args.append({"addr_function": names["addr_function"]})
        if names.get(f"{role}_token_function"):
            args.append({"token_function": names[f"{role}_token_function"]})
        return args

    def leave(step_id: str, minions: list) -> None:
        args = [{"name": "swarm.leave"}, {"tgt": minions}, {"tgt_type": "list"}]
        add(step_id, "salt.function", [*args, {"kwarg": {"force": True}}, {"failhard": True}])

    for index, warning in enumerate(plan["warnings"], 1):
        add(f"swarm warning {index}", "test.show_notification", [{"text": warning}], False)
    if plan["to_join"]:
        init = settings.get("init") or {}
        options = {k: init[k] for k in INIT_KEYS if init.get(k) is not None}
        args = [{"minion": first}, *([{"options": options}] if options else [])]
        add("swarm first manager", "swarm.first_manager", [*args, *availability(first)])
        out[-1]["args"].append({"failhard": True})
    joining = [m for m in plan["managers"] if m in plan["to_join"]]
    for index, manager in enumerate(joining, 1):
        if manager in plan["stale"]:  # removed while down (swarm.recover): leaves first
            leave(f"swarm manager {index} leaves its stale swarm", [manager])
        args = [{"name": manager}, {"members": [manager]}, *join_args("manager")]
        args += [*availability(manager), {"mine_update": True}, {"failhard": True}]
        add(f"swarm manager {index}", "swarm.members_joined", args)
    stale_workers = [w for w in plan["workers"] if w in plan["stale"]]
    if stale_workers:
        leave("swarm stale workers leave", stale_workers)
    workers = [w for w in plan["workers"] if w in plan["to_join"]]
    if workers:
        settle = {
            "nodes": plan["nodes"],
            "hostnames": plan["hostnames"],
            "known": plan["known_nodes"],
        }
        args = [{"members": workers}, *join_args("worker"), {"settle": settle}]
        add("swarm workers", "swarm.members_joined", [*args, {"failhard": True}])
    elif plan["to_join"] or plan["unsettled"]:
        args = [{"nodes": plan["nodes"]}, {"managers": all_managers}]
        add("swarm node settings", "swarm.settled", args)
    expect = {
        "first_manager": first,
        "managers": plan["managers"],
        "workers": plan["workers"],
        "hostnames": plan["hostnames"],
        "nodes": plan["nodes"],
    }
    args = [{"expect": expect}, {"wait": settings["check_wait"]}]
    if plan.get("seen"):  # nothing to change: the plan's own reading is the check
        args.append({"seen": plan["seen"]})
    add("swarm conforms to pillar", "swarm.conforms", args)
    if settings.get("apps"):  # workloads from pillar, on the first manager
        apps = [{"tgt": first}, {"tgt_type": "list"}, {"sls": "swarm.apps"}]
        add("swarm apps", "salt.state", apps)
    return out
