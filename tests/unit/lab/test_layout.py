import ipaddress

import pytest

from lab.cli import host_names, main, parser
from lab.layout import (
    DOCKERD_LOCAL_POOL,
    HOST_NETWORK,
    MASTER_ADDR,
    MAX_HOSTS,
    MAX_LABS,
    SWARM_ADDR_POOL,
    check_name,
    host_addr,
    lab_index,
    lab_names,
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
    assert all(ipaddress.ip_address(a) in HOST_NETWORK for a in addrs)
    assert MASTER_ADDR not in addrs
    assert HOST_NETWORK.subnet_of(LAB_RANGE)


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


def test_lab_index_comes_from_the_environment_and_is_checked():
    assert lab_index({}) == 0
    assert lab_index({"SALT_SWARM_LAB_INDEX": "3"}) == 3
    for bad in ("-1", "10", "one"):
        with pytest.raises(ValueError, match="SALT_SWARM_LAB_INDEX"):
            lab_index({"SALT_SWARM_LAB_INDEX": bad})


def test_labs_side_by_side_share_no_name_or_address():
    labs = [lab_names(i) for i in range(MAX_LABS)]
    assert lab_names(0).bridge == "sswbr0" and lab_names(0).netns_prefix == "ssw-"
    for field in ("bridge", "bridge_mac", "netns_prefix", "veth_prefix", "cgroup"):
        assert len({getattr(n, field) for n in labs}) == MAX_LABS, field
    for one in labs:
        assert one.host_network.subnet_of(LAB_RANGE)
        assert len(one.bridge) <= 15 and len(one.veth_prefix + str(MAX_HOSTS)) <= 15  # IFNAMSIZ
        for other in labs:
            if other is not one:
                assert not one.host_network.overlaps(other.host_network)
                # down() removes what starts with its prefixes: never another lab's
                assert not other.netns_prefix.startswith(one.netns_prefix)
                assert not other.veth_prefix.startswith(one.veth_prefix)
                assert other.bridge != one.bridge
