"""Following a rollout: done only when every task the service wants runs its current
spec (made after the update when tasks are replaced); Docker's rollback or pause is
a failure naming the failed tasks."""

import pytest

from salt_swarm.core import services
from salt_swarm.core.errors import SwarmError
from tests.unit.fake_clock import Clock

NEW = {"Image": "a", "Env": ["A=2"]}
OLD = {"Image": "a", "Env": ["A=1"]}


def task(ident, spec, state="running", desired="running", created="2026-12-07T10:00:05Z", err=None):
    status = {"State": state, "Timestamp": created}
    if err:
        status["Err"] = err
    return {
        "ID": ident,
        "DesiredState": desired,
        "Status": status,
        "Spec": {"ContainerSpec": spec},
        "CreatedAt": created,
    }


class API:
    def __init__(self, tasks, replicas=2, update=None):
        self.listed, self.replicas, self.update = tasks, replicas, update

    def inspect_service(self, ident):
        mode = (
            {"Replicated": {"Replicas": self.replicas}}
            if self.replicas is not None
            else {"Global": {}}
        )
        svc = {
            "ID": ident,
            "Spec": {"Name": "web", "Mode": mode, "TaskTemplate": {"ContainerSpec": NEW}},
        }
        if self.update:
            svc["UpdateStatus"] = self.update
        return svc

    def tasks(self, filters=None):
        return self.listed


class Client:
    def __init__(self, *args, **kwargs):
        self.api = API(*args, **kwargs)


def test_done_when_every_wanted_task_runs_the_current_spec():
    state = services.rollout_state(
        Client([task("t1", NEW), task("t2", NEW), task("t0", OLD, "shutdown", "shutdown")]), "s"
    )
    assert state["done"] and (state["running"], state["wanted"]) == (2, 2)


@pytest.mark.parametrize(
    "tasks, update",
    [
        ([task("t1", NEW), task("t2", OLD)], None),  # one still on the old spec
        ([task("t1", NEW)], None),  # one missing
        ([task("t1", NEW), task("t2", NEW)], {"State": "updating"}),
        ([task("t1", NEW), task("t2", NEW, "starting")], None),
    ],
)
def test_not_done_while_anything_is_on_its_way(tasks, update):
    assert not services.rollout_state(Client(tasks, update=update), "s")["done"]


def test_tasks_made_before_the_update_do_not_count_when_tasks_are_replaced():
    since = services.timestamp_ns("2026-12-07T10:00:06Z")
    early = Client([task("t1", NEW), task("t2", NEW, created="2026-12-07T10:00:07.5Z")])
    assert services.rollout_state(early, "s", since)["running"] == 1


def test_a_global_service_is_done_when_each_of_its_tasks_runs():
    assert services.rollout_state(Client([task("t1", NEW)], replicas=None), "s")["done"]


@pytest.mark.parametrize(
    "update, said",
    [
        (
            {"State": "rollback_completed", "Message": "rollback done"},
            "rolled it back (rollback done)",
        ),
        ({"State": "paused", "Message": "update paused"}, "paused (update paused)"),
    ],
)
def test_a_rollback_or_a_pause_fails_naming_the_failed_tasks(monkeypatch, update, said):
    tasks = [
        task("t1" * 6, NEW, "failed", "shutdown", err="task: non-zero exit (3)"),
        task("t2", OLD),
    ]
    with pytest.raises(SwarmError) as caught:
        services.wait_converged(Client(tasks, update=update), "s", "web", 5, None, "updated")
    assert said in str(caught.value) and "non-zero exit (3)" in str(caught.value)


def test_a_rollout_that_does_not_converge_in_time_says_how_far_it_got(monkeypatch):
    monkeypatch.setattr(services, "time", Clock())
    with pytest.raises(SwarmError, match=r"did not converge within 15 s \(1 of 2 tasks"):
        services.wait_converged(Client([task("t1", NEW)]), "s", "web", 15, None, "created")


def test_docker_times_compare_whatever_their_fraction_length():
    assert services.timestamp_ns("2026-12-07T10:00:06.5Z") < services.timestamp_ns(
        "2026-12-07T10:00:06.51Z"
    )
    assert services.timestamp_ns("2026-12-07T11:00:06+01:00") == services.timestamp_ns(
        "2026-12-07T10:00:06Z"
    )


def test_a_label_constraint_no_node_meets_is_a_warning():
    from salt_swarm.core.cluster import NodeView

    nodes = [NodeView("n1", "h1", "worker", "active", "ready", "", labels={"zone": "a"})]
    found = services.constraint_warnings(
        ["node.labels.zone==b", "node.labels.zone==a", "node.role==worker", "node.labels.x!=y"],
        nodes,
    )
    assert found == [
        "constraints: no node has label zone=b ('node.labels.zone==b'): tasks wait for one"
    ]
    assert services.constraint_warnings(None, nodes) == []
