"""Unit tests for salt_swarm.core.addresses (pure logic, no network)."""

import pytest

from salt_swarm.core.addresses import (
    SWARM_PORT,
    check_pool,
    choose_address,
    local_addresses,
    split_port,
    with_port,
)
from salt_swarm.core.errors import SwarmError


def _iface(inet=(), inet6=(), up=True):
    """One interface in the shape of Salt's network.interfaces."""
    return {
        "inet": [{"address": a, "netmask": "255.255.255.0", "broadcast": ""} for a in inet],
        "inet6": [{"address": a, "prefixlen": "64", "scope": "global"} for a in inet6],
        "up": up,
        "hwaddr": "02:42:c6:12:00:0a",
    }


# eth0: IPv4 plus link-local IPv6; eth1: IPv4 plus ULA IPv6; v6only: ULA only;
# lo: loopback only; empty: no address at all; ll: only an IPv6 link-local address.
INTERFACES = {
    "eth0": _iface(inet=["198.18.0.10"], inet6=["fe80::1"]),
    "eth1": _iface(inet=["198.19.5.20"], inet6=["fd00:1::20"]),
    "v6only": _iface(inet6=["fd00:2::30", "fe80::30"]),
    "lo": _iface(inet=["127.0.0.1"], inet6=["::1"]),
    "empty": _iface(),
    "ll": _iface(inet6=["fe80::99"]),
}


# -- choose_address: success ------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # literal addresses are kept as given (with their port, if any)
        ("198.18.0.10", "198.18.0.10"),
        ("198.18.0.10:2377", "198.18.0.10:2377"),
        ("  198.18.0.10  ", "198.18.0.10"),
        ("fd00:1::20", "fd00:1::20"),
        ("[fd00:1::20]:2377", "[fd00:1::20]:2377"),
        # interface names: IPv4 preferred, link-local/loopback skipped
        ("eth0", "198.18.0.10"),
        ("eth1", "198.19.5.20"),
        ("eth0:4789", "198.18.0.10:4789"),
        ("v6only", "fd00:2::30"),
        ("v6only:2377", "[fd00:2::30]:2377"),
        # CIDRs: the node's single address inside
        ("198.18.0.0/24", "198.18.0.10"),
        ("198.19.0.0/16", "198.19.5.20"),
        ("198.18.0.77/24", "198.18.0.10"),  # host bits allowed (strict=False)
        ("fd00:2::/64", "fd00:2::30"),
    ],
)
def test_choose_address_resolves(spec, expected):
    assert choose_address(spec, INTERFACES) == expected


def test_literal_ip_need_not_be_local():
    # a literal IP is taken as is; the node may be behind NAT
    assert choose_address("198.18.9.9", {}) == "198.18.9.9"


# -- choose_address: errors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "expected an address, interface name or CIDR"),
        ("   ", "expected an address, interface name or CIDR"),
        (None, "expected an address, interface name or CIDR"),
        (42, "expected an address, interface name or CIDR"),
        (["eth0"], "expected an address, interface name or CIDR"),
        ("300.1.1.1", "neither an IP address, an interface name nor a CIDR"),
        ("198.18.0", "neither an IP address, an interface name nor a CIDR"),
        ("eth0!!", "neither an IP address, an interface name nor a CIDR"),
        ("a-very-long-interface-name", "neither an IP address, an interface name nor a CIDR"),
        ("eth9", "no interface named 'eth9'"),
        ("lo", "interface 'lo' has no usable address"),
        ("empty", "interface 'empty' has no usable address"),
        ("ll", "interface 'll' has no usable address"),
        ("198.18.0.0/33", "bad CIDR"),
        ("300.0.0.0/8", "bad CIDR"),
        ("eth0/24", "bad CIDR"),
        ("198.20.0.0/16", "no address in 198.20.0.0/16"),
        ("127.0.0.0/8", "no address in 127.0.0.0/8"),  # loopback is ignored
        ("fe80::/10", "no address in fe80::/10"),  # link-local is ignored
        ("198.18.0.0/15", "several addresses"),
        ("fd00::/8", "several addresses"),
    ],
)
def test_choose_address_refuses(spec, message):
    with pytest.raises(SwarmError, match="advertise_addr") as err:
        choose_address(spec, INTERFACES)
    assert message in str(err.value)


@pytest.mark.parametrize("field", ["listen_addr", "data_path_addr"])
def test_error_names_the_given_field(field):
    with pytest.raises(SwarmError, match=f"^{field}: "):
        choose_address("eth9", INTERFACES, field=field)


def test_missing_interface_lists_the_ones_present():
    with pytest.raises(SwarmError) as err:
        choose_address("eth9", INTERFACES)
    assert "it has: empty, eth0, eth1, ll, lo, v6only" in str(err.value)


@pytest.mark.parametrize("interfaces", [{}, None])
def test_missing_interface_when_node_has_none(interfaces):
    with pytest.raises(SwarmError, match=r"no interface named 'eth0'.*it has: none"):
        choose_address("eth0", interfaces)


def test_several_matches_are_listed_sorted():
    with pytest.raises(SwarmError) as err:
        choose_address("198.18.0.0/15", INTERFACES)
    assert "(198.18.0.10, 198.19.5.20)" in str(err.value)


def test_same_address_on_two_interfaces_is_one_match():
    interfaces = {"eth0": _iface(inet=["198.18.0.10"]), "br0": _iface(inet=["198.18.0.10"])}
    assert choose_address("198.18.0.0/24", interfaces) == "198.18.0.10"


@pytest.mark.parametrize("spec", ["198.18.0.10:0", "198.18.0.10:65536", "198.18.0.10:http"])
def test_bad_port_is_refused(spec):
    with pytest.raises(SwarmError, match="bad port"):
        choose_address(spec, INTERFACES)


def test_bad_port_error_names_the_field():
    with pytest.raises(SwarmError, match="advertise_addr"):
        choose_address("198.18.0.10:99999", INTERFACES)


# -- local_addresses -----------------------------------------------------------------


def test_local_addresses_skips_loopback_and_link_local():
    assert local_addresses(INTERFACES) == {
        "eth0": ["198.18.0.10"],
        "eth1": ["198.19.5.20", "fd00:1::20"],
        "v6only": ["fd00:2::30"],
    }


@pytest.mark.parametrize("interfaces", [None, {}])
def test_local_addresses_of_nothing(interfaces):
    assert local_addresses(interfaces) == {}


def test_local_addresses_puts_ipv4_first():
    interfaces = {"eth0": {"inet6": [{"address": "fd00::5"}], "inet": [{"address": "198.18.1.5"}]}}
    assert local_addresses(interfaces) == {"eth0": ["198.18.1.5", "fd00::5"]}
    assert choose_address("eth0", interfaces) == "198.18.1.5"


# -- split_port / with_port ----------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("198.18.0.10", ("198.18.0.10", None)),
        ("198.18.0.10:2377", ("198.18.0.10", 2377)),
        ("198.18.0.10:1", ("198.18.0.10", 1)),
        ("198.18.0.10:65535", ("198.18.0.10", 65535)),
        ("eth0:4789", ("eth0", 4789)),
        ("fd00::1", ("fd00::1", None)),
        ("[fd00::1]:2377", ("fd00::1", 2377)),
        ("[fd00::1]", ("fd00::1", None)),
    ],
)
def test_split_port(spec, expected):
    assert split_port(spec) == expected


@pytest.mark.parametrize(
    "spec",
    ["198.18.0.10:", "198.18.0.10:0", "198.18.0.10:65536", "198.18.0.10:-1", "[fd00::1]:x"],
)
def test_split_port_refuses_bad_ports(spec):
    with pytest.raises(SwarmError, match="bad port.*1-65535"):
        split_port(spec)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("198.18.0.10",), "198.18.0.10:2377"),
        (("198.18.0.10", 4000), "198.18.0.10:4000"),
        (("198.18.0.10:2378",), "198.18.0.10:2378"),
        (("198.18.0.10:2378", 4000), "198.18.0.10:2378"),  # a given port is kept
        (("fd00::1",), "[fd00::1]:2377"),
        (("fd00::1", 4000), "[fd00::1]:4000"),
        (("[fd00::1]:2378",), "[fd00::1]:2378"),
        (("[fd00::1]",), "[fd00::1]:2377"),
    ],
)
def test_with_port(args, expected):
    assert with_port(*args) == expected


def test_default_swarm_port():
    assert SWARM_PORT == 2377


# -- check_pool ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        ("198.18.0.0/16", "198.18.0.0/16"),
        ("198.19.128.0/20", "198.19.128.0/20"),
        ("198.18.0.0/15", "198.18.0.0/15"),
    ],
)
def test_check_pool_accepts(pool, expected):
    assert check_pool(pool) == expected


@pytest.mark.parametrize(
    ("pool", "message"),
    [
        ("198.18.0.1/16", "bad address pool"),  # host bits set
        ("198.18.0.0/33", "bad address pool"),
        ("300.0.0.0/8", "bad address pool"),
        ("not-a-pool", "bad address pool"),
        ("", "bad address pool"),
        (None, "expected a CIDR string"),
        ("fd00::/64", "IPv4 only"),
        ("fd00:1::/48", "IPv4 only"),
    ],
)
def test_check_pool_refuses(pool, message):
    with pytest.raises(SwarmError, match="default_addr_pool") as err:
        check_pool(pool)
    assert message in str(err.value)


def test_check_pool_names_the_given_field():
    with pytest.raises(SwarmError, match="^my_pool: "):
        check_pool("fd00::/64", field="my_pool")
