import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.plan import bootstrap


def bare(*names):
    return {n: {"state": "inactive", "manager": False, "cluster_id": None} for n in names}


def manager_of(cluster):
    return {"state": "active", "manager": True, "cluster_id": cluster}


ALL = {"m1", "m2", "m3", "w1", "w2"}


def test_bare_nodes_first_manager_is_the_first_by_id():
    plan = bootstrap(["m3", "m1", "m2"], ["w2", "w1"], ALL, bare(*ALL))
    assert plan.first_manager == "m1"
    assert plan.managers == ["m2", "m3"]
    assert plan.workers == ["w1", "w2"]
    assert plan.warnings == [] and plan.existing_cluster is None


def test_an_active_manager_is_kept_as_first_so_no_second_swarm_is_made():
    infos = bare(*ALL) | {"m3": manager_of("c1")}
    plan = bootstrap(["m1", "m2", "m3"], ["w1"], ALL, infos)
    assert plan.first_manager == "m3" and plan.existing_cluster == "c1"
    assert plan.managers == ["m1", "m2"]


def test_managers_in_two_swarms_are_refused():
    infos = bare(*ALL) | {"m1": manager_of("c1"), "m2": manager_of("c2")}
    with pytest.raises(SwarmError, match="2 different swarms: m1 \\(c1\\), m2 \\(c2\\)"):
        bootstrap(["m1", "m2"], [], ALL, infos)


@pytest.mark.parametrize(
    "managers, workers, live, match",
    [
        ([], ["w1"], ALL, "no minion matches the managers target"),
        (["m1", "w1"], ["w1"], ALL, "in both roles: w1"),
        (["m1"], ["w1", "w9"], ALL, "not answering: w9"),
        (["m1", "m2"], [], {"m1"}, "not answering: m2"),
    ],
)
def test_bad_roles_are_refused_before_any_change(managers, workers, live, match):
    with pytest.raises(SwarmError, match=match):
        bootstrap(managers, workers, live, bare(*ALL, "w9"))


def test_every_problem_is_listed_at_once():
    with pytest.raises(SwarmError) as err:
        bootstrap(["m1", "w1"], ["w1", "w9"], ALL, bare(*ALL))
    assert "in both roles: w1" in str(err.value) and "not answering: w9" in str(err.value)


def test_a_node_whose_info_failed_is_named():
    infos = bare(*ALL) | {"w2": None}
    with pytest.raises(SwarmError, match="swarm.info failed on: w2"):
        bootstrap(["m1"], ["w2"], ALL, infos)


@pytest.mark.parametrize("count, warned", [(1, False), (2, True), (3, False), (8, True)])
def test_even_or_too_many_managers_are_warned_about(count, warned):
    names = [f"m{i}" for i in range(count)]
    plan = bootstrap(names, [], set(names), bare(*names))
    assert bool(plan.warnings) is warned


def test_unknown_minions_are_named():
    with pytest.raises(SwarmError, match="unknown minions: ghost"):
        bootstrap(["m1"], ["w1"], ALL, bare(*ALL), unknown=["ghost"])


def test_to_join_lists_only_members_not_in_place():
    mgr = {"state": "active", "manager": True, "cluster_id": "c1", "remote_managers": ["a:2377"]}
    joined_worker = {"state": "active", "manager": False, "remote_managers": ["a:2377"]}
    foreign_worker = {"state": "active", "manager": False, "remote_managers": ["z:2377"]}
    infos = bare(*ALL) | {"m1": mgr, "w1": joined_worker, "w2": foreign_worker}
    plan = bootstrap(["m1", "m2"], ["w1", "w2"], ALL, infos)
    assert plan.to_join == ["m2", "w2"]


def test_to_join_is_everyone_on_bare_nodes_and_no_one_when_converged():
    assert bootstrap(["m1"], ["w1"], ALL, bare(*ALL)).to_join == ["m1", "w1"]
    mgr = {"state": "active", "manager": True, "cluster_id": "c1", "remote_managers": ["a:2377"]}
    wrk = {"state": "active", "manager": False, "remote_managers": ["a:2377"]}
    assert bootstrap(["m1"], ["w1"], ALL, bare(*ALL) | {"m1": mgr, "w1": wrk}).to_join == []


def _view(nid, host, status="ready", availability="active", labels=None):
    from salt_swarm.core.cluster import NodeView

    return NodeView(nid, host, "worker", availability, status, "198.18.0.1", labels or {})


def test_unsettled_names_missing_doubled_and_differing_nodes():
    from salt_swarm.core.plan import unsettled

    wanted = {
        "ok": {"availability": "active", "labels": {"tier": "app"}},
        "drained": {"availability": "drain", "labels": {}},
        "labelled": {"availability": "active", "labels": {"zone": "a", "n": 1}},
        "twin": {"availability": "active", "labels": {}},
        "missing": {"availability": "active", "labels": {}},
    }
    nodes = [
        _view("1", "ok", labels={"tier": "app", "extra": "x"}),
        _view("2", "drained"),
        _view("3", "labelled", labels={"zone": "a", "n": "2"}),
        _view("4", "twin"),
        _view("5", "twin", status="down"),
    ]
    assert unsettled(wanted, nodes) == ["drained", "labelled", "missing", "twin"]
    nodes[2] = _view("3", "labelled", labels={"zone": "a", "n": "1"})
    assert "labelled" not in unsettled(wanted, nodes)


def test_with_stale_marks_members_the_swarm_does_not_list():
    from salt_swarm.core.plan import BootstrapPlan, with_stale

    plan = BootstrapPlan("m1", ["m2", "m3"], ["w1", "w2"], to_join=[])
    infos = {
        "m1": {"node_id": "a", "state": "active"},
        "m2": {"node_id": "gone", "state": "pending"},
        "m3": {"node_id": "c", "state": "active"},
        "w1": {"node_id": "old", "state": "active"},
        "w2": {"node_id": None, "state": "inactive"},
    }
    marked = with_stale(plan, infos, {"a", "c"})
    assert marked.stale == ["m2", "w1"] and marked.to_join == ["m2", "w1"]
    assert with_stale(plan, infos, {"a", "c", "gone", "old"}) is plan


def _node(nid, host, role, reachable=True, status="ready"):
    from salt_swarm.core.cluster import NodeView

    reach = ("reachable" if reachable else "unreachable") if role == "manager" else None
    return NodeView(nid, host, role, "active", status, "198.18.0.1", {}, reachability=reach)


def _members():
    from salt_swarm.core.plan import BootstrapPlan

    infos = {m: {"node_id": m, "state": "active"} for m in ("m1", "m2", "m3", "w1")}
    return BootstrapPlan, infos


def test_role_changes_promote_and_demote_members_in_place():
    from salt_swarm.core.plan import with_role_changes

    plan_cls, infos = _members()
    nodes = [
        _node("m1", "m1", "manager"),
        _node("m2", "m2", "manager"),
        _node("m3", "m3", "worker"),
        _node("w1", "w1", "manager"),
    ]
    planned = with_role_changes(plan_cls("m1", ["m2", "m3"], ["w1"]), infos, nodes)
    assert planned.promote == ["m3"] and planned.demote == ["w1"]


def test_a_demotion_that_breaks_quorum_is_refused_with_the_numbers():
    from salt_swarm.core.plan import with_role_changes

    plan_cls, infos = _members()
    nodes = [
        _node("m1", "m1", "manager"),
        _node("m2", "m2", "manager"),
        _node("m3", "m3", "manager", reachable=False, status="down"),
        _node("w1", "w1", "worker"),
    ]
    with pytest.raises(SwarmError) as err:
        with_role_changes(plan_cls("m1", ["m3"], ["m2", "w1"]), infos, nodes)
    text = str(err.value)
    assert "before any change" in text and "m2" in text
    assert "1 of 2 managers reachable, below the quorum of 2" in text


def test_a_member_to_join_is_not_a_role_change():
    from salt_swarm.core.plan import with_role_changes

    plan_cls, infos = _members()
    nodes = [_node("m1", "m1", "manager"), _node("w1", "w1", "manager")]
    plan = plan_cls("m1", [], ["w1"], to_join=["w1"])
    assert with_role_changes(plan, infos, nodes) is plan


def test_a_manager_of_the_swarm_that_pillar_calls_worker_is_in_place_not_to_join():
    mgr = {"state": "active", "manager": True, "cluster_id": "c1", "remote_managers": ["a:2377"]}
    wrk = {"state": "active", "manager": False, "remote_managers": ["a:2377"]}
    infos = bare(*ALL) | {"m1": mgr, "w1": mgr, "m2": wrk}
    plan = bootstrap(["m1", "m2"], ["w1"], ALL, infos)
    assert plan.first_manager == "m1" and plan.to_join == []


def test_workers_that_manage_the_swarm_with_no_pillar_manager_among_its_managers_are_refused():
    mgr = {"state": "active", "manager": True, "cluster_id": "c1", "remote_managers": ["a:2377"]}
    with pytest.raises(SwarmError, match="keep at least one current manager"):
        bootstrap(["m1"], ["w1"], ALL, bare(*ALL) | {"w1": mgr})


def test_member_problems_from_preflight_are_named_by_minion():
    problems = {"w1": ["swarm:advertise_addr: this node has no address in 10.9.0.0/16"]}
    with pytest.raises(SwarmError, match="w1: swarm:advertise_addr: this node has no address"):
        bootstrap(["m1"], ["w1"], ALL, bare(*ALL) | {"w1": None}, node_problems=problems)


def test_unsettled_includes_a_role_difference():
    from salt_swarm.core.plan import unsettled

    nodes = [_node("1", "w1", "manager")]
    assert unsettled({"w1": {"role": "worker", "labels": {}}}, nodes) == ["w1"]
    assert unsettled({"w1": {"role": "manager", "labels": {}}}, nodes) == []


def test_known_nodes_names_the_ids_a_joining_hostname_has_now():
    from salt_swarm.core.cluster import NodeView
    from salt_swarm.core.plan import known_nodes

    def n(id_, host):
        return NodeView(
            id=id_, hostname=host, role="worker", availability="active", status="down", addr=""
        )

    nodes = [n("b", "w1"), n("a", "w1"), n("c", "w2"), n("d", "m1")]
    assert known_nodes(["w1", "w3"], nodes) == {"w1": ["a", "b"]}
