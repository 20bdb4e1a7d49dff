"""core/placement.read: the manager's view the rolling maintenance reads, trimmed."""

from salt_swarm.core import placement


class Api:
    def nodes(self):
        return [
            {
                "ID": "n1",
                "Spec": {"Role": "manager", "Availability": "active", "Labels": {}},
                "Status": {"State": "ready", "Addr": "198.18.0.2"},
                "ManagerStatus": {"Reachability": "reachable", "Leader": True},
                "Description": {
                    "Hostname": "m1",
                    "Resources": {"NanoCPUs": 4 * 10**9, "MemoryBytes": 2**32},
                },
            }
        ]

    def services(self):
        spec = {
            "Name": "web",
            "Mode": {"Replicated": {"Replicas": 2}},
            "TaskTemplate": {
                "ContainerSpec": {"Image": "busybox", "Env": ["PASSWORD=x"]},
                "Resources": {"Reservations": {"MemoryBytes": 2**20}},
            },
        }
        return [{"ID": "s1", "Spec": spec}]

    def tasks(self, filters):
        assert filters == {"desired-state": "running"}
        task = {"ServiceID": "s1", "NodeID": "n1", "DesiredState": "running"}
        return [{**task, "Status": {"State": "running"}, "Spec": {"ContainerSpec": {}}}]


class Client:
    api = Api()

    def info(self):
        return {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True, "NodeID": "n1"}}


def test_the_view_holds_what_the_checks_read_and_no_container_spec():
    view = placement.read(Client())
    assert [n["hostname"] for n in view["nodes"]] == ["m1"]
    assert view["capacity"] == {"n1": {"NanoCPUs": 4 * 10**9, "MemoryBytes": 2**32}}
    (web,) = view["services"]
    assert web["Spec"]["TaskTemplate"] == {
        "Placement": {"Constraints": []},
        "Resources": {"Reservations": {"MemoryBytes": 2**20}},
    }
    assert "PASSWORD" not in repr(view)  # a service's env stays on the manager
    assert view["tasks"] == {
        "s1": [{"NodeID": "n1", "DesiredState": "running", "Status": {"State": "running"}}]
    }
