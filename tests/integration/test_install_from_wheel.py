"""The install a Salt admin does, from a fresh build: the wheel alone in a new
virtualenv with each supported Salt (the oldest and the newest), a master that
serves nothing of this repository (its formula from the package's fileserver
backend), and a 3+2 swarm bootstrapped with ``salt-run state.orchestrate
swarm.bootstrap``. README's install section says these steps.

The lab runs from that virtualenv (its daemons come from the Python that runs it),
on a lab index of its own, in a separate pytest run (``-m install``, no xdist):
scripts/test runs it after the main suite has taken its labs down.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import read_orchestrate

pytestmark = pytest.mark.install

REPO = Path(__file__).resolve().parents[2]
SALTS = ["3008.4", "3006.29"]
VENVS = Path(os.environ.get("SALT_SWARM_VENVS", "/var/lib/salt-swarm-venvs"))
LAB_INDEX = os.environ.get("SALT_SWARM_INSTALL_LAB_INDEX", "3")


def run(argv, timeout=900, **kwargs) -> subprocess.CompletedProcess:
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    return res


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    res = run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (found,) = out.glob("salt_swarm-*.whl")
    return found


def pip_install(python: Path, *args: str) -> None:
    res = run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]


def fresh_venv(salt_version: str, wheel: Path) -> Path:
    """A virtualenv with that Salt and the wheel (nothing of the checkout); the Salt
    part is kept between runs, salt-swarm is installed anew from the wheel."""
    venv = VENVS / f"wheel-salt-{salt_version}"
    python = venv / "bin" / "python"
    if not python.exists():
        res = run([sys.executable, "-m", "venv", str(venv)])
        assert res.returncode == 0, res.stderr
    pip_install(python, f"salt=={salt_version}", str(wheel))
    pip_install(python, "--force-reinstall", "--no-deps", str(wheel))
    return venv


def clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def lab(venv: Path, *args, timeout=600) -> subprocess.CompletedProcess:
    """``python -m lab ...`` with the virtualenv's Python: the lab's code comes from
    the checkout (the current folder), its daemons from the virtualenv, which see
    nothing of the checkout (no PYTHONPATH)."""
    env = clean_env()
    env["SALT_SWARM_LAB_INDEX"] = LAB_INDEX
    env.pop("SALT_SWARM_LAB_DIR", None)
    return run(
        [str(venv / "bin" / "python"), "-m", "lab", *args], timeout=timeout, cwd=REPO, env=env
    )


@pytest.mark.parametrize("salt_version", SALTS)
def test_the_wheel_alone_with_its_packaged_formula_bootstraps_a_swarm(wheel, salt_version):
    venv = fresh_venv(salt_version, wheel)
    python = str(venv / "bin" / "python")
    probe = "import salt_swarm, salt.version; print(salt_swarm.__file__, salt.version.__version__)"
    # From another folder: what the daemons import (the checkout is not on their path).
    where = run([python, "-c", probe], cwd="/", env=clean_env())
    module_file, version = where.stdout.split()
    assert module_file.startswith(str(venv)) and version == salt_version, where.stdout
    editable = list(venv.glob("lib/python*/site-packages/__editable__*"))
    assert editable == [], editable  # the wheel, not a link to this checkout
    try:
        up = lab(venv, "up", "--managers", "3", "--workers", "2")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        status = lab(venv, "status", "--json")
        assert status.returncode == 0, status.stderr
        root = Path(json.loads(status.stdout)["root"])
        master_conf = yaml.safe_load((root / "master" / "etc" / "salt" / "master").read_text())
        assert master_conf["fileserver_backend"] == ["roots", "swarm_formula"]
        for root in master_conf["file_roots"]["base"]:
            assert not Path(root).resolve().is_relative_to(REPO), root
        served = lab(
            venv, "salt-run", "fileserver.file_list", "backend=swarm_formula", "--out=json"
        )
        assert "swarm/bootstrap.sls" in json.loads(served.stdout), served.stdout

        boot = lab(venv, "salt-run", "state.orchestrate", "swarm.bootstrap")
        assert boot.returncode == 0, boot.stdout[-5000:] + boot.stderr[-3000:]
        status = lab(venv, "salt-run", "swarm.status", "--out=json")
        assert status.returncode == 0, status.stdout + status.stderr
        report = json.loads(status.stdout)
        nodes = {n["hostname"]: n for n in report["nodes"]}
        assert sorted(nodes) == ["manager1", "manager2", "manager3", "worker1", "worker2"]
        assert all(n["status"] == "ready" for n in nodes.values()), nodes
        assert [h for h, n in nodes.items() if n["role"] == "manager"] == [
            "manager1",
            "manager2",
            "manager3",
        ]
        assert report["quorum"]["has_quorum"] is True
        again = lab(venv, "salt-run", "state.orchestrate", "swarm.bootstrap")
        rerun = read_orchestrate(again.returncode, again.stdout, again.stderr)
        assert rerun.ok and rerun.changed == 0, rerun.out[-3000:]
    finally:
        down = lab(venv, "down")
        assert down.returncode == 0, down.stdout + down.stderr
