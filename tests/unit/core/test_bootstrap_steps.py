"""The orchestrate's steps come from the plan in Python (core/bootstrap_steps.py);
tests/unit/formula/test_formula_render.py renders them through the SLS with Salt's renderers."""

from salt_swarm.core.bootstrap_steps import steps

SETTINGS = {"check_wait": 30, "init": {"subnet_size": 24, "autolock": None}, "mine": {}}


def plan(**changes):
    base = {
        "first_manager": "m1",
        "managers": ["m2", "m3"],
        "workers": ["w1"],
        "warnings": [],
        "to_join": [],
        "stale": [],
        "unsettled": [],
        "nodes": {h: {"availability": "drain"} for h in ("h1", "h2", "h3")}
        | {"hw1": {"availability": "active"}},
        "hostnames": {"m1": "h1", "m2": "h2", "m3": "h3", "w1": "hw1"},
        "known_nodes": {},
    }
    return base | changes


def ids(found):
    return [(s["id"], s["state"]) for s in found]


def test_a_converged_swarm_is_the_check_alone_on_the_plans_reading():
    seen = {"differences": [], "manager": "m1"}
    found = steps(plan(seen=seen), SETTINGS)
    assert ids(found) == [("swarm conforms to pillar", "swarm.conforms")]
    assert {"seen": seen} in found[0]["args"] and {"wait": 30} in found[0]["args"]


def test_joins_run_in_order_each_requiring_the_one_before():
    found = steps(plan(to_join=["m1", "m3", "w1"], stale=["m3"]), SETTINGS)
    assert ids(found) == [
        ("swarm first manager", "swarm.first_manager"),
        ("swarm manager 1 leaves its stale swarm", "salt.function"),
        ("swarm manager 1", "swarm.members_joined"),
        ("swarm workers", "swarm.members_joined"),
        ("swarm conforms to pillar", "swarm.conforms"),
    ]
    requires = [next((a["require"] for a in s["args"] if "require" in a), None) for s in found]
    assert requires == [
        None,
        [{"swarm": "swarm first manager"}],
        [{"salt": "swarm manager 1 leaves its stale swarm"}],
        [{"swarm": "swarm manager 1"}],
        [{"swarm": "swarm workers"}],
    ]
    first = found[0]["args"]
    assert first == [
        {"minion": "m1"},
        {"options": {"subnet_size": 24}},
        {"availability": "drain"},
        {"failhard": True},
    ]


def test_settings_alone_when_no_worker_joins_but_a_node_differs():
    found = steps(plan(unsettled=["hw1"], warnings=["2 managers: ..."]), SETTINGS)
    assert ids(found) == [
        ("swarm warning 1", "test.show_notification"),
        ("swarm node settings", "swarm.settled"),
        ("swarm conforms to pillar", "swarm.conforms"),
    ]
    assert {"managers": ["m1", "m2", "m3"]} in found[1]["args"]


def test_workloads_from_pillar_run_on_the_first_manager_after_the_check():
    found = steps(plan(), {**SETTINGS, "apps": {"services": {"web": {"image": "a"}}}})
    *_, check, apps = found
    assert check["state"] == "swarm.conforms"
    assert apps["state"] == "salt.state"
    assert apps["args"][:3] == [{"tgt": "m1"}, {"tgt_type": "list"}, {"sls": "swarm.apps"}]
    assert apps["args"][3] == {"require": [{"swarm": check["id"]}]}
    assert [s["state"] for s in steps(plan(), SETTINGS)][-1] == "swarm.conforms"
