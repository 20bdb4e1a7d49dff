"""The README's cloud-init user-data (the ```yaml block that starts with #cloud-config)
works as written on stock Debian 12 and Ubuntu 24.04 cloud images.

Checked here, without a cloud: it is valid YAML with ``#cloud-config`` first; every
package it installs is one checked by hand in both distributions (DISTRO_PACKAGES
below), and nothing needs a package repository the example does not add; the minion
config and pillar files it writes parse, the pillar passes salt-swarm's own check and
the etcd profile is one the driver accepts, in the store layout and with the users of
docs/token-store.md; every ``runcmd`` command is installed or created by the example
itself; and salt-call renders the formula with exactly those files, as a manager and
as a worker.
"""

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from salt_swarm.core import pillar_check
from salt_swarm.core.etcd_client import EtcdClient
from salt_swarm.core.kv_stores import find_profile, parse_sdb_uri

REPO = Path(__file__).resolve().parents[3]
README = REPO / "README.md"
TOKEN_STORE_DOC = REPO / "docs" / "token-store.md"

# Binary packages checked by hand on 2026-12-07 in both Debian 12 "bookworm" (main) and
# Ubuntu 24.04 "noble" (main or universe; Ubuntu's cloud images enable both). Debian:
# `apt-cache policy` / `apt-cache show` on a Debian 12 machine with only bookworm,
# bookworm-updates and bookworm-security main configured, which is what
# packages.debian.org/bookworm lists. Ubuntu: packages.ubuntu.com pages for noble:
#   docker.io        source docker.io-app, universe   packages.ubuntu.com/source/noble/docker.io-app
#                    (Debian: 20.10.24+dfsg1-1+deb12u1, section admin)
#   git              main                             packages.ubuntu.com/noble/s390x/git (all arches)
#   python3-venv     universe (Debian: main)          packages.ubuntu.com/noble/amd64/python3-venv
#   libpython3-dev   main (Python.h, pyconfig.h)      packages.ubuntu.com/noble-updates/amd64/libpython3-dev
#   build-essential  (component not shown)            named, with its description, as a dependency on
#                                                     noble's packaging-dev and dpkg-dev pages
#                                                     (packages.ubuntu.com/noble/packaging-dev)
# NOT in either: salt-minion. packages.debian.org/source/salt lists buster, bullseye and
# sid, not bookworm (and apt-cache finds none there); packages.ubuntu.com/jammy/admin/salt-minion
# (3004.1, universe) lists jammy as its only suite. Salt's own packages come from the Salt
# Project's repository (packages.broadcom.com), which must then be added under `apt: sources`.
DISTRO_PACKAGES = frozenset(
    {"docker.io", "git", "python3-venv", "libpython3-dev", "build-essential"}
)

# Packages only the Salt Project's repository has, and the host that serves it.
SALT_PROJECT_PACKAGES = frozenset(
    {"salt-common", "salt-minion", "salt-master", "salt-ssh", "salt-syndic", "salt-cloud"}
)
SALT_PROJECT_REPO = "packages.broadcom.com"

# What a command on the PATH comes from: the package that installs it. `python3` is in
# every cloud image (cloud-init runs on it) and python3-venv depends on it.
PACKAGE_COMMANDS = {
    "docker.io": {"docker", "dockerd"},
    "git": {"git"},
    "python3-venv": {"python3"},
}

# What pip puts in a virtualenv's bin/ besides python and pip, by requirement name.
PIP_COMMANDS = {"salt": {"salt-call", "salt-minion", "salt-pip"}}


def readme_cloud_config_text() -> str:
    blocks = re.findall(r"^```yaml\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    found = [b for b in blocks if b.startswith("#cloud-config")]
    assert len(found) == 1, "README.md needs exactly one ```yaml block starting with #cloud-config"
    return found[0]


CLOUD_CONFIG_TEXT = readme_cloud_config_text()
CLOUD_CONFIG = yaml.safe_load(CLOUD_CONFIG_TEXT)


def written(config, path) -> str:
    matches = [f["content"] for f in config["write_files"] if f["path"] == path]
    assert len(matches) == 1, f"write_files has no (or several) {path}"
    return matches[0]


MINION_CONF = yaml.safe_load(written(CLOUD_CONFIG, "/etc/salt/minion.d/swarm.conf"))
PILLAR_TOP = yaml.safe_load(written(CLOUD_CONFIG, "/srv/pillar/top.sls"))
PILLAR = yaml.safe_load(written(CLOUD_CONFIG, "/srv/pillar/swarm.sls"))


def unprovided_packages(config) -> list[str]:
    """Packages that neither distribution has, unless the example adds the repository
    that does (Salt's own packages with the Salt Project's repository in apt: sources)."""
    packages = set(config.get("packages") or [])
    sources = ((config.get("apt") or {}).get("sources")) or {}
    salt_repo = any(SALT_PROJECT_REPO in str((s or {}).get("source", "")) for s in sources.values())
    provided = DISTRO_PACKAGES | (SALT_PROJECT_PACKAGES if salt_repo else frozenset())
    return sorted(packages - provided)


def _argv(entry) -> list[str]:
    return list(map(str, entry)) if isinstance(entry, list) else shlex.split(entry)


def _under(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def runcmd_problems(config) -> list[str]:
    """Every runcmd command comes from a package the example installs, or from a path an
    earlier step created; every absolute path it names was written or created before
    (a clone or virtualenv destination is created by its own step)."""
    problems = []
    commands = set()
    for package in config.get("packages") or []:
        commands |= PACKAGE_COMMANDS.get(package, set())
    written_paths = {f["path"] for f in config.get("write_files") or []}
    created: set[str] = set()  # directories made by earlier steps
    venv_bins: dict[str, set[str]] = {}  # virtualenv -> what its bin/ holds
    for entry in config.get("runcmd") or []:
        argv = _argv(entry)
        exe, args = argv[0], argv[1:]
        makes: set[str] = set()
        if exe == "git" and args[:1] == ["clone"]:
            makes.add(args[-1])
        if exe == "python3" and args[:2] == ["-m", "venv"]:
            makes.add(args[-1])
            venv_bins[args[-1]] = {"python", "python3", "pip"}
        if exe.startswith("/"):
            venv = next((v for v in venv_bins if exe.startswith(v + "/bin/")), None)
            if venv is None or Path(exe).name not in venv_bins[venv]:
                problems.append(f"{entry!r}: {exe} is not installed by any earlier step")
            elif Path(exe).name == "pip" and args[:1] == ["install"]:
                for arg in args[1:]:
                    if arg.startswith("/"):
                        continue
                    name = Requirement(arg).name
                    venv_bins[venv] |= PIP_COMMANDS.get(name, set())
        elif exe not in commands:
            problems.append(f"{entry!r}: {exe} comes from no package in packages")
        for arg in args:
            made = arg in makes or _under(arg, created) or arg in written_paths
            if arg.startswith("/") and not made:
                problems.append(f"{entry!r}: {arg} is neither written nor made before")
        created |= makes
    return problems


def _steps(config):
    return [_argv(e) for e in config["runcmd"]]


def clone_destination(config) -> str:
    (dest,) = [a[-1] for a in _steps(config) if a[:2] == ["git", "clone"]]
    return dest


def salt_requirement(config) -> Requirement:
    reqs = [
        Requirement(arg)
        for argv in _steps(config)
        if Path(argv[0]).name == "pip" and argv[1:2] == ["install"]
        for arg in argv[2:]
        if not arg.startswith("/") and Requirement(arg).name == "salt"
    ]
    assert len(reqs) == 1, "the runcmd installs Salt with pip exactly once"
    return reqs[0]


# --- the user-data as a document ---------------------------------------------------


def test_it_is_cloud_config_yaml():
    assert CLOUD_CONFIG_TEXT.splitlines()[0] == "#cloud-config"
    assert isinstance(CLOUD_CONFIG, dict)
    assert set(CLOUD_CONFIG) <= {"packages", "write_files", "runcmd", "apt", "package_update"}


def test_packages_exist_in_debian_12_and_ubuntu_24_04():
    assert CLOUD_CONFIG["packages"], "the example installs its packages"
    assert set(CLOUD_CONFIG["packages"]) <= DISTRO_PACKAGES
    assert unprovided_packages(CLOUD_CONFIG) == []


def test_salt_minion_without_its_repository_is_refused():
    with_salt = {**CLOUD_CONFIG, "packages": [*CLOUD_CONFIG["packages"], "salt-minion"]}
    assert unprovided_packages(with_salt) == ["salt-minion"]
    elsewhere = {**with_salt, "apt": {"sources": {"x.list": {"source": "deb http://example/ x"}}}}
    assert unprovided_packages(elsewhere) == ["salt-minion"]
    salt_repo = {
        **with_salt,
        "apt": {
            "sources": {
                "salt.list": {
                    "source": "deb https://packages.broadcom.com/artifactory/saltproject-deb/ stable main"
                }
            }
        },
    }
    assert unprovided_packages(salt_repo) == []
    assert unprovided_packages({"packages": ["python3-pip"]}) == ["python3-pip"]


def test_every_written_config_file_parses():
    for entry in CLOUD_CONFIG["write_files"]:
        if entry["path"].endswith((".conf", ".sls")):
            assert isinstance(yaml.safe_load(entry["content"]), dict), entry["path"]
    mode = next(f for f in CLOUD_CONFIG["write_files"] if f["path"].startswith("/etc/salt/minion"))
    assert mode.get("permissions") == "0600", "the minion config holds the etcd password"


# --- the minion config and the pillar ----------------------------------------------


def test_minion_config_is_masterless_with_the_packaged_formula_and_the_written_pillar():
    assert MINION_CONF["file_client"] == "local"
    # The formula from the installed package: nothing of the checkout in file_roots.
    assert MINION_CONF["fileserver_backend"] == ["swarm_formula"]
    assert "file_roots" not in MINION_CONF
    assert MINION_CONF["pillar_roots"] == {"base": ["/srv/pillar"]}
    assert PILLAR_TOP == {"base": {"*": ["swarm"]}}


def test_pillar_passes_salt_swarms_own_check():
    # Masterless nodes decide their own role, so grain targets are allowed: no
    # grain_problems() here (that check is for pillar a master serves).
    assert set(PILLAR) == {"swarm"}
    assert pillar_check.problems(PILLAR["swarm"]) == []
    assert PILLAR["swarm"]["managers"]["tgt"] == f"swarm_role:{MINION_CONF['grains']['swarm_role']}"


def test_token_store_profile_is_in_the_minion_config_and_accepted_by_the_driver():
    uri = PILLAR["swarm"]["token_store"]
    name, path = parse_sdb_uri(uri)
    profile = find_profile(MINION_CONF, name, uri)
    assert profile["driver"] == "etcd_swarm"
    client = EtcdClient.from_profile(profile, f"sdb profile {name!r}")
    assert all(url.startswith("https://") for url in client.urls)
    assert profile["ca_file"] in {f["path"] for f in CLOUD_CONFIG["write_files"]}


def test_store_keys_and_etcd_users_are_those_of_the_token_store_doc():
    uri = PILLAR["swarm"]["token_store"]
    name, path = parse_sdb_uri(uri)
    profile = MINION_CONF[name]
    keys = profile["prefix"].rstrip("/") + "/" + path
    doc = TOKEN_STORE_DOC.read_text()
    assert f"grant-permission swarm-worker read {keys}/worker_token" in doc
    assert f"grant-permission swarm-manager readwrite {keys}/ --prefix=true" in doc
    assert profile["username"] == "swarm-manager"  # the example is a manager's
    assert "etcdctl user add swarm-manager" in doc and "etcdctl user add swarm-worker" in doc
    worker = readme_worker_conf()
    assert worker["swarm_etcd"]["username"] == "swarm-worker"
    assert worker["grains"]["swarm_role"] == "worker"
    assert {k: v for k, v in worker["swarm_etcd"].items() if k != "username"} == {
        k: v for k, v in profile.items() if k != "username"
    }


def readme_worker_conf() -> dict:
    """The README's worker lines of minion.d/swarm.conf (the yaml block after the user-data)."""
    blocks = re.findall(r"^```yaml\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    found = [b for b in blocks if "username: swarm-worker" in b]
    assert len(found) == 1, "README.md needs one ```yaml block with the worker's etcd user"
    return yaml.safe_load(textwrap.dedent(found[0]))


# --- runcmd ----------------------------------------------------------------------


def test_runcmd_uses_only_what_the_example_installs_or_creates():
    assert runcmd_problems(CLOUD_CONFIG) == []
    last = _steps(CLOUD_CONFIG)[-1]
    assert last[0].endswith("/bin/salt-call") and last[1:] == ["--local", "state.apply", "swarm"]


def test_runcmd_check_catches_what_a_stock_image_lacks():
    old = {
        "packages": ["docker.io", "salt-minion", "python3-pip", "git"],
        "runcmd": [
            "git clone https://github.com/salt-swarm/salt-swarm /srv/salt-swarm",
            "/opt/saltstack/salt/bin/pip install /srv/salt-swarm",
            "salt-call --local state.apply swarm",
        ],
    }
    problems = runcmd_problems(old)
    assert any("/opt/saltstack/salt/bin/pip is not installed" in p for p in problems)
    assert any("salt-call comes from no package" in p for p in problems)
    assert unprovided_packages(old) == ["python3-pip", "salt-minion"]
    reordered = {**CLOUD_CONFIG, "runcmd": list(reversed(CLOUD_CONFIG["runcmd"]))}
    assert runcmd_problems(reordered)


def test_pip_installs_the_tested_salt_that_salt_swarm_allows():
    salt = salt_requirement(CLOUD_CONFIG)
    (pinned,) = [s.version for s in salt.specifier if s.operator == "=="]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    (allowed,) = [d for d in project["dependencies"] if Requirement(d).name == "salt"]
    assert Version(pinned) in Requirement(allowed).specifier
    assert "salt==3008.4" in CLOUD_CONFIG_TEXT and "Salt 3008.4" in CLOUD_CONFIG_TEXT


def test_checkout_is_installed_into_the_same_virtualenv_as_salt():
    pip_steps = [a for a in _steps(CLOUD_CONFIG) if Path(a[0]).name == "pip"]
    assert len(pip_steps) == 1
    assert clone_destination(CLOUD_CONFIG) in pip_steps[0]
    venv = str(Path(pip_steps[0][0]).parents[1])
    assert _steps(CLOUD_CONFIG)[-1][0] == venv + "/bin/salt-call"


# --- salt-call renders the formula with these very files ----------------------------


def sandbox(tmp_path, role: str) -> Path:
    """The example's files under tmp_path (the checkout is this repository); returns
    the salt config dir. ``role`` as the README says a worker differs."""
    places = {
        clone_destination(CLOUD_CONFIG): str(REPO),
        "/etc/salt": str(tmp_path / "etc" / "salt"),
        "/srv/pillar": str(tmp_path / "pillar"),
    }
    for entry in CLOUD_CONFIG["write_files"]:
        path, content = entry["path"], entry["content"]
        for old, new in places.items():
            path, content = path.replace(old, new), content.replace(old, new)
        if role == "worker" and path.endswith("/minion.d/swarm.conf"):
            content = content.replace("swarm_role: manager", "swarm_role: worker")
            content = content.replace("username: swarm-manager", "username: swarm-worker")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content)
    conf = tmp_path / "etc" / "salt"
    (conf / "minion").write_text(yaml.safe_dump({"root_dir": str(tmp_path), "id": "web1"}))
    return conf


@pytest.mark.parametrize("role", ["manager", "worker"])
def test_formula_renders_with_the_example_files(tmp_path, role):
    conf = sandbox(tmp_path, role)
    exe = Path(sys.executable).with_name("salt-call")
    res = subprocess.run(
        [str(exe), f"--config-dir={conf}", "--local", "--out=yaml", "--log-level=quiet"]
        + ["state.show_sls", "swarm"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("SALT_")},
    )
    assert res.returncode == 0, res.stdout + res.stderr
    rendered = yaml.safe_load(res.stdout)["local"]
    assert isinstance(rendered, dict), rendered  # a list holds render errors
    (body,) = [b for b in rendered.values() if "swarm" in b]
    args = {k: v for a in body["swarm"] if isinstance(a, dict) for k, v in a.items()}
    assert "store_joined" in body["swarm"]
    assert args["role"] == role
    assert args["store"] == PILLAR["swarm"]["token_store"]
    assert args["advertise_addr"] == PILLAR["swarm"]["advertise_addr"]
