"""Overlay networks on the swarm: present with their options, absent when no service
uses them. An existing network whose options differ is reported, never recreated
behind the user's back: Docker cannot change a network in place, and removing it
means removing every service on it first."""

from __future__ import annotations

import ipaddress
import time

from salt_swarm.core import service_spec as spec_logic
from salt_swarm.core.did_you_mean import unknown_key
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.nodes import require_manager

REMOVE_SECONDS = 30
KEYS = ("driver", "attachable", "encrypted", "subnet", "gateway", "labels", "options", "internal")


def wanted(name: str, conf: dict) -> dict:
    """The checked settings: {driver, attachable, encrypted, internal, subnet,
    gateway, labels, options}."""
    spec_logic.check_name(name, "network")
    conf = dict(conf or {})
    unknown = sorted(set(conf) - set(KEYS))
    if unknown:
        raise SwarmError(unknown_key(f"network {name}", unknown[0], KEYS))
    out = {
        "driver": conf.get("driver", "overlay"),
        "attachable": spec_logic._bool(conf.get("attachable", False), "attachable"),
        "encrypted": spec_logic._bool(conf.get("encrypted", False), "encrypted"),
        "internal": spec_logic._bool(conf.get("internal", False), "internal"),
        "labels": spec_logic._string_map(conf.get("labels") or {}, "labels"),
        "options": spec_logic._string_map(conf.get("options") or {}, "options"),
        "subnet": None,
        "gateway": None,
    }
    if out["driver"] != "overlay":
        raise SwarmError(f"driver: {out['driver']!r}: swarm networks here are overlay networks")
    if conf.get("subnet") is not None:
        try:
            subnet = ipaddress.ip_network(str(conf["subnet"]), strict=True)
        except ValueError as exc:
            raise SwarmError(
                f"subnet: {conf['subnet']!r} is not a network address ({exc})"
            ) from None
        out["subnet"] = str(subnet)
        if conf.get("gateway") is not None:
            try:
                gateway = ipaddress.ip_address(str(conf["gateway"]))
            except ValueError:
                raise SwarmError(f"gateway: {conf['gateway']!r} is not an address") from None
            if gateway not in subnet:
                raise SwarmError(f"gateway: {gateway} is not inside subnet {subnet}")
            out["gateway"] = str(gateway)
    elif conf.get("gateway") is not None:
        raise SwarmError("gateway: only together with subnet")
    return out


def _pools_check(client, want: dict) -> None:
    """A subnet must lie inside the swarm's address pools (Docker's default
    10.0.0.0/8 when the swarm was made without any)."""
    if not want["subnet"]:
        return
    pools = client.api.inspect_swarm().get("DefaultAddrPool") or ["10.0.0.0/8"]
    subnet = ipaddress.ip_network(want["subnet"])
    if not any(subnet.subnet_of(ipaddress.ip_network(p)) for p in pools if _same_family(subnet, p)):
        raise SwarmError(
            f"subnet: {subnet} is outside the swarm's address pools ({', '.join(pools)})"
        )


def _same_family(subnet, pool) -> bool:
    return ipaddress.ip_network(pool).version == subnet.version


def find(client, name: str) -> dict | None:
    for net in client.api.networks(names=[name]):
        if net["Name"] == name:
            return net
    return None


def _view(net: dict) -> dict:
    options = dict(net.get("Options") or {})
    encrypted = "encrypted" in options
    options.pop("encrypted", None)
    options.pop("com.docker.network.driver.overlay.vxlanid_list", None)
    configs = (net.get("IPAM") or {}).get("Config") or []
    first = configs[0] if configs else {}
    return {
        "driver": net.get("Driver"),
        "attachable": bool(net.get("Attachable")),
        "encrypted": encrypted,
        "internal": bool(net.get("Internal")),
        "labels": net.get("Labels") or {},
        "options": options,
        "subnet": first.get("Subnet"),
        "gateway": first.get("Gateway"),
    }


def network_present(client, name: str, conf: dict, test: bool = False) -> dict:
    want = wanted(name, conf)
    require_manager(client)
    current = find(client, name)
    if current is not None:
        have = _view(client.api.inspect_network(current["Id"]))
        differ = {
            k: {"old": have[k], "new": v}
            for k, v in want.items()
            if (v is not None or k not in ("subnet", "gateway")) and have.get(k) != v
        }
        if differ:
            raise SwarmError(
                f"network {name} exists with other settings ({', '.join(sorted(differ))}); "
                "Docker cannot change a network in place: remove it (swarm.network_absent, "
                "after the services on it) to have it made anew"
            )
        return {"changed": False, "changes": {}, "comment": f"network {name} is as wanted"}
    _pools_check(client, want)
    changes = {"network": {"old": None, "new": name}}
    if test:
        return {"changed": True, "changes": changes, "comment": f"network {name} would be created"}
    options = dict(want["options"])
    if want["encrypted"]:
        options["encrypted"] = ""
    ipam = None
    if want["subnet"]:
        pool = {"Subnet": want["subnet"]}
        if want["gateway"]:
            pool["Gateway"] = want["gateway"]
        ipam = {"Driver": "default", "Config": [pool]}
    client.api.create_network(
        name,
        driver="overlay",
        options=options or None,
        ipam=ipam,
        internal=want["internal"],
        labels=want["labels"] or None,
        attachable=want["attachable"],
        scope="swarm",
    )
    return {"changed": True, "changes": changes, "comment": f"network {name} created"}


def network_absent(client, name: str, test: bool = False) -> dict:
    require_manager(client)
    current = find(client, name)
    if current is None:
        return {"changed": False, "changes": {}, "comment": f"network {name} is absent"}
    users = []
    for svc in client.api.services():
        nets = (svc["Spec"].get("TaskTemplate") or {}).get("Networks") or []
        if any(n.get("Target") in (current["Id"], name) for n in nets):
            users.append(svc["Spec"]["Name"])
    if users:
        raise SwarmError(
            f"network {name}: in use by service(s) {', '.join(sorted(users))}; remove those first"
        )
    changes = {"network": {"old": name, "new": None}}
    if test:
        return {"changed": True, "changes": changes, "comment": f"network {name} would be removed"}
    client.api.remove_network(current["Id"])
    # A swarm network goes once its last tasks are gone: wait for that, bounded.
    deadline = time.monotonic() + REMOVE_SECONDS
    while find(client, name) is not None:
        if time.monotonic() >= deadline:
            return {
                "changed": True,
                "changes": changes,
                "comment": f"network {name}: removal accepted; Docker still lists it after "
                f"{REMOVE_SECONDS} s (tasks on it still stopping)",
            }
        time.sleep(0.5)
    return {"changed": True, "changes": changes, "comment": f"network {name} removed"}
