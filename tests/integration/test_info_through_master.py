"""swarm.info through the real salt-master, answered by each lab host from its own dockerd."""

import ipaddress
import json
from concurrent.futures import ThreadPoolExecutor

from lab.layout import HOST_NETWORK, SWARM_ADDR_POOL


def salt_json(lab, *args):
    res = lab.salt_json(*args)
    assert res.retcode == 0, res.output
    return res.data


def test_each_host_is_its_own_machine(lab, lab_hosts):
    grains = salt_json(lab, "-L", ",".join(lab_hosts), "grains.item", "host", "ipv4")
    assert sorted(grains) == sorted(lab_hosts)
    for name in lab_hosts:
        assert grains[name]["host"] == name
        addrs = [ipaddress.ip_address(a) for a in grains[name]["ipv4"]]
        on_bridge = [str(a) for a in addrs if a in HOST_NETWORK]
        assert on_bridge == [lab.addr(name)]
        # Anything else is loopback or dockerd's own bridges, all inside the lab range.
        assert all(a.is_loopback or a in ipaddress.ip_network("198.18.0.0/15") for a in addrs)


def test_bare_hosts_report_inactive_with_their_own_hostnames(lab, lab_hosts, bare_hosts):
    infos = salt_json(lab, "-L", ",".join(lab_hosts), "swarm.info")
    assert sorted(infos) == sorted(lab_hosts)
    for name, info in infos.items():
        assert info["state"] == "inactive"
        assert info["hostname"] == name


def test_each_host_answers_from_its_own_dockerd(lab, lab_hosts, bare_hosts):
    assert len(lab_hosts) >= 4

    def init_alone(name):
        client = lab.docker_client(name)
        return client.swarm.init(
            advertise_addr=lab.addr(name), default_addr_pool=[SWARM_ADDR_POOL], subnet_size=24
        )

    with ThreadPoolExecutor(max_workers=len(lab_hosts)) as pool:
        node_ids = dict(zip(lab_hosts, pool.map(init_alone, lab_hosts), strict=True))

    infos = salt_json(lab, "-L", ",".join(lab_hosts), "swarm.info")
    assert sorted(infos) == sorted(lab_hosts)
    for name in lab_hosts:
        info = infos[name]
        assert info["hostname"] == name
        assert info["node_id"] == node_ids[name]
        assert info["address"] == lab.addr(name)
        assert info["state"] == "active" and info["manager"] is True
    assert len({i["node_id"] for i in infos.values()}) == len(lab_hosts)
    assert len({i["cluster_id"] for i in infos.values()}) == len(lab_hosts)
    print(
        "\n"
        + "\n".join(f"{n}: node {infos[n]['node_id']} at {infos[n]['address']}" for n in lab_hosts)
    )


def test_salt_call_on_a_host_uses_that_hosts_dockerd(lab, lab_hosts, bare_hosts):
    name = lab_hosts[1]
    res = lab.salt_call(name, "swarm.info", "--out=json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["local"]["hostname"] == name


def test_docker_helper_reaches_the_hosts_daemon(lab, lab_hosts):
    name = lab_hosts[2]
    res = lab.docker(name, "info", "--format", "{{.Name}}")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == name
