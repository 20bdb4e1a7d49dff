"""Names, addresses and paths of the lab.

One machine may hold several labs side by side (the test suite runs two at once),
each named by its index, ``SALT_SWARM_LAB_INDEX`` (0 to 9, default 0): its own
bridge, host network, namespaces, cgroup and folder. Lab 0 keeps the plain names.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

MAX_LABS = 10


def lab_index(environ=os.environ) -> int:
    raw = environ.get("SALT_SWARM_LAB_INDEX", "0").strip() or "0"
    if not raw.isdigit() or int(raw) >= MAX_LABS:
        raise ValueError(
            f"SALT_SWARM_LAB_INDEX={raw!r}: expected a number from 0 to {MAX_LABS - 1}"
        )
    return int(raw)


@dataclass(frozen=True)
class LabNames:
    """What tells one lab on the machine from another."""

    bridge: str
    bridge_mac: str
    netns_prefix: str
    veth_prefix: str
    cgroup: str
    host_network: ipaddress.IPv4Network


def lab_names(index: int) -> LabNames:
    tag = "" if index == 0 else str(index)
    return LabNames(
        bridge=f"sswbr{index}",
        bridge_mac=f"02:53:53:57:00:{index + 1:02x}",  # locally administered
        # No lab's prefix is the start of another's: "ssw-" / "ssw1-", "sswv" / "ssw1v".
        netns_prefix=f"ssw{tag}-",
        veth_prefix=f"ssw{tag}v",
        cgroup="salt-swarm-lab" + (f"-{tag}" if tag else ""),
        host_network=ipaddress.ip_network(f"198.18.{index}.0/24"),
    )


LAB_INDEX = lab_index()
_NAMES = lab_names(LAB_INDEX)
BRIDGE = _NAMES.bridge
# A bridge takes the lowest MAC of its ports unless given one: each host added or
# removed could change it, and the hosts' ARP entries for the master would go stale.
BRIDGE_MAC = _NAMES.bridge_mac
NETNS_PREFIX = _NAMES.netns_prefix
VETH_PREFIX = _NAMES.veth_prefix
CGROUP_NAME = _NAMES.cgroup

# Everything stays in 198.18.0.0/15 (RFC 2544 benchmarking range): hosts on
# 198.18.<lab>.0/24, the swarm's overlay pools in 198.19.0.0/17 and each dockerd's
# local pools in 198.19.128.0/17, so the two kinds of pools never overlap. The pools
# live inside the hosts' own namespaces: labs side by side may use the same ones.
HOST_NETWORK = _NAMES.host_network
MASTER_ADDR = str(HOST_NETWORK.network_address + 1)
FIRST_HOST_OCTET = 10
MAX_HOSTS = 240
SWARM_ADDR_POOL = "198.19.0.0/17"
DOCKERD_LOCAL_POOL = "198.19.128.0/17"

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
RESERVED_NAMES = {"master", "pillar", "cgroup"}


def default_root() -> Path:
    return Path(os.environ.get("SALT_SWARM_LAB_DIR", f"/var/lib/{CGROUP_NAME}"))


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

    @property
    def file_roots(self) -> Path:
        """The master's own file_roots: empty; the formula comes from the package."""
        return self.master_root / "srv" / "salt"

    def host(self, name: str) -> HostPaths:
        return HostPaths(self.root / check_name(name))
