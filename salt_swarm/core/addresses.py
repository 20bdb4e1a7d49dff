"""Choose the address a node advertises, listens on or sends data-path traffic from.

A spec may be an IP address (with or without port), an interface name, or a CIDR (the
node's own address inside it is chosen). ``interfaces`` is the shape Salt's
``network.interfaces`` returns: ``{name: {"inet": [{"address": ...}], "inet6": [...]}}``.
"""

from __future__ import annotations

import ipaddress
import re

from salt_swarm.core.errors import SwarmError

SWARM_PORT = 2377
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")


def split_port(spec: str, field: str = "address") -> tuple[str, int | None]:
    """'198.18.0.10:2377' -> ('198.18.0.10', 2377); '[fd00::1]:2377' -> ('fd00::1', 2377)."""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        return host, _port(rest[1:], spec, field) if rest.startswith(":") else None
    if spec.count(":") == 1:
        host, port = spec.split(":")
        return host, _port(port, spec, field)
    return spec, None


def _port(text: str, spec: str, field: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SwarmError(f"{field}: bad port in {spec!r}: must be 1-65535")
    return int(text)


def local_addresses(interfaces: dict) -> dict[str, list[str]]:
    """Interface name -> its addresses (IPv4 first, no loopback, no link-local IPv6)."""
    found: dict[str, list[str]] = {}
    for name, data in (interfaces or {}).items():
        addrs = [a["address"] for a in data.get("inet") or [] if a.get("address")]
        addrs += [
            a["address"]
            for a in data.get("inet6") or []
            if a.get("address") and not ipaddress.ip_address(a["address"]).is_link_local
        ]
        addrs = [a for a in addrs if not ipaddress.ip_address(a).is_loopback]
        if addrs:
            found[name] = addrs
    return found


def choose_address(spec: str, interfaces: dict, field: str = "advertise_addr") -> str:
    """Resolve ``spec`` to one of this node's addresses (keeping a port if given).

    Raises SwarmError naming ``field`` when the spec is malformed, the interface is
    missing or has no address, or a CIDR matches no address or several.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise SwarmError(f"{field}: expected an address, interface name or CIDR, got {spec!r}")
    spec = spec.strip()
    if "/" in spec:
        return _from_cidr(spec, interfaces, field)
    host, port = split_port(spec, field)
    suffix = f":{port}" if port else ""
    try:
        ipaddress.ip_address(host)
        return spec
    except ValueError:
        pass
    if not _IFNAME_RE.match(host) or host.replace(".", "").isdigit():
        raise SwarmError(
            f"{field}: {spec!r} is neither an IP address, an interface name nor a CIDR"
        )
    if host not in (interfaces or {}):
        raise SwarmError(
            f"{field}: no interface named {host!r} on this node "
            f"(it has: {', '.join(sorted(interfaces or {})) or 'none'})"
        )
    addrs = local_addresses({host: interfaces[host]}).get(host, [])
    if not addrs:
        raise SwarmError(f"{field}: interface {host!r} has no usable address")
    return _join(addrs[0], suffix)


def _from_cidr(spec: str, interfaces: dict, field: str) -> str:
    try:
        network = ipaddress.ip_network(spec, strict=False)
    except ValueError as exc:
        raise SwarmError(f"{field}: bad CIDR {spec!r}: {exc}") from None
    matches = sorted(
        {
            addr
            for addrs in local_addresses(interfaces).values()
            for addr in addrs
            if ipaddress.ip_address(addr) in network
        }
    )
    if not matches:
        raise SwarmError(f"{field}: this node has no address in {spec}")
    if len(matches) > 1:
        raise SwarmError(
            f"{field}: this node has several addresses in {spec} ({', '.join(matches)}); "
            "give a narrower CIDR, an interface name or the address"
        )
    return matches[0]


def _join(host: str, suffix: str) -> str:
    if suffix and ":" in host:
        return f"[{host}]{suffix}"
    return host + suffix


def with_port(addr: str, port: int = SWARM_PORT) -> str:
    """'198.18.0.10' -> '198.18.0.10:2377'; an address that has a port keeps it."""
    host, given = split_port(addr)
    return _join(host, f":{given or port}")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_pool(pool: str, field: str = "default_addr_pool") -> str:
    if not isinstance(pool, str):
        raise SwarmError(f"{field}: expected a CIDR string, got {pool!r}")
    if "/" not in pool and _is_address(pool):
        raise SwarmError(
            f"{field}: {pool!r} has no prefix length: give a CIDR such as {pool}/16 "
            "(each pool is cut into subnet_size networks, /24 by default)"
        )
    try:
        net = ipaddress.ip_network(pool, strict=True)
    except ValueError as exc:
        raise SwarmError(f"{field}: bad address pool {pool!r}: {exc}") from None
    if net.version != 4:
        raise SwarmError(f"{field}: {pool!r}: Docker's address pools are IPv4 only")
    return str(net)
