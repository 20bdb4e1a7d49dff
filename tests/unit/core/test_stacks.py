"""Stacks: the compose file's services each carry the digest of their own section, so
a re-run with the same file is told apart from a change without asking Docker."""

import pytest
import yaml

from salt_swarm.core import stacks
from salt_swarm.core.errors import SwarmError

COMPOSE = {
    "services": {
        "api": {"image": "a:1", "deploy": {"labels": ["team=x"]}},
        "worker": {"image": "w:1", "deploy": {"labels": {"team": "y"}}},
    },
    "networks": {"front": {}},
}


def test_each_service_is_labelled_with_its_digest_and_the_users_labels_stay():
    found = stacks.parse(yaml.safe_dump(COMPOSE))
    doc = yaml.safe_load(found.text)
    api = doc["services"]["api"]["deploy"]["labels"]
    assert api == ["team=x", f"{stacks.DIGEST}={found.digests['api']}"]
    worker = doc["services"]["worker"]["deploy"]["labels"]
    assert worker == {"team": "y", stacks.DIGEST: found.digests["worker"]}


def test_a_change_to_one_service_changes_its_digest_only_and_shared_sections_all():
    first = stacks.parse(yaml.safe_dump(COMPOSE)).digests
    changed = yaml.safe_load(yaml.safe_dump(COMPOSE))
    changed["services"]["worker"]["image"] = "w:2"
    second = stacks.parse(yaml.safe_dump(changed)).digests
    assert second["api"] == first["api"] and second["worker"] != first["worker"]
    changed["networks"]["front"] = {"attachable": True}
    third = stacks.parse(yaml.safe_dump(changed)).digests
    assert third["api"] != first["api"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("services: [", "not YAML"),
        ("version: '3'", "no services"),
        ("services: {'bad name': {image: a}}", "not a compose service name"),
        ("services: {a: [1]}", "services.a: expected a mapping"),
    ],
)
def test_a_file_without_services_is_refused_before_docker(text, message):
    with pytest.raises(SwarmError, match=message):
        stacks.parse(text)


class API:
    def __init__(self, services):
        self.listed = services

    def services(self, filters=None):
        return self.listed


class Client:
    def __init__(self, services):
        self.api = API(services)

    def info(self):
        return {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True, "NodeID": "n"}}


def running(name, digest):
    return {"ID": name, "Spec": {"Name": f"shop_{name}", "Labels": {stacks.DIGEST: digest}}}


def test_the_plan_names_services_to_create_update_and_remove():
    text = yaml.safe_dump(COMPOSE)
    digests = stacks.parse(text).digests
    client = Client([running("api", digests["api"]), running("old", "x"), running("worker", "x")])
    plan = stacks.stack_plan(client, "shop", text)
    assert (plan.create, plan.update, plan.remove, plan.left) == ([], ["worker"], [], ["old"])
    pruned = stacks.stack_plan(client, "shop", text, prune=True)
    assert pruned.remove == ["old"] and pruned.changes == {
        "updated": ["worker"],
        "removed": ["old"],
    }
    same = stacks.stack_plan(
        Client([running("api", digests["api"]), running("worker", digests["worker"])]), "shop", text
    )
    assert same.changes == {} and same.report()["changed"] is False
