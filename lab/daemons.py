"""Command lines and config files of the lab's daemons: dockerd, salt-minion, salt-master."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

from lab.layout import (
    DOCKERD_LOCAL_POOL,
    MASTER_ADDR,
    HostPaths,
    LabPaths,
    netns_name,
)
from lab.network import NETNS_DIR

# Nodegroups as the classic mine + orchestrate recipe names them; pillar may use them.
NODEGROUPS = {"swarmmanager": "manager*", "swarmworker": "worker*"}
# The formula's reactor. Presence events stay off (master_config): hosts stopped on
# purpose in tests must not be retired behind their back; the presence reaction
# still answers events a test fires (as the master, or forged by a minion).
REACTOR = [
    {"salt/minion/*/start": ["salt://swarm/reactor/start.sls"]},
    {"salt/key": ["salt://swarm/reactor/key.sls"]},
    {"salt/presence/change": ["salt://swarm/reactor/presence.sls"]},
    {"salt/beacon/*/swarm/node/changed": ["salt://swarm/reactor/node_down.sls"]},
]


def salt_script(name: str) -> str:
    """A Salt command from the environment salt-swarm runs in (a venv first)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found beside {sys.executable} or on PATH")
    return found


def in_host(name: str, paths: HostPaths) -> list[str]:
    """Prefix that runs a command inside a lab host's network and UTS namespaces.

    nsenter, not `ip netns exec`: the latter remounts /sys, and dockerd then dies
    with "Devices cgroup isn't mounted".
    """
    return ["nsenter", f"--net={NETNS_DIR / netns_name(name)}", f"--uts={paths.uts}"]


# Inside a private mount namespace, give dockerd a sysfs of its own network namespace
# (so it sees its bridges and veths under /sys/class/net) while keeping the host's
# cgroup tree. With the host's sysfs, the overlay bridge setup half-fails and every
# swarm leave then waits 5 s for "ingress network removal".
_OWN_SYSFS = (
    'keep=$1; shift; mount --rbind /sys/fs/cgroup "$keep" && mount -t sysfs sysfs /sys '
    '&& mount --move "$keep" /sys/fs/cgroup && exec "$@"'
)


def dockerd_argv(name: str, paths: HostPaths) -> list[str]:
    paths.cgroup_keep.mkdir(parents=True, exist_ok=True)
    return [
        *in_host(name, paths),
        "unshare",
        "--mount",
        "sh",
        "-c",
        _OWN_SYSFS,
        "sh",
        str(paths.cgroup_keep),
        "dockerd",
        f"--data-root={paths.docker_data}",
        f"--exec-root={paths.docker_exec}",
        f"--pidfile={paths.docker_pidfile}",
        f"--host={paths.docker_url}",
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-forward=false",
        "--ip-masq=false",
        f"--default-address-pool=base={DOCKERD_LOCAL_POOL},size=24",
        # Distinct containerd namespaces, in case a system containerd is shared.
        f"--containerd-namespace={netns_name(name)}",
        f"--containerd-plugins-namespace={netns_name(name)}-plugins",
    ]


def minion_config(name: str, paths: HostPaths) -> dict:
    return {
        "id": name,
        "master": MASTER_ADDR,
        "root_dir": str(paths.root),
        "enable_fqdns_grains": False,
        "acceptance_wait_time": 1,
        "random_reauth_delay": 0,
        # salt-swarm is installed with pip, nothing comes from the master's _modules:
        # a highstate need not run saltutil.sync_all first (docs/install.md).
        "autoload_dynamic_modules": False,
        "swarm": {"docker_url": paths.docker_url},
    }


def minion_argv(name: str, paths: HostPaths) -> list[str]:
    return [*in_host(name, paths), salt_script("salt-minion"), "-c", str(paths.minion_conf_dir)]


def master_config(paths: LabPaths, states_dir: Path) -> dict:
    return {
        "interface": MASTER_ADDR,
        "root_dir": str(paths.master_root),
        "auto_accept": True,
        # Nothing of the checkout: the formula is served from the installed package
        # (docs/install.md); file_roots is the lab's own folder, or a bench's tree.
        "fileserver_backend": ["roots", "swarm_formula"],
        "file_roots": {"base": [str(states_dir)]},
        "pillar_roots": {"base": [str(paths.pillar_link)]},
        "nodegroups": NODEGROUPS,
        "worker_threads": 4,
        # Every salt-run (an orchestrate makes three runner clients) loads the
        # master's grains anew without it: docs/install.md, master settings.
        "grains_cache": True,
        # The formula's reactor, as docs/operations.md shows it (without
        # presence_events: see REACTOR).
        "reactor": REACTOR,
    }


def master_argv(paths: LabPaths) -> list[str]:
    return [salt_script("salt-master"), "-c", str(paths.master_conf_dir)]


def write_config(conf_dir: Path, filename: str, config: dict) -> None:
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / filename).write_text(yaml.safe_dump(config, default_flow_style=False))
