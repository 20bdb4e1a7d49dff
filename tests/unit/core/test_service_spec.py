"""A service as the user writes it: checked before anything changes, turned into
Docker's spec, and compared with a running service so Docker's own defaults and keys
left out are no drift."""

import re

import pytest

from salt_swarm.core import service_spec
from salt_swarm.core.errors import SwarmError
from salt_swarm.core.units import duration_ns, shown_duration, size_bytes


class Names(service_spec.Resolver):
    def network_id(self, name):
        if name == "missing":
            raise SwarmError("networks: no network named 'missing'")
        return "id-" + name

    def network_name(self, ident):
        return ident.removeprefix("id-")

    def secret(self, name):
        return "sid-" + name, name + "_2"

    def config(self, name):
        return "cid-" + name, name + "_1"


NAMES = Names()


def wanted(spec, name="web"):
    return service_spec.wanted(name, spec, NAMES)


def test_a_spec_becomes_dockers():
    want = wanted(
        {
            "image": "ssw-busybox:lab",
            "command": "sleep 3600",
            "env": {"A": "1", "B": True},
            "replicas": 2,
            "constraints": ["node.role==worker"],
            "ports": ["8080:80", {"target": 53, "protocol": "udp", "mode": "host"}],
            "secrets": ["db"],
            "networks": ["backend"],
            "update_config": {"parallelism": 1, "delay": "1m30s", "failure_action": "rollback"},
            "resources": {"limits": {"cpus": 0.5, "memory": "64M"}},
        }
    )
    spec = want.spec()
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert spec["Name"] == "web"
    assert container["Image"] == "ssw-busybox:lab" and container["Args"] == ["sleep", "3600"]
    assert container["Env"] == ["A=1", "B=true"]
    assert spec["Mode"] == {"Replicated": {"Replicas": 2}}
    assert spec["EndpointSpec"]["Ports"] == [
        {"Protocol": "tcp", "PublishMode": "ingress", "TargetPort": 80, "PublishedPort": 8080},
        {"Protocol": "udp", "PublishMode": "host", "TargetPort": 53},
    ]
    assert container["Secrets"] == [
        {
            "File": {"Name": "db", "UID": "0", "GID": "0", "Mode": 0o444},
            "SecretID": "sid-db",
            "SecretName": "db_2",
        }
    ]
    assert spec["TaskTemplate"]["Networks"] == [{"Target": "id-backend"}]
    assert spec["UpdateConfig"] == {
        "Parallelism": 1,
        "Delay": 90 * 10**9,
        "FailureAction": "rollback",
    }
    assert spec["TaskTemplate"]["Resources"] == {
        "Limits": {"NanoCPUs": 500_000_000, "MemoryBytes": 64 << 20}
    }


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"replicas": 1}, "image: required"),
        ({"image": "Bad/Name"}, "not an image reference"),
        ({"image": "a", "enviroment": {}}, "unknown key 'enviroment' (did you mean 'env'?)"),
        ({"image": "a", "replicas": -1}, "replicas: expected an integer >= 0"),
        ({"image": "a", "mode": "global", "replicas": 2}, "replicas: not with mode global"),
        ({"image": "a", "constraints": ["zone=a"]}, "is not a constraint"),
        ({"image": "a", "ports": ["80:99999"]}, "expected an integer <= 65535"),
        ({"image": "a", "update_config": {"failure_action": "retry"}}, "failure_action"),
        ({"image": "a", "update_config": {"paralelism": 1}}, "did you mean 'parallelism'"),
        ({"image": "a", "resources": {"limits": {"memory": "lots"}}}, "not a size"),
        ({"image": "a", "healthcheck": {"interval": "often"}}, "not a duration"),
        ({"image": "a", "networks": ["missing"]}, "no network named 'missing'"),
        ({"image": "a", "env": ["NOEQUALS"]}, "env: expected a mapping"),
    ],
)
def test_bad_input_is_refused_naming_the_field(spec, message):
    with pytest.raises(SwarmError, match=re.escape(message)):
        wanted(spec)


def test_a_bad_service_name_is_refused():
    with pytest.raises(SwarmError, match="not a service name"):
        wanted({"image": "a"}, name="bad name")


def running(**container):
    """A service spec as Docker returns it, with the defaults Docker fills in."""
    return {
        "Name": "web",
        "Labels": {},
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": "ssw-busybox:lab@sha256:" + "a" * 64,
                "Isolation": "default",
                "Args": ["sleep", "3600"],
                **container,
            },
            "Resources": {"Limits": {}, "Reservations": {}},
            "RestartPolicy": {"Condition": "any", "Delay": 5 * 10**9, "MaxAttempts": 0},
            "Placement": {"Platforms": [{"Architecture": "amd64", "OS": "linux"}]},
            "ForceUpdate": 0,
            "Runtime": "container",
        },
        "Mode": {"Replicated": {"Replicas": 2}},
        "UpdateConfig": {
            "Parallelism": 1,
            "FailureAction": "rollback",
            "Monitor": 5 * 10**9,
            "MaxFailureRatio": 0,
            "Order": "stop-first",
        },
        "EndpointSpec": {"Mode": "vip"},
    }


def test_docker_defaults_and_keys_left_out_are_no_drift():
    want = wanted(
        {
            "image": "ssw-busybox:lab",
            "command": ["sleep", "3600"],
            "replicas": 2,
            "update_config": {"failure_action": "rollback"},
            "restart_policy": {"condition": "any"},
        }
    )
    assert service_spec.differences(want, running(), NAMES) == {}


def test_differences_are_named_by_the_users_keys():
    want = wanted(
        {
            "image": "ssw-busybox:lab",
            "env": {"A": "2"},
            "replicas": 5,
            "update_config": {"monitor": "10s"},
        }
    )
    found = service_spec.differences(want, running(Env=["A=1"]), NAMES)
    assert found == {
        "env": {"old": ["A=1"], "new": ["A=2"]},
        "mode": {"old": "replicated:2", "new": "replicated:5"},
        "update_config": {"old": {"Monitor": "5s"}, "new": {"Monitor": "10s"}},
    }


def test_an_empty_value_clears_a_key_and_a_pinned_digest_counts():
    want = wanted({"image": "ssw-busybox:lab@sha256:" + "b" * 64, "env": {}})
    found = service_spec.differences(want, running(Env=["A=1"]), NAMES)
    assert set(found) == {"image", "env"} and found["env"]["new"] is None


def test_an_update_keeps_what_the_user_does_not_manage():
    current = running(Env=["A=1"], Hostname="h1")
    spec = wanted({"image": "ssw-busybox:lab", "env": {"A": "2"}}).spec(current)
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert container["Env"] == ["A=2"] and container["Hostname"] == "h1"
    assert spec["UpdateConfig"]["Order"] == "stop-first"
    assert current["TaskTemplate"]["ContainerSpec"]["Env"] == ["A=1"]  # not changed


@pytest.mark.parametrize(
    "text, ns", [("1m30s", 90 * 10**9), ("500ms", 5 * 10**8), (2, 2 * 10**9), ("1h", 3600 * 10**9)]
)
def test_durations(text, ns):
    assert duration_ns(text, "d") == ns
    assert duration_ns(shown_duration(ns), "d") == ns


@pytest.mark.parametrize(
    "text, size", [("64M", 64 << 20), ("1g", 1 << 30), ("512k", 512 << 10), (10, 10)]
)
def test_sizes(text, size):
    assert size_bytes(text, "s") == size
