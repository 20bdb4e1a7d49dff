"""Swarms built with no salt-master in the loop: `salt-call --local state.apply swarm` on
lab hosts, join data in a real etcd through the etcd_swarm sdb driver.

etcd runs on the lab's bridge address (the hosts reach it as they reach the master);
each host gets a masterless minion config of its own (file_client local, the repo's
states, a pillar with swarm:token_store) and static grains standing in for cloud tags.
Every test uses a fresh key prefix in etcd.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from salt_swarm.core.etcd_client import EtcdClient
from salt_swarm.lab import daemons, swarms
from salt_swarm.lab.lab import repo_root
from salt_swarm.lab.layout import HOST_NETWORK, MASTER_ADDR, SWARM_ADDR_POOL
from salt_swarm.lab.wait import wait_for
from tests.etcd_server import EtcdServer, free_port
from tests.integration.conftest import SECRET

STATE_ID = "swarm_|-swarm member through the token store_|-swarm member through the token store_|-store_joined"
PILLAR = {
    "swarm": {
        "managers": {"tgt": "swarm_role:manager", "tgt_type": "grain"},
        "workers": {"tgt": "swarm_role:worker", "tgt_type": "grain"},
        "advertise_addr": str(HOST_NETWORK),
        "init": {"default_addr_pool": [SWARM_ADDR_POOL], "subnet_size": 24},
        "token_store": "sdb://swarm_etcd/cluster",
        "store_timeout": 60,
        "grain_labels": [{"grain": "ec2_tags", "keys": "docker.*"}],
    }
}


@pytest.fixture(scope="module")
def etcd_on_bridge(lab, etcd_binary, tmp_path_factory):
    server = EtcdServer(etcd_binary, tmp_path_factory.mktemp("etcd-lab"), host=MASTER_ADDR)
    try:
        server.wait_ready(EtcdClient([server.url], timeout=1))
        yield server
    finally:
        server.stop()


class Masterless:
    """Masterless minion configs of the lab hosts, all pointing at one etcd prefix."""

    def __init__(self, lab, workdir, etcd_url):
        self.lab = lab
        self.dir = workdir
        self.etcd_url = etcd_url
        self.prefix = f"/salt-swarm-test/{uuid.uuid4().hex[:8]}/"
        pillar = self.dir / "pillar"
        pillar.mkdir(parents=True)
        (pillar / "top.sls").write_text("base:\n  '*':\n    - swarm\n")
        (pillar / "swarm.sls").write_text(yaml.safe_dump(PILLAR))
        self.outputs: list[str] = []

    def configure(self, host: str, role: str, tags: dict | None = None) -> None:
        conf = {
            "id": host,
            "file_client": "local",
            "root_dir": str(self.dir / host / "root"),
            "file_roots": {"base": [str(repo_root() / "states")]},
            "pillar_roots": {"base": [str(self.dir / "pillar")]},
            "enable_fqdns_grains": False,
            "swarm": {"docker_url": self.lab.docker_url(host)},
            "swarm_etcd": {"driver": "etcd_swarm", "url": self.etcd_url, "prefix": self.prefix},
            "grains": {"swarm_role": role, "ec2_tags": dict(tags or {})},
        }
        daemons.write_config(self.dir / host / "etc", "minion", conf)

    def argv(self, host: str, *extra: str) -> list[str]:
        return self.lab.shell_argv(
            host,
            [
                daemons.salt_script("salt-call"),
                "-c",
                str(self.dir / host / "etc"),
                "--local",
                "--retcode-passthrough",
                "--out=json",
                "state.apply",
                "swarm",
                *extra,
            ],
        )

    def apply(self, host: str, *extra: str, timeout: float = 180) -> tuple[int, dict]:
        """`salt-call --local state.apply swarm` on ``host``: (retcode, its state's return)."""
        res = subprocess.run(
            self.argv(host, *extra), capture_output=True, text=True, timeout=timeout
        )
        return self.result(host, res.returncode, res.stdout, res.stderr)

    def result(self, host, code, stdout, stderr) -> tuple[int, dict]:
        self.outputs.append(stdout + stderr)
        try:
            states = json.loads(stdout)["local"]
        except (ValueError, KeyError):
            pytest.fail(f"salt-call on {host} gave no state output:\n{stdout}{stderr}")
        assert isinstance(states, dict), f"{host}: {states}"
        return code, states.get(STATE_ID) or {"comment": str(states)}


@pytest.fixture
def masterless(lab, bare_hosts, etcd_on_bridge, tmp_path):
    world = Masterless(lab, tmp_path, etcd_on_bridge.url)
    yield world
    leaked = [out for out in world.outputs if SECRET.search(out)]
    assert not leaked, "a join token or unlock key in salt-call output"
    # The masterless minions' logs and caches (state returns, job cache) alike.
    files = [f for f in tmp_path.rglob("*") if f.is_file() and "root" in f.parts]
    leaked = [str(f) for f in files if SECRET.search(f.read_bytes().decode("latin-1"))]
    assert not leaked, f"a join token or unlock key in {leaked}"


def swarm_of(lab, host):
    client = lab.docker_client(host)
    try:
        return client.info()["Swarm"]
    finally:
        client.close()


def labels_of(lab, manager, hostname):
    return swarms.node_states(lab, manager)[hostname]["Spec"].get("Labels") or {}


@pytest.mark.parametrize("attempt", range(3))
def test_two_managers_booting_at_once_make_one_swarm(lab, masterless, attempt):
    first, second = lab.hosts[:2]
    for host in (first, second):
        masterless.configure(host, "manager")
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(masterless.apply, (first, second)))
    took = time.monotonic() - started
    for host, (code, ret) in zip((first, second), results, strict=True):
        assert code == 0 and ret.get("result") is True, f"{host}: {ret}"
    inits = [
        h
        for h, (_, r) in zip((first, second), results, strict=True)
        if "initialized" in (r.get("changes", {}).get("swarm") or {})
    ]
    assert len(inits) == 1, f"expected exactly one init, got {inits}: {results}"
    a, b = swarm_of(lab, first), swarm_of(lab, second)
    assert a["LocalNodeState"] == b["LocalNodeState"] == "active"
    assert a["Cluster"]["ID"] == b["Cluster"]["ID"]
    assert a["Managers"] == 2
    print(f"attempt {attempt}: {inits[0]} initialized; both managers of one swarm in {took:.1f} s")
    for host in (first, second):
        print(f"  {host}: {results[(first, second).index(host)][1]['comment']}")


def test_a_later_worker_joins_through_the_store_and_labels_follow_its_grains(lab, masterless):
    manager, worker = lab.hosts[0], lab.hosts[2]
    masterless.configure(manager, "manager")
    masterless.configure(
        worker, "worker", {"docker.role": "web", "docker.env": "prod", "Name": "w"}
    )
    code, ret = masterless.apply(manager)
    assert code == 0 and "initialized" in ret["changes"]["swarm"], ret
    code, ret = masterless.apply(worker)
    assert code == 0 and ret["changes"]["swarm"] == {"old": "inactive", "new": "worker"}, ret
    assert ret["changes"]["store"] == ["node_labels"]
    assert swarm_of(lab, worker)["LocalNodeState"] == "active"

    code, ret = masterless.apply(manager)  # a manager applies what nodes published
    assert code == 0, ret
    assert labels_of(lab, manager, worker) == {"docker.env": "prod", "docker.role": "web"}
    lab.docker(manager, "node", "update", "--label-add", "keep=1", worker).check_returncode()

    masterless.configure(worker, "worker", {"docker.role": "db"})  # a tag changed, one gone
    code, ret = masterless.apply(worker, "test=True")
    assert code == 0 and ret["result"] is None and ret["changes"] == {"store": ["node_labels"]}, ret
    assert masterless.apply(worker)[0] == 0
    code, ret = masterless.apply(manager)
    assert code == 0 and worker in ret["changes"]["labels"], ret
    assert labels_of(lab, manager, worker) == {"docker.role": "db", "keep": "1"}

    before = swarms.fingerprint(lab, [manager, worker])
    for host in (worker, manager):
        code, ret = masterless.apply(host)
        assert code == 0 and ret["result"] is True and ret["changes"] == {}, f"{host}: {ret}"
        code, ret = masterless.apply(host, "test=True")
        assert code == 0 and ret["result"] is True and ret["changes"] == {}, f"{host}: {ret}"
    assert swarms.fingerprint(lab, [manager, worker]) == before


def test_test_mode_on_bare_hosts_tells_and_writes_nothing(lab, masterless, etcd_on_bridge):
    manager, worker = lab.hosts[0], lab.hosts[1]
    masterless.configure(manager, "manager")
    masterless.configure(worker, "worker")
    code, ret = masterless.apply(manager, "test=True")
    assert code == 0 and ret["result"] is None, ret
    assert "would init a new swarm if elected" in ret["comment"]
    code, ret = masterless.apply(worker, "test=True")
    assert code == 0 and ret["result"] is None and "once join data are in" in ret["comment"], ret
    client = EtcdClient([etcd_on_bridge.url], prefix=masterless.prefix)
    assert client.get("cluster/leader") is None and client.get("cluster/tokens") is None
    for host in (manager, worker):
        assert swarm_of(lab, host)["LocalNodeState"] == "inactive"


def test_a_store_that_is_down_is_a_clear_error_and_nothing_joins(lab, masterless):
    manager, worker = lab.hosts[0], lab.hosts[1]
    masterless.etcd_url = f"http://{MASTER_ADDR}:{free_port(MASTER_ADDR)}"  # nothing listens
    masterless.configure(manager, "manager")
    masterless.configure(worker, "worker")
    before = swarms.fingerprint(lab, [manager, worker])
    for host in (manager, worker):
        code, ret = masterless.apply(host)
        assert code != 0 and ret["result"] is False, f"{host}: {ret}"
        assert "etcd unreachable" in ret["comment"] and masterless.etcd_url in ret["comment"], ret
    assert swarms.fingerprint(lab, [manager, worker]) == before
    for host in (manager, worker):
        assert swarm_of(lab, host)["LocalNodeState"] == "inactive"


def test_a_worker_booting_first_waits_for_the_managers(lab, masterless, tmp_path):
    manager, worker = lab.hosts[0], lab.hosts[3]
    masterless.configure(manager, "manager")
    masterless.configure(worker, "worker")
    log = tmp_path / "worker.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            masterless.argv(worker, "-l", "info"), stdout=subprocess.PIPE, stderr=err, text=True
        )
        try:
            wait_for(
                lambda: "no join data in" in log.read_text() or proc.poll() is not None,
                60,
                "the worker to wait for join data",
            )
            assert proc.poll() is None, log.read_text()
            code, ret = masterless.apply(manager)
            assert code == 0 and "initialized" in ret["changes"]["swarm"], ret
            stdout, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    code, ret = masterless.result(worker, proc.returncode, stdout, log.read_text())
    assert code == 0 and ret["changes"]["swarm"] == {"old": "inactive", "new": "worker"}, ret
    assert swarm_of(lab, worker)["LocalNodeState"] == "active"
