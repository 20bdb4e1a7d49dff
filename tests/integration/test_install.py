"""`pip install .` into a fresh venv makes Salt find the extension by itself."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_fresh_venv_install_lists_swarm_functions(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build"),
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # --no-compile: byte-compiling all of Salt is a fifth of the install here, and
    # what is checked (the loader finding the extension) compiles what it imports.
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--no-compile", str(src)],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]

    conf = tmp_path / "conf"
    conf.mkdir()
    # No extension_modules, no module copying: only an isolated root_dir.
    (conf / "minion").write_text(yaml.safe_dump({"root_dir": str(tmp_path / "root")}))
    res = subprocess.run(
        [str(venv / "bin" / "salt-call"), "--local", "-c", str(conf), "--out=json"]
        + ["sys.list_functions", "swarm"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "swarm.info" in res.stdout
