"""Overlay networks: settings checked first, a network never recreated behind the
user's back, removal refused while in use."""

import pytest

from salt_swarm.core import networks
from salt_swarm.core.errors import SwarmError


class API:
    def __init__(self, nets=(), services=(), pools=("198.19.0.0/16",)):
        self.nets, self.listed, self.pools, self.calls = list(nets), list(services), pools, []

    def networks(self, names=None):
        return [n for n in self.nets if not names or n["Name"] in names]

    def inspect_network(self, ident):
        return next(n for n in self.nets if n["Id"] == ident)

    def inspect_swarm(self):
        return {"DefaultAddrPool": list(self.pools)}

    def services(self):
        return self.listed

    def create_network(self, name, **kwargs):
        self.calls.append(("create", name, kwargs))

    def remove_network(self, ident):
        self.calls.append(("remove", ident))
        self.nets = [n for n in self.nets if n["Id"] != ident]


class Client:
    def __init__(self, **kwargs):
        self.api = API(**kwargs)

    def info(self):
        return {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True, "NodeID": "n"}}


def backend(**more):
    return {
        "Name": "backend",
        "Id": "nid",
        "Driver": "overlay",
        "Attachable": True,
        "Options": {"com.docker.network.driver.overlay.vxlanid_list": "4097"},
        "IPAM": {"Config": [{"Subnet": "198.19.5.0/24", "Gateway": "198.19.5.1"}]},
        **more,
    }


@pytest.mark.parametrize(
    "conf, message",
    [
        ({"driver": "bridge"}, "overlay networks"),
        ({"subnet": "198.19.5.1/24"}, "not a network address"),
        ({"subnet": "198.19.5.0/24", "gateway": "198.19.6.1"}, "not inside subnet"),
        ({"gateway": "198.19.5.1"}, "only together with subnet"),
        ({"atachable": True}, "did you mean 'attachable'"),
        ({"attachable": "yes"}, "expected true or false"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(conf, message):
    with pytest.raises(SwarmError, match=message):
        networks.wanted("backend", conf)


def test_a_subnet_outside_the_pools_is_refused_before_anything_is_made():
    client = Client()
    with pytest.raises(SwarmError, match="outside the swarm's address pools"):
        networks.network_present(client, "backend", {"subnet": "10.9.0.0/24"})
    assert client.api.calls == []


def test_a_new_network_is_made_once_and_test_mode_only_tells():
    client = Client()
    told = networks.network_present(client, "backend", {"attachable": True}, test=True)
    assert told["changed"] and client.api.calls == []
    networks.network_present(client, "backend", {"attachable": True, "encrypted": True})
    ((_, name, kwargs),) = client.api.calls
    assert name == "backend" and kwargs["attachable"] is True and kwargs["scope"] == "swarm"
    assert kwargs["options"] == {"encrypted": ""} and kwargs["driver"] == "overlay"


def test_an_existing_network_as_wanted_is_left_and_one_that_differs_is_an_error():
    client = Client(nets=[backend()])
    same = {"attachable": True, "subnet": "198.19.5.0/24"}
    assert networks.network_present(client, "backend", same)["changed"] is False
    assert networks.network_present(client, "backend", {"attachable": True})["changed"] is False
    with pytest.raises(SwarmError, match=r"other settings \(attachable, encrypted\)"):
        networks.network_present(client, "backend", {"encrypted": True})
    assert client.api.calls == []


def test_removal_is_refused_while_a_service_uses_the_network():
    used = {"Spec": {"Name": "web", "TaskTemplate": {"Networks": [{"Target": "nid"}]}}}
    client = Client(nets=[backend()], services=[used])
    with pytest.raises(SwarmError, match=r"in use by service\(s\) web"):
        networks.network_absent(client, "backend")
    free = Client(nets=[backend()])
    assert networks.network_absent(free, "backend")["comment"] == "network backend removed"
    assert networks.network_absent(free, "backend")["changed"] is False
