"""Every bad `swarm:` pillar is refused with the key named, before anything changes."""

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.pillar_check import check, problems

GOOD = {
    "managers": {"tgt": "manager*"},
    "workers": {"tgt": "worker*"},
    "advertise_addr": "198.18.0.0/24",
    "listen_addr": "",
    "init": {"default_addr_pool": ["198.19.0.0/17"], "subnet_size": 24},
    "drain_managers": True,
    "labels": [{"tgt": "worker*", "labels": {"tier": "app"}}],
    "mine_timeout": 60,
    "check_wait": 30,
    "lost_grace": 300,
}


def with_(**changes):
    conf = {**GOOD}
    for key, value in changes.items():
        if value is KeyError:
            conf.pop(key)
        else:
            conf[key] = value
    return conf


def test_the_example_shape_is_usable():
    assert problems(GOOD) == []
    assert check(GOOD) is GOOD


@pytest.mark.parametrize(
    "conf, field, words",
    [
        (with_(managers=KeyError), "swarm:managers", "no target given"),
        (with_(managers={}), "swarm:managers", "no target given"),
        (with_(managers=7), "swarm:managers", "expected a target"),
        (with_(managers={"tgt": "m*", "tgt_type": "glbo"}), "swarm:managers:tgt_type", "glob"),
        (with_(managers={"tgt": ""}), "swarm:managers:tgt", "expected a target string"),
        (with_(managers={"target": "m*"}), "swarm:managers:target", "did you mean"),
        (with_(workers=[1, 2]), "swarm:workers", "minion ids"),
        (with_(manager={"tgt": "m*"}), "swarm:manager", "did you mean swarm:managers"),
        (with_(advertise_addr="198.18.0.300"), "swarm:advertise_addr", "neither an IP"),
        (with_(advertise_addr="10.0.0.0/33"), "swarm:advertise_addr", "bad CIDR"),
        (with_(advertise_addr=["eth0"]), "swarm:advertise_addr", "expected an address"),
        (with_(listen_addr="0.0.0.0:99999"), "listen_addr", "bad port"),
        (with_(init="autolock"), "swarm:init", "expected a mapping"),
        (with_(init={"default_addr_pool": "10.20.0.0/16"}), "default_addr_pool", "a list"),
        (with_(init={"default_addr_pool": ["10.20.0.0/33"]}), "default_addr_pool[0]", "bad"),
        (with_(init={"default_addr_pool": ["10.20.0.1/16"]}), "default_addr_pool[0]", "host bits"),
        (with_(init={"default_addr_pool": ["fd00::/64"]}), "default_addr_pool[0]", "IPv4"),
        (with_(init={"default_addr_pool": ["10.0.0.0/8"], "subnet_size": 40}), "subnet_size", "8"),
        (
            with_(init={"default_addr_pool": ["10.0.0.0/24"], "subnet_size": 16}),
            "subnet_size",
            "/16 subnets do not fit in pool 10.0.0.0/24",
        ),
        (
            with_(init={"default_addr_pool": ["10.0.0.0/25"]}),
            "default_addr_pool",
            "smaller than one /24 subnet (Docker's default subnet_size)",
        ),
        (
            with_(init={"default_addr_pool": ["198.19.0.0"]}),
            "default_addr_pool[0]",
            "'198.19.0.0' has no prefix length",
        ),
        (with_(init={"subnet_size": 24}), "subnet_size", "together with default_addr_pool"),
        (with_(init={"data_path_port": 80}), "data_path_port", "1024 to 49151"),
        (with_(init={"data_path_port": "vxlan"}), "data_path_port", "integer"),
        (with_(init={"autolock": "yes please"}), "swarm:init:autolock", "true or false"),
        (with_(init={"auto_lock": True}), "swarm:init:auto_lock", "did you mean"),
        (with_(drain_managers="maybe"), "swarm:drain_managers", "true or false"),
        (with_(labels={"tier": "app"}), "swarm:labels", "list of"),
        (with_(labels=[{"tgt": "w*"}]), "swarm:labels[0]:labels", "mapping"),
        (with_(labels=[{"labels": {"a": "b"}}]), "swarm:labels[0]:tgt", "needs a target"),
        (
            with_(labels=[{"tgt": "w*", "labels": {"bad key!": 1}}]),
            "labels[0]:labels",
            "bad label key",
        ),
        (with_(labels=[{"tgt": "w*", "labels": {"a": {"b": 1}}}]), "labels[0]:labels", "string"),
        (with_(labels=["worker1"]), "swarm:labels[0]", "expected"),
        (with_(mine_timeout="soon"), "swarm:mine_timeout", "seconds"),
        (with_(check_wait=-1), "swarm:check_wait", "seconds"),
        (with_(lost_grace=True), "swarm:lost_grace", "seconds"),
        (with_(unlock_key="hunter2"), "swarm:unlock_key", "SWMKEY-1"),
        (with_(docker_url="/var/run/docker.sock"), "swarm:docker_url", "not a Docker URL"),
        (with_(tls_verify="no"), "swarm:tls_verify", "true or false"),
        (with_(mine={"target_type": "globb"}), "swarm:mine:target_type", "not one of"),
        (with_(mine="manager*"), "swarm:mine", "expected a mapping"),
        (with_(engine={"install": "yes"}), "swarm:engine:install", "true or false"),
        (with_(first_manager=["manager1"]), "swarm:first_manager", "expected a string"),
        (with_(token_store="etcd://x/y"), "swarm:token_store", "not an sdb URI"),
        (with_(token_store="sdb://onlyprofile"), "swarm:token_store", "needs a profile and a path"),
        (with_(store_timeout="long"), "swarm:store_timeout", "seconds"),
        (with_(election_ttl=-5), "swarm:election_ttl", "seconds"),
        (with_(grain_labels={"grain": "ec2_tags"}), "swarm:grain_labels", "expected a list"),
        (with_(grain_labels=[{"keys": 3}]), "swarm:grain_labels[0]:keys", "expected a string"),
        (with_(grain_labels=[{}]), "swarm:grain_labels[0]", "needs keys"),
    ],
)
def test_a_bad_key_is_named_with_what_is_wanted(conf, field, words):
    found = problems(conf)
    assert any(field in p and words in p for p in found), found
    with pytest.raises(SwarmError, match="pillar swarm: is not usable"):
        check(conf)


def test_every_problem_is_listed_at_once():
    found = problems(with_(drain_managers="x", mine_timeout="y", advertise_addr="a b"))
    assert len(found) == 3


@pytest.mark.parametrize(
    "spec",
    ["manager*", ["manager1", "manager2"], {"tgt": "G@role:mgr", "tgt_type": "compound"}],
)
def test_targets_may_be_a_glob_a_list_or_a_mapping(spec):
    assert problems(with_(managers=spec)) == []


@pytest.mark.parametrize(
    "addr", ["eth0", "198.18.0.10", "198.18.0.10:2377", "[fd00::1]:2377", "fd00::/64", ""]
)
def test_address_specs_that_a_node_can_resolve_pass(addr):
    assert problems(with_(advertise_addr=addr)) == []


def test_no_pillar_at_all_says_where_to_start():
    assert "pillar.example" in problems(None)[0]
