"""The Test Kitchen verifier's checks (tests/verify) against the lab's hosts.

After a bootstrap (host1-3 managers with autolock, host4 a worker), the very test
functions kitchen.yml runs over ``docker exec`` run here through testinfra's salt
backend: every command is a ``cmd.run_all`` that the host's own minion runs inside
its namespaces. testinfra's salt backend opens ``salt.client.LocalClient()`` with
the default master config path; ``SALT_MASTER_CONFIG`` makes that the lab master's.
Each host's dockerd has its own socket, so the expectations give it as
``docker_host``. Then a wrong expectation (the worker as a manager) must fail: the
verifier can say no.
"""

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from lab.daemons import salt_script
from lab.lab import repo_root
from tests.integration.conftest import PILLARS, pillar_variant, swarm_for_the_module

VERIFY = repo_root() / "tests" / "verify"
MANAGERS = ["host1", "host2", "host3"]
WORKERS = ["host4"]
OUTCOMES = {"failure": "failed", "error": "error", "skipped": "skipped"}

try:
    import testinfra  # noqa: F401  (the verifier's tests take its `host` fixture)
except ImportError:
    if os.environ.get("SALT_SWARM_REQUIRE_LAB") == "1":
        raise  # the install step must bring pytest-testinfra, not skip the verifier
    pytest.skip("the verifier needs pytest-testinfra", allow_module_level=True)


pytestmark = pytest.mark.own_pillar  # one swarm, its pillar chosen for the module


@pytest.fixture(scope="module")
def bootstrapped(lab, lab_hosts, tmp_path_factory):
    """Both tests only read this swarm: it is built once."""
    assert set(MANAGERS + WORKERS) <= set(lab_hosts), "the bootstrap pillar needs host1-host4"
    folder = pillar_variant(
        tmp_path_factory.mktemp("verify"),
        PILLARS / "bootstrap",
        **{"subnet_size: 24": "subnet_size: 24\n    autolock: true"},
    )
    with swarm_for_the_module(lab, folder):
        yield


def expectations(lab, **roles) -> dict:
    """What each lab host must be: the bootstrap pillar's roles, labels and autolock."""
    hosts = {}
    for name, role in roles.items():
        paths = lab.paths.host(name)
        want = {
            "role": role,
            "docker_host": lab.docker_url(name),
            "secret_scan": [str(paths.root / "var" / "log" / "salt")],
            # Inside the host (its minion runs the command), as the highstate would.
            "highstate_test": (
                f"{salt_script('salt-call')} -c {paths.minion_conf_dir} --out=json "
                "--log-level=quiet state.apply swarm test=True"
            ),
        }
        if role == "manager":
            want.update(labels={"lab": "yes"}, autolock=True, leader=name == "host1")
        hosts[name] = want
    return {"defaults": {}, "hosts": hosts}


def run_verifier(lab, hosts, expect, tmp_path) -> dict:
    """Run tests/verify on ``hosts``; return {(test, host): outcome} from its JUnit report."""
    handle, name = tempfile.mkstemp(prefix="expect-", suffix=".yml", dir=tmp_path)
    os.close(handle)
    expect_file = Path(name)
    expect_file.write_text(yaml.safe_dump(expect))
    report = expect_file.with_suffix(".xml")
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        f"--confcutdir={VERIFY}",
        str(VERIFY),
        "--hosts=" + ",".join(f"salt://{h}" for h in hosts),
        f"--swarm-expect={expect_file}",
        f"--junitxml={report}",
        "-q",
        "-rfE",
    ]
    env = dict(os.environ, SALT_MASTER_CONFIG=lab.master_config_file)
    res = subprocess.run(
        argv, cwd=repo_root(), env=env, capture_output=True, text=True, timeout=900
    )
    outcomes = junit_outcomes(report) if report.exists() else {}
    return {"code": res.returncode, "out": res.stdout + res.stderr, "outcomes": outcomes}


def junit_outcomes(report: Path) -> dict:
    """{(test name, host): passed | failed | error | skipped}; ids read test_x[salt://host1]."""
    found = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name, _, host = case.get("name").partition("[salt://")
        tags = [child.tag for child in case]
        outcome = next((OUTCOMES[t] for t in OUTCOMES if t in tags), "passed")
        found[(name, host.rstrip("]"))] = outcome
    return found


def test_verifier_passes_on_every_lab_host(lab, bootstrapped, tmp_path):
    roles = {**dict.fromkeys(MANAGERS, "manager"), **dict.fromkeys(WORKERS, "worker")}
    run = run_verifier(lab, list(roles), expectations(lab, **roles), tmp_path)
    assert run["code"] == 0, run["out"]
    outcomes = run["outcomes"]
    assert outcomes, run["out"]
    bad = {k: v for k, v in outcomes.items() if v not in ("passed", "skipped")}
    assert not bad, run["out"]

    everywhere = [
        "test_docker_daemon_answers",
        "test_swarm_active",
        "test_role",
        "test_no_secret_in_salt_logs",
        "test_highstate_has_nothing_left_to_do",
    ]
    on_managers = [
        "test_manager_reachable",
        "test_manager_listens_on_2377",
        "test_node_labels",
        "test_autolock",
    ]
    for host, role in roles.items():
        wanted = everywhere + (on_managers if role == "manager" else [])
        not_passed = [t for t in wanted if outcomes.get((t, host)) != "passed"]
        assert not not_passed, (host, not_passed, run["out"])
    # No service manager runs the lab's dockerds: that check is Kitchen's alone.
    assert outcomes[("test_docker_service_running_and_enabled", "host1")] == "skipped"


def test_verifier_fails_on_a_wrong_expectation(lab, bootstrapped, tmp_path):
    wrong = expectations(lab, host4="manager")  # host4 is a worker
    run = run_verifier(lab, ["host4"], wrong, tmp_path)
    assert run["code"] == 1, run["out"]
    outcomes = run["outcomes"]
    assert outcomes[("test_role", "host4")] == "failed", run["out"]
    assert "host4 is a worker, not a manager" in run["out"]
    # The rest of what holds on host4 still passes: the failure is the role alone.
    assert outcomes[("test_swarm_active", "host4")] == "passed", run["out"]
    assert outcomes[("test_docker_daemon_answers", "host4")] == "passed", run["out"]
