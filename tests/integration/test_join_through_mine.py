"""init, mine.update and join through the real salt-master's mine, with a token ACL."""

import json
import re
from pathlib import Path

import pytest

from lab import swarms
from lab.lab import repo_root
from lab.layout import HOST_NETWORK, SWARM_ADDR_POOL
from lab.wait import wait_for

PILLAR = Path(__file__).parent / "pillars" / "mine"
SECRET = re.compile(r"SWMTKN-1-[0-9a-z]{50}|SWMKEY-1-[A-Za-z0-9+/]{20,}")


def salt(lab, *args):
    res = lab.salt_json(*args)
    return res.retcode, res.data, res.output


@pytest.fixture
def mine_pillar(lab, lab_hosts, bare_hosts):
    lab.use_pillar(PILLAR)
    code, _, out = salt(lab, "-L", ",".join(lab_hosts), "saltutil.refresh_pillar", "wait=True")
    assert code == 0, out
    yield
    salt(lab, "-L", ",".join(lab_hosts), "mine.flush")
    lab.use_pillar(repo_root() / "pillar.example")
    salt(lab, "-L", ",".join(lab_hosts), "saltutil.refresh_pillar", "wait=True")


def master_sees_manager(lab, minion):
    res = lab.salt_run("mine.get", minion, "swarm.manager_addr", "--out=json")
    return json.loads(res.stdout or "{}").get(minion)


def test_join_through_the_mine(lab, lab_hosts, mine_pillar):
    first, worker, manager, outsider = lab_hosts[:4]
    code, ret, out = salt(
        lab,
        first,
        "swarm.init",
        "advertise_addr=eth0",  # an interface name, resolved inside host1's namespace
        f'default_addr_pool=["{SWARM_ADDR_POOL}"]',
        "subnet_size=24",
    )
    assert code == 0, out
    assert ret[first]["address"] == lab.addr(first)

    code, _, out = salt(lab, first, "mine.update")
    assert code == 0, out
    addr = wait_for(lambda: master_sees_manager(lab, first), 30, "manager address on the master")
    assert addr == f"{lab.addr(first)}:2377"

    code, ret, out = salt(lab, worker, "swarm.join")
    assert code == 0, out
    assert ret[worker]["role"] == "worker" and ret[worker]["manager"] == addr
    assert not SECRET.search(out)

    code, ret, out = salt(
        lab,
        manager,
        "state.single",
        "swarm.manager",
        "name=swarm",
        f"advertise_addr={HOST_NETWORK}",
    )
    assert code == 0, out
    (state,) = ret[manager].values()
    assert state["result"] is True and state["changes"]["swarm"]["new"] == "manager"
    assert not SECRET.search(out)

    nodes = swarms.node_states(lab, first)
    assert nodes[worker]["Spec"]["Role"] == "worker"
    assert nodes[manager]["Spec"]["Role"] == "manager"
    assert nodes[manager]["Status"]["Addr"] == lab.addr(manager)


def test_outsider_cannot_read_tokens_and_stays_out(lab, lab_hosts, mine_pillar):
    first, member, _, outsider = lab_hosts[:4]
    swarms.build(lab, [first])
    assert salt(lab, first, "mine.update")[0] == 0
    wait_for(lambda: master_sees_manager(lab, first), 30, "manager address on the master")

    _, ret, _ = salt(lab, member, "mine.get", "*", "swarm.worker_token")
    assert set(ret[member]) == {first}
    # A worker reads the worker token, never the manager token.
    _, ret, out = salt(lab, member, "mine.get", "*", "swarm.manager_token")
    assert ret[member] == {} and not SECRET.search(out)
    _, ret, out = salt(lab, outsider, "mine.get", "*", "swarm.worker_token")
    assert ret[outsider] == {} and not SECRET.search(out)

    code, ret, out = salt(lab, outsider, "swarm.join", "mine_timeout=2")
    assert code != 0
    assert "allowed to read the worker token" in out
    assert swarms.local_state(lab, outsider)["LocalNodeState"] == "inactive"

    # A member worker that asks to join as a manager cannot read that token either.
    code, ret, out = salt(lab, member, "swarm.join", "role=manager", "mine_timeout=2")
    assert code != 0
    assert "allowed to read the manager token" in out
    assert swarms.local_state(lab, member)["LocalNodeState"] == "inactive"


def test_cidr_that_matches_nothing_fails_through_the_master(lab, lab_hosts, bare_hosts):
    host = lab_hosts[3]
    code, _, out = salt(lab, host, "swarm.init", "advertise_addr=10.99.0.0/16")
    assert code != 0
    assert "advertise_addr: this node has no address in 10.99.0.0/16" in out
    assert swarms.local_state(lab, host)["LocalNodeState"] == "inactive"


def test_missing_interface_is_named(lab, lab_hosts, bare_hosts):
    host = lab_hosts[3]
    code, _, out = salt(lab, host, "swarm.init", "advertise_addr=eth9")
    assert code != 0
    assert "no interface named 'eth9'" in out and "eth0" in out
