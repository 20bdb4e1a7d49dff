"""Labels from grains: which grains become labels, which labels the rules own."""

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.grain_labels import (
    check_rules,
    labels_from,
    owned_patterns,
    stale_keys,
    taken,
)

GRAINS = {
    "id": "worker1",
    "os": "Debian",
    "docker.zone": "a",
    "ec2_tags": {"docker.role": "web", "docker.env": "prod", "Name": "w1", "docker.list": [1]},
    "nested": {"deeper": {"rack": 7, "spare": True}},
}


def test_keys_of_a_mapping_grain_by_glob():
    rules = [{"grain": "ec2_tags", "keys": "docker.*"}]
    assert labels_from(GRAINS, rules) == {"docker.env": "prod", "docker.role": "web"}


def test_top_level_grains_by_glob():
    assert labels_from(GRAINS, [{"keys": "docker.*"}]) == {"docker.zone": "a"}


def test_nested_grain_path_prefix_and_scalar_text():
    rules = [{"grain": "nested:deeper", "prefix": "dc."}]
    assert labels_from(GRAINS, rules) == {"dc.rack": "7", "dc.spare": "true"}


def test_lists_are_skipped_and_named():
    found = taken(GRAINS, [{"grain": "ec2_tags", "keys": "docker.*"}])
    assert "docker.list" not in found.labels
    assert found.skipped == ["ec2_tags:docker.list: a list, not a scalar"]


def test_a_rule_whose_grain_is_missing_owns_nothing_and_says_so():
    rules = [{"grain": "ec2_tags", "keys": "docker.*"}, {"grain": "gce_labels", "prefix": "gce."}]
    found = taken(GRAINS, rules)
    assert found.owned == ["docker.*"]  # gce.* labels stay as they are
    assert found.missing == [
        "swarm:grain_labels[1]: grain 'gce_labels' is missing: labels 'gce.*' are kept as they are"
    ]
    assert taken({"ec2_tags": "oops"}, rules[:1]).owned == []
    assert "a str, not a mapping" in taken({"ec2_tags": "oops"}, rules[:1]).warnings()[0]


def test_a_present_grain_with_no_matching_key_still_owns_its_glob():
    found = taken({"ec2_tags": {"Name": "w1"}}, [{"grain": "ec2_tags", "keys": "docker.*"}])
    assert found.labels == {} and found.owned == ["docker.*"] and found.missing == []


def test_top_level_rules_are_never_missing():
    assert taken({}, [{"keys": "docker.*"}]).owned == ["docker.*"]


def test_a_missing_grain_gives_nothing():
    assert labels_from(GRAINS, [{"grain": "gce_labels"}]) == {}
    assert labels_from({}, [{"grain": "a:b:c"}]) == {}


def test_owned_patterns_are_prefix_and_glob():
    rules = [{"grain": "ec2_tags", "keys": "docker.*"}, {"grain": "nested:deeper", "prefix": "dc."}]
    assert owned_patterns(rules) == ["dc.*", "docker.*"]


def test_stale_keys_only_among_owned():
    current = {"docker.role": "web", "docker.old": "x", "zone": "a"}
    assert stale_keys(current, {"docker.role": "db"}, ["docker.*"]) == ["docker.old"]
    assert stale_keys(current, {}, []) == []
    assert stale_keys(current, {}, None) == []


@pytest.mark.parametrize(
    "rules, message",
    [
        ("docker.*", "expected a list"),
        ([["ec2_tags"]], "expected a mapping"),
        ([{}], "needs keys"),
        ([{"grian": "ec2_tags"}], "unknown key(s) grian"),
        ([{"grain": 5}], "swarm:grain_labels[0]:grain: expected a string"),
        ([{"keys": "a*", "prefix": "-bad"}], "prefix"),
    ],
)
def test_bad_rules_are_named(rules, message):
    with pytest.raises(SwarmError, match=None) as err:
        check_rules(rules)
    assert message in str(err.value)
    assert "swarm:grain_labels" in str(err.value)


def test_no_rules_is_no_labels():
    assert check_rules(None) == []
    assert labels_from(GRAINS, []) == {}
