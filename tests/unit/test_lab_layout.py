import ipaddress

import pytest

from salt_swarm.lab.cli import host_names, main, parser
from salt_swarm.lab.layout import (
    DOCKERD_LOCAL_POOL,
    MAX_HOSTS,
    SWARM_ADDR_POOL,
    check_name,
    host_addr,
)

LAB_RANGE = ipaddress.ip_network("198.18.0.0/15")


@pytest.mark.parametrize("name", ["Manager1", "1host", "a_b", "master", "x" * 32, ""])
def test_bad_host_names_are_refused(name):
    with pytest.raises(ValueError, match="bad lab host name"):
        check_name(name)


def test_good_host_name():
    assert check_name("worker-12") == "worker-12"


def test_every_host_address_is_in_the_lab_range():
    addrs = {host_addr(i) for i in range(MAX_HOSTS)}
    assert len(addrs) == MAX_HOSTS
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("198.18.0.0/24") for a in addrs)
    assert "198.18.0.1" not in addrs  # the master's


def test_index_out_of_range():
    with pytest.raises(ValueError):
        host_addr(MAX_HOSTS)


def test_pools_are_in_the_lab_range_and_apart():
    swarm, local = ipaddress.ip_network(SWARM_ADDR_POOL), ipaddress.ip_network(DOCKERD_LOCAL_POOL)
    assert swarm.subnet_of(LAB_RANGE) and local.subnet_of(LAB_RANGE)
    assert not swarm.overlaps(local)


def test_cli_host_names_keep_order_and_drop_repeats():
    args = parser().parse_args(["up", "host1", "--hosts", "2", "--managers", "1", "--workers", "2"])
    assert host_names(args) == ["host1", "host2", "manager1", "worker1", "worker2"]


def test_cli_remove_refuses_a_name_that_is_not_a_lab_host(tmp_path, capsys):
    assert main(["--root", str(tmp_path / "lab"), "remove", "host9"]) == 1
    assert "not lab hosts: host9" in capsys.readouterr().err
    assert not (tmp_path / "lab").exists()  # nothing made
