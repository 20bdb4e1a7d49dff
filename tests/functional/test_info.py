import pytest
from salt.exceptions import CommandExecutionError

from lab.layout import SWARM_ADDR_POOL

from .conftest import load_minion_mods


def test_module_is_found_through_the_entry_point(salt_mods):
    assert "swarm.info" in salt_mods


def test_info_on_a_bare_daemon(salt_mods, host, bare_hosts):
    info = salt_mods["swarm.info"]()
    assert info["state"] == "inactive"
    assert info["hostname"] == host
    assert info["node_id"] is None
    assert info["manager"] is False


def test_info_on_a_one_node_swarm(salt_mods, lab, host, bare_hosts):
    client = lab.docker_client(host)
    node_id = client.swarm.init(
        advertise_addr=lab.addr(host), default_addr_pool=[SWARM_ADDR_POOL], subnet_size=24
    )
    info = salt_mods["swarm.info"]()
    assert info["state"] == "active"
    assert info["node_id"] == node_id
    assert info["manager"] is True
    assert info["address"] == lab.addr(host)
    assert info["cluster_id"] == client.swarm.attrs["ID"]
    assert (info["managers"], info["nodes"]) == (1, 1)


def test_unreachable_daemon_raises_with_the_url(tmp_path):
    mods = load_minion_mods(tmp_path, f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(CommandExecutionError, match="no-such.sock"):
        mods["swarm.info"]()
