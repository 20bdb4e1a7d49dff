"""kitchen.yml: its suites name states, pillar files and verifier files that exist, and
render with Salt the way kitchen-salt lays them out in an instance.

kitchen-salt (0.7) is Ruby and not run here. ``kitchen_sandbox`` rebuilds what its
salt_solo provisioner writes under /tmp/kitchen for a suite (is_file_root copy with
salt_copy_filter, top.sls from state_top, the pillar files, minion.erb's config and
the salt_minion_extra_config drop-in) and runs salt-call on it as kitchen does, minus
applying the states.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from salt_swarm import salt_internals
from salt_swarm.core import pillar_check
from tests.verify.conftest import load_expectations

REPO = Path(__file__).resolve().parents[2]
STATES = REPO / "states"
KITCHEN = yaml.safe_load((REPO / "kitchen.yml").read_text())
ROOT_PATH = "/tmp/kitchen"  # Test Kitchen's default root_path in the instance


def rmerge(base, override):
    """Test Kitchen's deep merge of the common, platform and suite sections."""
    if not (isinstance(base, dict) and isinstance(override, dict)):
        return override
    merged = dict(base)
    for key, value in override.items():
        merged[key] = rmerge(base[key], value) if key in base else value
    return merged


SUITES = {
    suite["name"]: rmerge(KITCHEN["provisioner"], suite.get("provisioner") or {})
    for suite in KITCHEN["suites"]
}


def state_names(provisioner):
    return [
        sls for targets in provisioner["state_top"].values() for sls in sum(targets.values(), [])
    ]


def sls_file(name):
    """states/a/b.sls or states/a/b/init.sls for `a.b`, as Salt looks them up."""
    base = STATES.joinpath(*name.split("."))
    for candidate in (base.with_name(base.name + ".sls"), base / "init.sls"):
        if candidate.is_file():
            return candidate
    return None


def test_platforms_include_debian_12_and_ubuntu_24_04():
    images = {p["name"]: p.get("driver", {}).get("image") for p in KITCHEN["platforms"]}
    assert images.get("debian-12") == "debian:12"
    assert images.get("ubuntu-24.04") == "ubuntu:24.04"


def test_docker_driver_runs_privileged_with_systemd():
    driver = KITCHEN["driver"]
    assert driver["name"] in ("docker", "dokken")
    assert driver["privileged"] is True
    assert "systemd" in driver["run_command"]


def test_salt_solo_provisioner_with_the_swarm_formula():
    prov = KITCHEN["provisioner"]
    assert prov["name"] == "salt_solo"
    assert prov["formula"] == "swarm"
    assert prov["is_file_root"] is True


def test_suites_single_and_ha():
    assert {"single", "ha"} <= set(SUITES)


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_state_resolves_to_a_file_under_states(suite):
    names = state_names(SUITES[suite])
    assert "swarm" in names and "swarm.engine" in names
    missing = [n for n in names if sls_file(n) is None]
    assert not missing, f"{suite}: no SLS file under states/ for {missing}"


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_pillar_file_exists_and_the_top_names_only_those(suite):
    prov = SUITES[suite]
    files = prov.get("pillars_from_files") or {}
    assert files, suite
    missing = [src for src in files.values() if not (REPO / src).is_file()]
    assert not missing, f"{suite}: pillar files missing: {missing}"
    available = {Path(k).with_suffix("").as_posix() for k in [*files, *(prov.get("pillars") or {})]}
    top = prov["pillars"]["top.sls"]
    named = [sls for targets in top.values() for sls in sum(targets.values(), [])]
    assert set(named) <= available, f"{suite}: top names {set(named) - available}"


def test_pillar_files_come_from_the_example_folder():
    for prov in SUITES.values():
        for src in prov["pillars_from_files"].values():
            assert src.startswith("pillar.example/"), src


def test_verifier_runs_tests_verify_with_an_expectation_file_per_suite():
    verifier = KITCHEN["verifier"]
    assert verifier["name"] == "shell"
    command = verifier["command"]
    assert " tests/verify " in f" {command} "
    assert (REPO / "tests" / "verify").is_dir()
    assert list((REPO / "tests" / "verify").glob("test_*.py"))
    assert "--hosts=" in command and "--swarm-expect=" in command
    template = command.split("--swarm-expect=")[1].split()[0].strip("\"'")
    for suite in SUITES:
        path = REPO / template.replace("${KITCHEN_SUITE}", suite)
        assert path.is_file(), path
        expect = load_expectations(str(path))
        assert expect["defaults"]["role"] == "manager"


def _filtered(name):
    return name in KITCHEN["provisioner"]["salt_copy_filter"]


def test_copy_keeps_what_the_instance_needs():
    for needed in ("states", "salt_swarm", "setup.py", "pyproject.toml", "README.md"):
        assert not _filtered(needed), needed
        assert (REPO / needed).exists(), needed
    prov = KITCHEN["provisioner"]
    collection = f"{ROOT_PATH}/srv/salt/{prov['formula']}"
    roots = prov["salt_minion_extra_config"]["file_roots"]["base"]
    assert roots == [f"{ROOT_PATH}/srv/salt", f"{collection}/states"]
    assert collection in prov["pre_salt_command"]


def test_no_file_at_the_top_of_the_repo_shadows_the_formula():
    """The repo is copied to srv/salt/swarm: a top-level init.sls would become `swarm`."""
    formula = STATES / "swarm"
    clashes = [
        str(p.relative_to(formula))
        for p in formula.rglob("*")
        if p.is_file() and (REPO / p.relative_to(formula)).exists()
    ]
    assert not clashes


def _copy_filtered(src: Path, dest: Path):
    shutil.copytree(src, dest, ignore=lambda _dir, names: [n for n in names if _filtered(n)])


def kitchen_sandbox(tmp_path, provisioner) -> Path:
    """What salt_solo puts under root_path for this suite; returns the salt config dir."""
    root = tmp_path / "kitchen"
    _copy_filtered(REPO, root / "srv" / "salt" / provisioner["formula"])
    (root / "srv" / "salt" / "top.sls").write_text(yaml.safe_dump(provisioner["state_top"]))
    pillar = root / "srv" / "pillar"
    pillar.mkdir(parents=True)
    for name, content in (provisioner.get("pillars") or {}).items():
        (pillar / name).write_text(yaml.safe_dump(content))
    for name, src in provisioner["pillars_from_files"].items():
        shutil.copy(REPO / src, pillar / name)
    conf = root / "etc" / "salt"
    (conf / "minion.d").mkdir(parents=True)
    minion = {  # kitchen-salt's minion.erb
        "local": True,
        "state_top": "top.sls",
        "root_dir": str(root),
        "file_roots": {"base": [str(root / "srv" / "salt"), str(root / "srv" / "spm" / "salt")]},
        "pillar_roots": {"base": [str(pillar), str(root / "srv" / "spm" / "pillar")]},
    }
    (conf / "minion").write_text(yaml.safe_dump(minion))
    extra = json.loads(
        json.dumps(provisioner["salt_minion_extra_config"]).replace(ROOT_PATH, str(root))
    )
    (conf / "minion.d" / "99-minion.conf").write_text(yaml.safe_dump(extra))
    return conf


def salt_call(conf: Path, provisioner, *args):
    """salt-call as kitchen-salt runs it: --config-dir and --id, no --local."""
    exe = Path(sys.executable).with_name("salt-call")
    argv = [str(exe), f"--config-dir={conf}", f"--id={provisioner['salt_minion_id']}"]
    res = subprocess.run(
        [*argv, "--out=json", "--log-level=quiet", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("SALT_")},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads(res.stdout)["local"]


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_suite_renders_in_kitchen_salts_layout(tmp_path, suite):
    prov = SUITES[suite]
    conf = kitchen_sandbox(tmp_path, prov)

    # Salt 3008 masks pillar values in pillar.get's output unless asked not to; 3006
    # and 3007 have no masking (and refuse the argument).
    unmask = ["unmask=True"] if salt_internals.salt_version() >= (3008, 0) else []
    swarm = salt_call(conf, prov, "pillar.get", "swarm", *unmask)
    assert pillar_check.problems(swarm) == [], swarm
    assert swarm["first_manager"] == prov["salt_minion_id"]
    assert swarm["engine"]["install"] is True

    highstate = salt_call(conf, prov, "state.show_highstate")
    assert isinstance(highstate, dict), highstate  # a list holds render errors
    by_function = {
        f"{module}.{arg}": (sid, body)
        for sid, body in highstate.items()
        for module, args in body.items()
        if not module.startswith("__")
        for arg in args
        if isinstance(arg, str)
    }
    assert by_function["pkg.installed"][1]["__sls__"] == "swarm.engine"
    assert by_function["service.running"][1]["__sls__"] == "swarm.engine"
    sid, body = by_function["swarm.initialized"]
    assert body["__sls__"] == "swarm.first"
    args = {k: v for arg in body["swarm"] if isinstance(arg, dict) for k, v in arg.items()}
    assert args["advertise_addr"] == "eth0"
    assert args["default_addr_pool"] == swarm["init"]["default_addr_pool"]
    assert args.get("autolock", False) is bool(swarm["init"].get("autolock", False))
