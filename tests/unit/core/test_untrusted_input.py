"""What a reactor hands over and what pillar targets trust: minion ids, start tags,
targets by grain, and the managers' mine entries with their readers."""

import pytest

from salt_swarm.core import mine_acl, pillar_check, role_targets
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.grain_labels import needed_grains, taken
from salt_swarm.core.minion_ids import check_minion_id, check_minion_list, check_start_tag

HOSTILE_IDS = [
    "x\nevil:\n  local.cmd.run:\n    - tgt: '*'",
    "a: b",
    'it\'s "quoted"',
    "{{ 7*7 }}",
    "\u2028line",
    "tab\there",
    "ünïcødé-🐝",
]


@pytest.mark.parametrize("minion", HOSTILE_IDS)
def test_ids_salt_accepts_are_data_here_too(minion):
    assert check_minion_id(minion) == minion
    check_start_tag(f"salt/minion/{minion}/start", minion)


@pytest.mark.parametrize("bad", ["", None, 5, "a/b", "a\\b", "nul\0", ".", "..", "x" * 300])
def test_ids_salt_refuses_are_refused(bad):
    with pytest.raises(SwarmError, match="minion"):
        check_minion_id(bad)


def test_a_start_tag_naming_another_minion_is_a_forgery():
    with pytest.raises(SwarmError, match="forged start event"):
        check_start_tag("salt/minion/manager1/start", "worker1")
    with pytest.raises(SwarmError, match="not a minion start tag"):
        check_start_tag("salt/presence/change", "worker1")


def test_a_lost_list_is_checked_id_by_id():
    assert check_minion_list(["w1", "a: b"]) == ["w1", "a: b"]
    assert check_minion_list("w1,w2") == ["w1", "w2"]
    for bad in ({"w1": 1}, [], ["ok", "a/b"], 7, ["x"] * 1001):
        with pytest.raises(SwarmError):
            check_minion_list(bad)


@pytest.mark.parametrize(
    ("tgt", "tgt_type"),
    [
        ("swarm_role:manager", "grain"),
        ("role:man.*", "grain_pcre"),
        ("10.0.0.0/8", "ipcidr"),
        ("manager* and G@role:manager", "compound"),
        ("not P@os:Debian", "compound"),
        ("(S@10.0.0.0/8)", "compound"),
        ("N@by_grain", "compound"),
        ("by_grain", "nodegroup"),
        ("nested", "nodegroup"),
    ],
)
def test_targets_by_grain_are_seen_through_compounds_and_nodegroups(tgt, tgt_type):
    groups = {"by_grain": "G@role:manager", "nested": "N@by_grain or web*"}
    assert role_targets.grain_based(tgt, tgt_type, groups)


@pytest.mark.parametrize(
    ("tgt", "tgt_type"),
    [
        ("manager*", "glob"),
        ("m1,m2", "list"),
        ("role:manager", "pillar"),
        ("manager* or I@role:manager or E@web.* or L@a,b", "compound"),
        ("by_id", "nodegroup"),
        ("unknown_group", "nodegroup"),
        ("GG@x", "glob"),
    ],
)
def test_targets_the_master_decides_are_not_by_grain(tgt, tgt_type):
    assert not role_targets.grain_based(tgt, tgt_type, {"by_id": "manager* or L@w1"})


def test_pillar_roles_by_grain_are_refused_unless_grains_are_trusted():
    conf = {
        "managers": {"tgt": "swarm_role:manager", "tgt_type": "grain"},
        "workers": "worker*",
        "labels": [{"tgt": "G@zone:a", "tgt_type": "compound", "labels": {"zone": "a"}}],
    }
    found = pillar_check.grain_problems(conf)
    assert len(found) == 2
    assert found[0].startswith("swarm:managers: the target 'swarm_role:manager' (grain)")
    assert "any minion could choose this role" in found[0]
    assert found[1].startswith("swarm:labels[0]:")
    with pytest.raises(SwarmError, match="matches on grains"):
        pillar_check.check(conf)
    assert pillar_check.grain_problems({**conf, "trust_grains": True}) == []


def test_grain_rules_give_only_the_keys_they_own_whatever_a_minion_sends():
    rules = [{"grain": "ec2_tags", "keys": "docker.*"}]
    grains = {"ec2_tags": {"docker.role": "web", "owner": "x"}, "os": "Debian"}
    sent = needed_grains(grains, rules)
    assert sent == {"ec2_tags": {"docker.role": "web"}}
    # A minion may send more than was asked: the master's rules still pick.
    forged = {"ec2_tags": {"docker.role": "web", "node.role": "manager"}, "tier": "db"}
    labels = taken(forged, rules).labels
    assert labels == {"docker.role": "web"}


MANAGERS, WORKERS = ["m1", "m2", "m3"], ["w1", "w2"]


def entries(worker_acl=("m* or w*", "compound"), manager_acl=("m*", "glob"), drop=()):
    found = {
        "swarm.manager_addr": {"kind": "addr", "function": "swarm.manager_addr"},
        "swarm.worker_token": {"kind": "worker", "function": "swarm.worker_token"},
        "swarm.manager_token": {"kind": "manager", "function": "swarm.manager_token"},
    }
    for kind, acl in (("worker", worker_acl), ("manager", manager_acl)):
        if acl:
            found[f"swarm.{kind}_token"].update(allow_tgt=acl[0], allow_tgt_type=acl[1])
    return {k: v for k, v in found.items() if v["kind"] not in drop}


def test_the_documented_entries_pass():
    reports = {m: entries() for m in MANAGERS}
    assert mine_acl.problems(reports, MANAGERS, WORKERS, {}, False) == []
    assert mine_acl.acls(reports, MANAGERS) == {
        ("m* or w*", "compound", "worker"),
        ("m*", "glob", "manager"),
    }


def test_missing_entries_an_open_acl_and_an_acl_by_grain_are_named():
    reports = {
        "m1": entries(drop=("manager",)),
        "m2": entries(manager_acl=None),
        "m3": entries(worker_acl=("G@role:swarm", "compound")),
    }
    found = mine_acl.problems(reports, MANAGERS, WORKERS, {}, False)
    assert "m1: mine_functions has no entry for swarm.manager_token" in found[0]
    assert "m2: mine_functions entry swarm.manager_token has no allow_tgt" in found[1]
    assert "m3: mine_functions entry swarm.worker_token: allow_tgt 'G@role:swarm'" in found[2]
    assert len(found) == 3


def test_the_removed_join_tokens_entry_is_named_with_what_replaces_it():
    reports = {"m1": {"swarm.join_tokens": {"kind": "obsolete", "function": "swarm.join_tokens"}}}
    found = mine_acl.problems(reports, ["m1"], [], {}, False)
    assert (
        "no longer has" in found[0] and "swarm.manager_token (allow_tgt: the managers)" in found[0]
    )


def test_readers_of_the_manager_token_must_all_be_managers():
    assert mine_acl.reader_problems("manager", "m*", {"m1", "m2"}, MANAGERS, WORKERS) == []
    found = mine_acl.reader_problems("manager", "*", {"m1", "w1", "x"}, MANAGERS, WORKERS)
    assert "also matches w1, x, which are not managers" in found[0]
    assert mine_acl.reader_problems("worker", "*", {"m1", "w1"}, MANAGERS, WORKERS) == []
    assert (
        "x, which are not members"
        in mine_acl.reader_problems("worker", "*", {"w1", "x"}, MANAGERS, WORKERS)[0]
    )
