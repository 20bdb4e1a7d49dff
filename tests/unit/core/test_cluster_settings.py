"""Unit tests for duration parsing and setting conversion in cluster_settings (no Docker)."""

import pytest

from salt_swarm.core.cluster_settings import MIN_CERT_EXPIRY_S, NS, _convert, duration_ns
from salt_swarm.core.errors import SwarmError

# -- duration_ns ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90d", 90 * 86400),
        ("2160h", 2160 * 3600),
        ("12h", 12 * 3600),
        ("30m", 30 * 60),
        ("45s", 45),
        ("45", 45),
        (" 5s ", 5),
        ("0", 0),
        ("0s", 0),
        (3600, 3600),
        (0, 0),
    ],
)
def test_duration_ns(value, seconds):
    result = duration_ns(value, "cert_expiry")
    assert result == seconds * NS
    assert isinstance(result, int)


def test_ninety_days_and_2160_hours_agree():
    assert duration_ns("90d", "f") == duration_ns("2160h", "f") == 7_776_000 * NS


@pytest.mark.parametrize(
    "value",
    [
        "1w",
        "-5",
        -5,
        True,
        False,
        "abc",
        "",
        "  ",
        None,
        "1.5h",
        1.5,
        "5 m",
        "5ms",
        "h",
        "1H",
        "1d2h",
    ],
)
def test_duration_ns_refuses(value):
    with pytest.raises(SwarmError, match=r"^heartbeat_period: .* is not a duration"):
        duration_ns(value, "heartbeat_period")


def test_duration_error_shows_the_value():
    with pytest.raises(SwarmError, match=r"'1w' is not a duration such as 90d, 12h, 30m or 45s"):
        duration_ns("1w", "cert_expiry")


# -- _convert ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("autolock", True, True),
        ("autolock", False, False),
        ("task_history_limit", 5, 5),
        ("task_history_limit", 0, 0),
        ("snapshot_interval", 10000, 10000),
        ("cert_expiry", "90d", 90 * 86400 * NS),
        ("cert_expiry", "1h", 3600 * NS),  # exactly the minimum
        ("cert_expiry", "60m", 3600 * NS),
        ("cert_expiry", 3600, 3600 * NS),
        ("heartbeat_period", "5s", 5 * NS),
        ("heartbeat_period", 1, NS),  # no minimum for the heartbeat
    ],
)
def test_convert_accepts(name, value, expected):
    result = _convert(name, value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("autolock", "true", "expected true or false"),
        ("autolock", 1, "expected true or false"),
        ("autolock", 0, "expected true or false"),
        ("autolock", None, "expected true or false"),
        ("task_history_limit", -1, "expected a non-negative integer"),
        ("task_history_limit", True, "expected a non-negative integer"),
        ("task_history_limit", "5", "expected a non-negative integer"),
        ("task_history_limit", 5.0, "expected a non-negative integer"),
        ("snapshot_interval", -10, "expected a non-negative integer"),
        ("snapshot_interval", None, "expected a non-negative integer"),
        ("cert_expiry", "59m", "below Docker's minimum of 1 hour"),
        ("cert_expiry", 3599, "below Docker's minimum of 1 hour"),
        ("cert_expiry", "0", "below Docker's minimum of 1 hour"),
        ("cert_expiry", "1w", "is not a duration"),
        ("cert_expiry", True, "is not a duration"),
        ("heartbeat_period", "soon", "is not a duration"),
    ],
)
def test_convert_refuses(name, value, message):
    with pytest.raises(SwarmError, match=f"^{name}: ") as err:
        _convert(name, value)
    assert message in str(err.value)


def test_minimum_cert_expiry_is_one_hour():
    assert MIN_CERT_EXPIRY_S == 3600
    assert _convert("cert_expiry", MIN_CERT_EXPIRY_S) == MIN_CERT_EXPIRY_S * NS
    with pytest.raises(SwarmError, match="cert_expiry"):
        _convert("cert_expiry", MIN_CERT_EXPIRY_S - 1)
