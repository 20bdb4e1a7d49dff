"""Swarms built with no salt-master in the loop: `salt-call --local state.apply swarm` on
lab hosts, join data in a real etcd through the etcd_swarm sdb driver.

etcd runs on the lab's bridge address (the hosts reach it as they reach the master),
over TLS with auth on, as docs/token-store.md asks: every test uses a fresh key prefix
with its own manager and worker users and the roles the docs give them (managers
readwrite on the store's path; workers read worker_token and managers, readwrite on
labels/), so a worker joins without any right to the manager token. Each host gets a
masterless minion config of its own (file_client local, the repo's states, a pillar
with swarm:token_store, the etcd profile of its role) and static grains standing in
for cloud tags.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from lab import daemons, swarms
from lab.lab import repo_root
from lab.layout import HOST_NETWORK, MASTER_ADDR, SWARM_ADDR_POOL
from lab.wait import wait_for
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.etcd_client import EtcdClient
from tests.etcd_server import EtcdServer, add_store_roles, enable_auth, free_port, make_tls_files
from tests.integration.conftest import SECRET

ROOT_PW = "root-pw-Vb40"

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
    """etcd on the bridge over https (no client certificates), auth on: root only."""
    workdir = tmp_path_factory.mktemp("etcd-lab")
    tls = make_tls_files(workdir, MASTER_ADDR)
    server = EtcdServer(etcd_binary, workdir, tls=tls, host=MASTER_ADDR, client_cert_auth=False)
    server.ca = tls["ca"]
    try:
        admin = EtcdClient([server.url], ca_file=server.ca, timeout=2)
        server.wait_ready(admin)
        enable_auth(admin, ROOT_PW)
        server.root = EtcdClient([server.url], username="root", password=ROOT_PW, ca_file=server.ca)
        yield server
    finally:
        server.stop()


class Masterless:
    """Masterless minion configs of the lab hosts, all pointing at one etcd prefix, each
    with the etcd user of its role (roles made for this prefix as the docs say)."""

    def __init__(self, lab, workdir, etcd):
        self.lab = lab
        self.dir = workdir
        self.etcd_url = etcd.url
        self.ca = etcd.ca
        self.root = etcd.root
        tag = uuid.uuid4().hex[:8]
        self.prefix = f"/salt-swarm-test/{tag}/"
        self.users = {
            "manager": (f"swarm-manager-{tag}", f"m-pw-{tag}"),
            "worker": (f"swarm-worker-{tag}", f"w-pw-{tag}"),
        }
        add_store_roles(
            self.root, f"{self.prefix}cluster/", self.users["manager"], self.users["worker"]
        )
        pillar = self.dir / "pillar"
        pillar.mkdir(parents=True)
        (pillar / "top.sls").write_text("base:\n  '*':\n    - swarm\n")
        (pillar / "swarm.sls").write_text(yaml.safe_dump(PILLAR))
        self.outputs: list[str] = []

    def profile(self, role: str) -> dict:
        user, password = self.users[role]
        return {
            "driver": "etcd_swarm",
            "url": self.etcd_url,
            "prefix": self.prefix,
            "ca_file": self.ca,
            "username": user,
            "password": password,
        }

    def client(self, role: str) -> EtcdClient:
        """The store's keys as a node of ``role`` sees them (keys under cluster/)."""
        return EtcdClient.from_profile({**self.profile(role), "prefix": self.prefix + "cluster/"})

    def stored(self) -> dict:
        """Every key of the store (as root): {name under cluster/: value}."""
        return {
            name: entry.value
            for name, entry in self.root.get_prefix(self.prefix + "cluster/").items()
        }

    def configure(self, host: str, role: str, tags: dict | None = None, grain=True) -> None:
        """``grain`` False: no ec2_tags grain at all (its grain module failed to load)."""
        conf = {
            "id": host,
            "file_client": "local",
            "root_dir": str(self.dir / host / "root"),
            "file_roots": {"base": [str(repo_root() / "states")]},
            "pillar_roots": {"base": [str(self.dir / "pillar")]},
            "enable_fqdns_grains": False,
            "swarm": {"docker_url": self.lab.docker_url(host)},
            "swarm_etcd": self.profile(role),
            "grains": {"swarm_role": role, "ec2_tags": dict(tags or {})},
        }
        if not grain:
            del conf["grains"]["ec2_tags"]
        daemons.write_config(self.dir / host / "etc", "minion", conf)

    def log(self, host: str) -> str:
        found = list((self.dir / host / "root").rglob("minion"))
        return "".join(f.read_text(errors="replace") for f in found if f.is_file())

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
    world = Masterless(lab, tmp_path, etcd_on_bridge)
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


def node_ids(lab, manager):
    return {h: n["ID"] for h, n in swarms.node_states(lab, manager).items()}


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
    # The winner's lease is revoked once it published: no election record is left.
    assert sorted(masterless.stored()) == ["manager_token", "managers", "worker_token"]
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
    with pytest.raises(SwarmError, match="permission denied"):
        masterless.client("worker").get("manager_token")  # the worker's user may not
    code, ret = masterless.apply(worker)
    assert code == 0 and ret["changes"]["swarm"] == {"old": "inactive", "new": "worker"}, ret
    assert ret["changes"]["store"] == [f"labels/{worker}"]
    assert swarm_of(lab, worker)["LocalNodeState"] == "active"
    assert masterless.stored()[f"labels/{worker}"] == {
        "node_id": node_ids(lab, manager)[worker],
        "hostname": worker,
        "labels": {"docker.env": "prod", "docker.role": "web"},
        "owned": ["docker.*"],
    }

    code, ret = masterless.apply(manager)  # a manager applies what workers published
    assert code == 0, ret
    assert labels_of(lab, manager, worker) == {"docker.env": "prod", "docker.role": "web"}
    lab.docker(manager, "node", "update", "--label-add", "keep=1", worker).check_returncode()

    masterless.configure(worker, "worker", {"docker.role": "db"})  # a tag changed, one gone
    code, ret = masterless.apply(worker, "test=True")
    assert code == 0 and ret["result"] is None, ret
    assert ret["changes"] == {"store": [f"labels/{worker}"]}, ret
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


def test_a_node_whose_rule_grain_is_missing_keeps_its_labels_with_a_warning(lab, masterless):
    """A grain module that fails to load leaves the grain a rule names missing: the
    rule owns nothing on that run, on the worker (through its entry) and on the
    manager (its own node); the labels stay and each minion log warns."""
    manager, worker = lab.hosts[0], lab.hosts[1]
    masterless.configure(manager, "manager", {"docker.role": "control"})
    masterless.configure(worker, "worker", {"docker.role": "web"})
    for host in (manager, worker, manager):
        assert masterless.apply(host)[0] == 0
    assert labels_of(lab, manager, worker) == {"docker.role": "web"}
    assert labels_of(lab, manager, manager) == {"docker.role": "control"}

    for host, role in ((manager, "manager"), (worker, "worker")):
        masterless.configure(host, role, grain=False)
    code, ret = masterless.apply(worker)
    assert code == 0, ret
    assert masterless.stored()[f"labels/{worker}"]["owned"] == []
    before = swarms.fingerprint(lab, [manager, worker])
    code, ret = masterless.apply(manager)
    assert code == 0 and ret["result"] is True, ret
    assert "labels" not in ret["changes"], ret
    assert swarms.fingerprint(lab, [manager, worker]) == before
    assert labels_of(lab, manager, worker) == {"docker.role": "web"}
    assert labels_of(lab, manager, manager) == {"docker.role": "control"}
    warning = "swarm:grain_labels[0]: grain 'ec2_tags' is missing: labels 'docker.*' are kept"
    for host in (manager, worker):
        assert warning in masterless.log(host), host

    masterless.configure(worker, "worker", {})  # the grain is back, with no tag: removed
    assert masterless.apply(worker)[0] == 0
    assert masterless.apply(manager)[0] == 0
    assert labels_of(lab, manager, worker) == {}


def test_label_entries_a_compromised_worker_forges_are_checked(lab, masterless):
    """With the worker's etcd user (as a compromised worker has it), write entries for
    a manager, for a node that does not exist and with labels outside the rules: the
    manager applies only grain-owned keys to the worker that matches its entry."""
    manager, worker = lab.hosts[0], lab.hosts[1]
    masterless.configure(manager, "manager", {"docker.role": "control"})
    masterless.configure(worker, "worker", {"docker.role": "web"})
    assert masterless.apply(manager)[0] == 0
    assert masterless.apply(worker)[0] == 0
    ids = node_ids(lab, manager)
    forger = masterless.client("worker")
    with pytest.raises(SwarmError, match="permission denied"):
        forger.put("managers", ["198.18.0.66:2377"])
    forged = {
        manager: {"node_id": ids[manager], "hostname": manager, "labels": {"docker.role": "x"}},
        worker: {
            "node_id": ids[worker],
            "hostname": worker,
            "labels": {"docker.role": "db", "node.admin": "1"},
        },
        "ghost": {"node_id": "z" * 25, "hostname": "ghost", "labels": {"docker.role": "x"}},
    }
    for name, value in forged.items():
        forger.put(f"labels/{name}", value)

    code, ret = masterless.apply(manager)
    assert code == 0 and ret["result"] is True, ret
    assert (
        f"ignored published labels: labels/ghost, labels/{manager}, labels/{worker}"
        in (ret["comment"])
    ), ret
    assert labels_of(lab, manager, manager) == {"docker.role": "control"}  # its own grains
    assert labels_of(lab, manager, worker) == {"docker.role": "db"}  # no node.admin
    left = masterless.stored()
    assert f"labels/{manager}" not in left and "labels/ghost" not in left  # removed
    log = masterless.log(manager)
    assert f"labels/{worker}: keys outside swarm:grain_labels: node.admin" in log
    assert f"labels/{manager}: {manager} is a manager" in log
    assert "labels/ghost: node " + "z" * 25 + " is not in the swarm" in log


def test_a_lapsed_election_record_is_won_by_the_next_manager(lab, masterless, tmp_path):
    """A manager elected before (here: the test holds a record on a 3 s lease) dies
    before publishing: the next manager waits while the record lives, and wins once
    nobody renews the lease."""
    manager = lab.hosts[0]
    masterless.configure(manager, "manager")
    owner = masterless.client("manager")
    lease = owner.grant_lease(3)
    owner.put("leader", {"minion": "dead-host", "at": time.time()}, lease=lease)
    dead = threading.Event()

    def renew():
        while not dead.wait(0.5):
            owner.keepalive(lease)

    renewer = threading.Thread(target=renew, daemon=True)
    renewer.start()
    log = tmp_path / "manager.log"
    try:
        with open(log, "w") as err:
            proc = subprocess.Popen(
                masterless.argv(manager, "-l", "info"),
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
            try:
                wait_for(
                    lambda: (
                        "dead-host holds the election" in log.read_text() or proc.poll() is not None
                    ),
                    90,
                    "the manager to see dead-host's election record",
                )
                assert proc.poll() is None, log.read_text()
                assert swarm_of(lab, manager)["LocalNodeState"] == "inactive"
                dead.set()  # dead-host dies: its lease runs out within 3 s
                stdout, _ = proc.communicate(timeout=120)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    finally:
        dead.set()
        renewer.join()
    code, ret = masterless.result(manager, proc.returncode, stdout, log.read_text())
    assert code == 0 and "initialized" in ret["changes"]["swarm"], ret
    assert "after dead-host's claim lapsed" in ret["comment"], ret
    assert "leader" not in masterless.stored()
    assert swarm_of(lab, manager)["LocalNodeState"] == "active"


def test_a_store_in_the_old_layout_is_moved_by_a_member_manager(lab, masterless):
    """salt-swarm 0.1 kept both tokens in `tokens` (and every node's labels in
    `node_labels`): a bare node is told how to move it; a manager of the swarm moves it."""
    first, second = lab.hosts[:2]
    masterless.configure(first, "manager")
    masterless.configure(second, "manager")
    assert masterless.apply(first)[0] == 0
    client = lab.docker_client(first)
    try:
        swarm = client.api.inspect_swarm()
    finally:
        client.close()
    old = {
        "worker": swarm["JoinTokens"]["Worker"],
        "manager": swarm["JoinTokens"]["Manager"],
        "cluster_id": swarm["ID"],
    }
    root = masterless.root
    base = masterless.prefix + "cluster/"
    for key in ("worker_token", "manager_token"):
        root.delete(base + key)
    root.put(base + "tokens", old)
    root.put(base + "node_labels", {first: {"labels": {}, "owned": []}})
    root.put(base + "leader", {"minion": first, "at": 0})

    before = swarms.fingerprint(lab, [second])
    code, ret = masterless.apply(second)
    assert code != 0 and ret["result"] is False, ret
    assert "salt-swarm 0.1's layout" in ret["comment"], ret
    assert "once on a manager that is already in the swarm" in ret["comment"], ret
    assert swarms.fingerprint(lab, [second]) == before

    code, ret = masterless.apply(first)
    assert code == 0 and ret["result"] is True, ret
    assert ret["changes"]["store"] == ["manager_token", "node_labels", "tokens", "worker_token"]
    assert sorted(masterless.stored()) == ["manager_token", "managers", "worker_token"]

    code, ret = masterless.apply(second)
    assert code == 0 and ret["changes"]["swarm"] == {"old": "inactive", "new": "manager"}, ret
    assert swarm_of(lab, second)["Cluster"]["ID"] == swarm["ID"]


def test_test_mode_on_bare_hosts_tells_and_writes_nothing(lab, masterless):
    manager, worker = lab.hosts[0], lab.hosts[1]
    masterless.configure(manager, "manager")
    masterless.configure(worker, "worker")
    code, ret = masterless.apply(manager, "test=True")
    assert code == 0 and ret["result"] is None, ret
    assert "would init a new swarm if elected" in ret["comment"]
    code, ret = masterless.apply(worker, "test=True")
    assert code == 0 and ret["result"] is None and "once join data are in" in ret["comment"], ret
    assert masterless.stored() == {}
    for host in (manager, worker):
        assert swarm_of(lab, host)["LocalNodeState"] == "inactive"


def test_a_store_that_is_down_is_a_clear_error_and_nothing_joins(lab, masterless):
    manager, worker = lab.hosts[0], lab.hosts[1]
    masterless.etcd_url = f"https://{MASTER_ADDR}:{free_port(MASTER_ADDR)}"  # nothing listens
    masterless.configure(manager, "manager")
    masterless.configure(worker, "worker")
    before = swarms.fingerprint(lab, [manager, worker])
    for host in (manager, worker):
        code, ret = masterless.apply(host)
        assert code != 0 and ret["result"] is False, f"{host}: {ret}"
        assert "etcd unreachable" in ret["comment"] and masterless.etcd_url in ret["comment"], ret
        assert PILLAR["swarm"]["token_store"] + ": etcd unreachable" in ret["comment"], ret
    assert swarms.fingerprint(lab, [manager, worker]) == before
    for host in (manager, worker):
        assert swarm_of(lab, host)["LocalNodeState"] == "inactive"


def test_a_password_over_plain_http_is_refused_before_anything_changes(lab, masterless):
    worker = lab.hosts[1]
    masterless.etcd_url = f"http://{MASTER_ADDR}:2379"
    masterless.configure(worker, "worker")
    code, ret = masterless.apply(worker)
    assert code != 0 and ret["result"] is False, ret
    assert "is plain http, so the password would cross the network in clear" in ret["comment"]
    assert masterless.users["worker"][1] not in ret["comment"]
    assert swarm_of(lab, worker)["LocalNodeState"] == "inactive"


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
