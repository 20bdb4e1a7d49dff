"""Names, addresses and paths of the lab. One lab per machine."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

BRIDGE = "sswbr0"
# A bridge takes the lowest MAC of its ports unless given one: each host added or
# removed could change it, and the hosts' ARP entries for the master would go stale.
BRIDGE_MAC = "02:53:53:57:00:01"  # locally administered
NETNS_PREFIX = "ssw-"
VETH_PREFIX = "sswv"
CGROUP_NAME = "salt-swarm-lab"

# Everything stays in 198.18.0.0/15 (RFC 2544 benchmarking range): hosts on
# 198.18.0.0/24, the swarm's overlay pools in 198.19.0.0/17 and each dockerd's
# local pools in 198.19.128.0/17, so the two kinds of pools never overlap.
HOST_NETWORK = ipaddress.ip_network("198.18.0.0/24")
MASTER_ADDR = "198.18.0.1"
FIRST_HOST_OCTET = 10
MAX_HOSTS = 240
SWARM_ADDR_POOL = "198.19.0.0/17"
DOCKERD_LOCAL_POOL = "198.19.128.0/17"

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
RESERVED_NAMES = {"master", "pillar", "cgroup"}


def default_root() -> Path:
    return Path(os.environ.get("SALT_SWARM_LAB_DIR", "/var/lib/salt-swarm-lab"))


def check_name(name: str) -> str:
    if not NAME_RE.match(name) or name in RESERVED_NAMES:
        raise ValueError(
            f"bad lab host name {name!r}: use lowercase letters, digits and '-', "
            f"starting with a letter, at most 31 characters, not one of {sorted(RESERVED_NAMES)}"
        )
    return name


def host_addr(index: int) -> str:
    if not 0 <= index < MAX_HOSTS:
        raise ValueError(f"lab host index {index} out of range (at most {MAX_HOSTS} hosts)")
    return str(HOST_NETWORK.network_address + FIRST_HOST_OCTET + index)


def netns_name(name: str) -> str:
    return NETNS_PREFIX + name


def veth_name(index: int) -> str:
    return f"{VETH_PREFIX}{index}"


@dataclass(frozen=True)
class HostPaths:
    """Files of one lab host; ``root`` doubles as the minion's Salt ``root_dir``."""

    root: Path

    @property
    def uts(self) -> Path:
        return self.root / "uts.ns"

    @property
    def minion_conf_dir(self) -> Path:
        return self.root / "etc" / "salt"

    @property
    def minion_log(self) -> Path:
        return self.root / "minion.out"

    @property
    def docker_data(self) -> Path:
        return self.root / "docker" / "data"

    @property
    def docker_exec(self) -> Path:
        return self.root / "docker" / "exec"

    @property
    def docker_pidfile(self) -> Path:
        return self.root / "docker" / "dockerd.pid"

    @property
    def docker_sock(self) -> Path:
        return self.root / "docker.sock"

    @property
    def docker_url(self) -> str:
        return f"unix://{self.docker_sock}"

    @property
    def cgroup_keep(self) -> Path:
        return self.root / "docker" / "cgroup.keep"

    @property
    def docker_log(self) -> Path:
        return self.root / "dockerd.log"


@dataclass(frozen=True)
class LabPaths:
    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "lab.json"

    @property
    def master_root(self) -> Path:
        return self.root / "master"

    @property
    def master_conf_dir(self) -> Path:
        return self.master_root / "etc" / "salt"

    @property
    def master_log(self) -> Path:
        return self.master_root / "master.out"

    @property
    def pillar_link(self) -> Path:
        return self.root / "pillar"

    def host(self, name: str) -> HostPaths:
        return HostPaths(self.root / check_name(name))
