"""Bridge, network namespaces, veths, UTS namespaces and the FORWARD rule of the lab.

Every function here is idempotent: what exists already (from this run or a crashed
earlier one) is reused or repaired, never a reason to fail.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from lab.layout import (
    BRIDGE,
    BRIDGE_MAC,
    HOST_NETWORK,
    MASTER_ADDR,
    NETNS_PREFIX,
    VETH_PREFIX,
    netns_name,
    veth_name,
)

NETNS_DIR = Path("/var/run/netns")
FORWARD_RULE = ["FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT"]


class NetworkError(RuntimeError):
    pass


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(argv, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise NetworkError(f"{' '.join(argv)} failed: {res.stderr.strip() or res.stdout.strip()}")
    return res


def link_exists(name: str, netns: str | None = None) -> bool:
    argv = ["ip"] + (["-n", netns] if netns else []) + ["link", "show", name]
    return run(*argv, check=False).returncode == 0


def ensure_bridge() -> None:
    if not link_exists(BRIDGE):
        run("ip", "link", "add", BRIDGE, "type", "bridge")
    run("ip", "link", "set", BRIDGE, "address", BRIDGE_MAC)
    cidr = f"{MASTER_ADDR}/{HOST_NETWORK.prefixlen}"
    if cidr not in run("ip", "-o", "addr", "show", "dev", BRIDGE).stdout:
        run("ip", "addr", "add", cidr, "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")


def ensure_forward_rule() -> None:
    """Let bridged traffic between lab hosts pass FORWARD (br_netfilter, DROP policy)."""
    if run("iptables", "-C", *FORWARD_RULE, check=False).returncode != 0:
        run("iptables", "-I", *FORWARD_RULE)


def remove_forward_rule() -> None:
    while run("iptables", "-C", *FORWARD_RULE, check=False).returncode == 0:
        run("iptables", "-D", *FORWARD_RULE)


def ensure_host_net(name: str, index: int, addr: str) -> None:
    """Namespace ``<NETNS_PREFIX><name>`` (``ssw-host1`` in lab 0) with ``eth0`` at ``addr``, its peer on the bridge."""
    ns = netns_name(name)
    if not (NETNS_DIR / ns).exists():
        run("ip", "netns", "add", ns)
    run("ip", "-n", ns, "link", "set", "lo", "up")
    veth = veth_name(index)
    if not (link_exists(veth) and link_exists("eth0", ns)):
        if link_exists(veth):
            run("ip", "link", "del", veth)
        if link_exists("eth0", ns):
            run("ip", "-n", ns, "link", "del", "eth0")
        run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
    run("ip", "link", "set", veth, "master", BRIDGE, "up")
    cidr = f"{addr}/{HOST_NETWORK.prefixlen}"
    if cidr not in run("ip", "-n", ns, "-o", "addr", "show", "dev", "eth0").stdout:
        run("ip", "-n", ns, "addr", "flush", "dev", "eth0")
        run("ip", "-n", ns, "addr", "add", cidr, "dev", "eth0")
    run("ip", "-n", ns, "link", "set", "eth0", "up")
    # No default route on purpose: a lab host can reach the bridge and nothing else.


def ensure_uts(path: Path, hostname: str) -> None:
    """A persistent UTS namespace bound on ``path``, whose hostname is ``hostname``."""
    if is_mountpoint(path):
        current = run("nsenter", f"--uts={path}", "hostname").stdout.strip()
        if current == hostname:
            return
        run("nsenter", f"--uts={path}", "hostname", hostname)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    run("unshare", f"--uts={path}", "hostname", hostname)


def remove_host_net(name: str, index: int) -> None:
    """The host's namespace and its veth on the bridge, if there."""
    ns = netns_name(name)
    if (NETNS_DIR / ns).exists():
        run("ip", "netns", "del", ns, check=False)
    if link_exists(veth_name(index)):
        run("ip", "link", "del", veth_name(index), check=False)


def is_mountpoint(path: Path) -> bool:
    target = str(path)
    return any(m == target for m in mount_points())


def mount_points() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        # Field 5 is the mount point, octal-escaped.
        point = line.split()[4]
        points.append(point.encode().decode("unicode_escape"))
    return points


def unmount_under(root: Path) -> list[str]:
    """Unmount everything below ``root`` (nsfs, dockerd's data-root), deepest first."""
    prefix = str(root).rstrip("/") + "/"
    left = []
    for point in sorted(
        (p for p in mount_points() if p.startswith(prefix)), key=lambda p: -p.count("/")
    ):
        if (
            run("umount", point, check=False).returncode != 0
            and run("umount", "-l", point, check=False).returncode != 0
        ):
            left.append(point)
    return left


def lab_netns() -> list[str]:
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(NETNS_PREFIX))


def lab_links() -> list[str]:
    out = run("ip", "-o", "link", "show").stdout
    names = []
    for line in out.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name == BRIDGE or name.startswith(VETH_PREFIX):
            names.append(name)
    return names


def remove_all() -> None:
    """Remove every lab namespace, veth and the bridge (leftovers included)."""
    for ns in lab_netns():
        run("ip", "netns", "del", ns, check=False)
    for link in lab_links():
        if link != BRIDGE:
            run("ip", "link", "del", link, check=False)
    if link_exists(BRIDGE):
        run("ip", "link", "del", BRIDGE, check=False)
    remove_forward_rule()
