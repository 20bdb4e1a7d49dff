"""Unit tests for salt_swarm.core.labels (validation, desired set, diff)."""

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.labels import MAX_KEY, MAX_VALUE, check_key, desired, diff, validate

# -- validate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (None, {}),
        ({}, {}),
        ({"zone": "a"}, {"zone": "a"}),
        ({"ssd": True, "gpu": False}, {"ssd": "true", "gpu": "false"}),
        ({"rack": 3, "weight": 1.5}, {"rack": "3", "weight": "1.5"}),
        ({"empty": None}, {"empty": ""}),
        ({"empty": ""}, {"empty": ""}),
        ({"com.example/team-a_b": "x y"}, {"com.example/team-a_b": "x y"}),
        ({"a": "v"}, {"a": "v"}),  # one-character key
        ({"k": "v" * MAX_VALUE}, {"k": "v" * MAX_VALUE}),
        ({"k" * MAX_KEY: "v"}, {"k" * MAX_KEY: "v"}),
    ],
)
def test_validate_accepts_and_converts(labels, expected):
    result = validate(labels)
    assert result == expected
    assert all(isinstance(v, str) for v in result.values())


def test_validate_returns_a_copy():
    labels = {"zone": "a"}
    result = validate(labels)
    result["zone"] = "b"
    assert labels == {"zone": "a"}


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["zone=a"], "expected a mapping of label keys to values, got list"),
        ("zone=a", "expected a mapping of label keys to values, got str"),
        (42, "expected a mapping of label keys to values, got int"),
        ({"": "a"}, "label key '' must be a non-empty string"),
        ({3: "a"}, "label key 3 must be a non-empty string"),
        ({None: "a"}, "label key None must be a non-empty string"),
        ({"-zone": "a"}, "bad label key '-zone'"),
        ({"zone-": "a"}, "bad label key 'zone-'"),
        ({"zo ne": "a"}, "bad label key 'zo ne'"),
        ({"zone=": "a"}, "bad label key 'zone='"),
        ({"zöne": "a"}, "bad label key 'zöne'"),
        ({"k" * (MAX_KEY + 1): "a"}, "bad label key"),
        ({"zone": {"sub": "a"}}, "value of 'zone' must be a string, got dict"),
        ({"zone": ["a"]}, "value of 'zone' must be a string, got list"),
        ({"zone": ("a",)}, "value of 'zone' must be a string, got tuple"),
        ({"zone": {"a"}}, "value of 'zone' must be a string, got set"),
        ({"zone": "a\nb"}, "value of 'zone' is too long or holds a newline"),
        ({"zone": "a\x00b"}, "value of 'zone' is too long or holds a newline"),
        ({"zone": "v" * (MAX_VALUE + 1)}, "value of 'zone' is too long"),
    ],
)
def test_validate_refuses(labels, message):
    with pytest.raises(SwarmError, match="^labels: ") as err:
        validate(labels)
    assert message in str(err.value)


def test_validate_names_the_given_field():
    with pytest.raises(SwarmError, match="^node_labels: "):
        validate({"-bad": "x"}, field="node_labels")


@pytest.mark.parametrize("key", ["a", "a1", "1a", "com.example.zone", "a/b", "a_b", "A-Z"])
def test_check_key_accepts(key):
    assert check_key(key) == key


@pytest.mark.parametrize("key", ["", ".a", "a.", "/a", "a/", "_a", "a b", "a:b", 1, None])
def test_check_key_refuses(key):
    with pytest.raises(SwarmError, match="labels"):
        check_key(key)


# -- desired -------------------------------------------------------------------------

CURRENT = {"zone": "a", "rack": "1", "old": "x"}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"wanted": {"rack": "2", "ssd": True}},
            {"zone": "a", "rack": "2", "old": "x", "ssd": "true"},
        ),
        ({"wanted": None}, CURRENT),
        ({"wanted": {}}, CURRENT),
        ({"wanted": {"rack": "2"}, "mode": "replace"}, {"rack": "2"}),
        ({"wanted": None, "mode": "replace"}, {}),
        ({"wanted": {"rack": "2"}, "remove": ["old"]}, {"zone": "a", "rack": "2"}),
        ({"wanted": None, "remove": ["old", "zone"]}, {"rack": "1"}),
        ({"wanted": None, "remove": ["missing"]}, CURRENT),
        ({"wanted": None, "remove": ()}, CURRENT),
        ({"wanted": {"rack": "2"}, "mode": "replace", "remove": ["old"]}, {"rack": "2"}),
    ],
)
def test_desired(kwargs, expected):
    assert desired(CURRENT, **kwargs) == expected


def test_desired_does_not_touch_current():
    current = dict(CURRENT)
    desired(current, {"rack": "9"}, remove=["old"])
    assert current == CURRENT


@pytest.mark.parametrize("current", [None, {}])
def test_desired_from_no_labels(current):
    assert desired(current, {"zone": "b"}) == {"zone": "b"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"wanted": {"old": "y"}, "remove": ["old"]}, r"^labels_remove: 'old' is also in labels"),
        (
            {"wanted": None, "mode": "update"},
            r"^labels_mode: 'update' is not one of merge, replace",
        ),
        ({"wanted": None, "mode": None}, r"^labels_mode: None"),
        ({"wanted": None, "remove": ["-bad"]}, r"^labels_remove: bad label key '-bad'"),
        ({"wanted": None, "remove": [""]}, r"^labels_remove: label key ''"),
        ({"wanted": {"zone": ["a"]}}, r"^labels: value of 'zone' must be a string"),
        ({"wanted": "zone=a"}, r"^labels: expected a mapping"),
    ],
)
def test_desired_refuses(kwargs, match):
    with pytest.raises(SwarmError, match=match):
        desired(CURRENT, **kwargs)


def test_desired_remove_given_as_a_single_string():
    current = {"old": "x", "o": "keep-me"}
    assert desired(current, None, remove="old") == {"o": "keep-me"}


# -- diff ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({}, {}, {}),
        (None, None, {}),
        ({"a": "1"}, {"a": "1"}, {}),
        ({}, {"a": "1"}, {"added": {"a": "1"}}),
        (None, {"a": "1"}, {"added": {"a": "1"}}),
        ({"a": "1"}, {"a": "2"}, {"changed": {"a": {"old": "1", "new": "2"}}}),
        ({"b": "1", "a": "2"}, {}, {"removed": ["a", "b"]}),
        ({"b": "1", "a": "2"}, None, {"removed": ["a", "b"]}),
        (
            {"keep": "k", "chg": "1", "gone": "g"},
            {"keep": "k", "chg": "2", "new": "n"},
            {
                "added": {"new": "n"},
                "changed": {"chg": {"old": "1", "new": "2"}},
                "removed": ["gone"],
            },
        ),
    ],
)
def test_diff(old, new, expected):
    assert diff(old, new) == expected


def test_diff_of_desired_round_trip():
    new = desired(CURRENT, {"rack": "2", "ssd": True}, remove=["old"])
    assert diff(CURRENT, new) == {
        "added": {"ssd": "true"},
        "changed": {"rack": {"old": "1", "new": "2"}},
        "removed": ["old"],
    }
    assert diff(new, new) == {}
