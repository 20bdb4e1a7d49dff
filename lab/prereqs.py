"""What the lab needs on the machine, and installing what is missing (Debian, root)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

# command -> Debian package that provides it
COMMANDS = {
    "dockerd": "docker.io",
    "containerd": "containerd",
    "docker": "docker.io",
    "ip": "iproute2",
    "iptables": "iptables",
    "nsenter": "util-linux",
    "unshare": "util-linux",
}
PYTHON_MODULES = {"salt": "salt>=3006", "docker": "docker>=7", "yaml": "pyyaml"}


class MissingPrerequisite(RuntimeError):
    pass


def missing_commands() -> dict[str, str]:
    return {cmd: pkg for cmd, pkg in COMMANDS.items() if not shutil.which(cmd)}


def missing_modules() -> dict[str, str]:
    return {mod: req for mod, req in PYTHON_MODULES.items() if not importlib.util.find_spec(mod)}


def ensure(install: bool = True, log=print) -> None:
    """Install what is missing where we can, else raise naming every missing piece."""
    if os.geteuid() != 0:
        raise MissingPrerequisite("the lab needs root (network namespaces, dockerd)")
    cmds = missing_commands()
    if cmds and install and shutil.which("apt-get"):
        packages = sorted(set(cmds.values()))
        log(f"installing {' '.join(packages)} with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=False, env=env)
        cmds = missing_commands()
    mods = missing_modules()
    if mods and install:
        log(f"installing {' '.join(mods.values())} with pip")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *mods.values()], check=False)
        mods = missing_modules()
    problems = [f"command {c} (Debian package {p})" for c, p in sorted(cmds.items())]
    problems += [f"Python module {m} (pip install '{r}')" for m, r in sorted(mods.items())]
    if problems:
        raise MissingPrerequisite("the lab is missing: " + "; ".join(problems))
