"""Host-level checks that hold on any swarm node the formula built.

Each check reads the host itself (its dockerd, its sockets, its files), so the same
functions verify a Test Kitchen instance and a lab host; what the host must be comes
from the expectations file (see conftest.py).
"""

import json

import pytest

pytest.importorskip("testinfra", reason="the verifier needs pytest-testinfra")

SECRETS = r"SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}|SWMKEY-1-[A-Za-z0-9+/]{20,}"
MIN_ENGINE = (20, 10)


def test_docker_daemon_answers(docker):
    out = docker.run("version", "--format", "{{.Server.Version}}")
    assert out.rc == 0, f"dockerd does not answer: {out.stderr.strip()}"
    version = tuple(int(p) for p in out.stdout.strip().split(".")[:2] if p.isdigit())
    assert version >= MIN_ENGINE, f"Docker Engine {out.stdout.strip()} is older than 20.10"


def test_docker_service_running_and_enabled(host, expect):
    name = expect.get("docker_service")
    if not name:
        pytest.skip("no docker_service expected: dockerd is not run by a service here")
    service = host.service(name)
    assert service.is_running, f"service {name} is not running"
    assert service.is_enabled, f"service {name} is not enabled at boot"


def test_swarm_active(swarm):
    assert swarm["LocalNodeState"] == "active", (swarm["LocalNodeState"], swarm.get("Error"))
    assert swarm["NodeID"]
    assert not swarm.get("Error")
    assert swarm.get("RemoteManagers"), "the node knows no manager"


def test_role(swarm, expect):
    is_manager = bool(swarm.get("ControlAvailable"))
    actual = "manager" if is_manager else "worker"
    assert actual == expect["role"], f"{expect['hostname']} is a {actual}, not a {expect['role']}"


def test_manager_reachable(node, expect):
    assert node["Spec"]["Role"] == "manager"
    status = node.get("ManagerStatus") or {}
    assert status.get("Reachability") == "reachable", status
    if expect.get("leader") is not None:
        assert bool(status.get("Leader")) is bool(expect["leader"]), (
            f"{expect['hostname']}: leader is {bool(status.get('Leader'))}, "
            f"expected {bool(expect['leader'])}"
        )


def test_manager_listens_on_2377(host, expect):
    if expect["role"] != "manager":
        pytest.skip("only managers serve the cluster port")
    out = host.run("ss --numeric --listening --tcp")  # iproute2
    assert out.rc == 0, f"ss failed ({out.rc}): {out.stderr.strip()}"
    local = [line.split()[3] for line in out.stdout.splitlines()[1:] if len(line.split()) > 3]
    assert any(addr.rsplit(":", 1)[-1] == "2377" for addr in local), (
        f"nothing listens on TCP 2377; listening: {sorted(local)}"
    )


def test_node_labels(node, expect):
    wanted = expect.get("labels")
    if not wanted:
        pytest.skip("no labels expected on this node")
    have = node["Spec"].get("Labels") or {}
    missing = {k: v for k, v in wanted.items() if have.get(k) != str(v)}
    assert not missing, f"labels missing or different: want {missing}, node has {have}"


def test_autolock(swarm, expect):
    if expect.get("autolock") is None:
        pytest.skip("no autolock setting expected")
    if expect["role"] != "manager":
        pytest.skip("the cluster settings are read on managers")
    spec = (swarm.get("Cluster") or {}).get("Spec") or {}
    actual = bool((spec.get("EncryptionConfig") or {}).get("AutoLockManagers"))
    assert actual is bool(expect["autolock"])


def test_no_secret_in_salt_logs(host, expect):
    folders = [d for d in expect["secret_scan"] if host.file(d).is_directory]
    if not folders:
        pytest.skip(f"none of {expect['secret_scan']} exists here")
    found = host.run(
        "grep -rlE %s " + " ".join(["%s"] * len(folders)), SECRETS, *folders
    )  # rc 1: no match anywhere
    assert found.rc == 1, (
        f"a join token or unlock key is in: {found.stdout.split()}"
        if found.rc == 0
        else f"grep failed ({found.rc}): {found.stderr.strip()}"
    )


def test_highstate_has_nothing_left_to_do(host, expect):
    command = expect.get("highstate_test")
    if not command:
        pytest.skip("no highstate_test command expected")
    out = host.run(command)
    try:
        data = json.loads(out.stdout)
    except ValueError:
        pytest.fail(f"{command!r} printed no JSON (rc {out.rc}): {out.stdout[-2000:]}")
    (states,) = data.values()
    assert isinstance(states, dict), f"the state run did not compile: {states}"
    pending = {
        sid: {"result": s.get("result"), "changes": s.get("changes"), "comment": s.get("comment")}
        for sid, s in states.items()
        if s.get("result") is not True or s.get("changes")
    }
    assert not pending, f"a second run would still act: {json.dumps(pending, indent=1)}"
