"""Secret and config versions: new content is a new version, services on older
versions move, unused versions go (keep N), the content is never in a report."""

import pytest

from salt_swarm.core import secret_versions as sv
from salt_swarm.core.errors import SwarmError


def version(name, serial, content, ident=None):
    labels = {sv.VERSION_OF: name, sv.SERIAL: str(serial), sv.DIGEST: sv.digest(content)}
    return {
        "ID": ident or f"id-{name}-{serial}",
        "Spec": {"Name": f"{name}_{serial}", "Labels": labels},
    }


def using(service, *ids):
    refs = [{"SecretID": i, "SecretName": i} for i in ids]
    return {
        "ID": service,
        "Spec": {"Name": service, "TaskTemplate": {"ContainerSpec": {"Secrets": refs}}},
    }


class API:
    def __init__(self, secrets, services):
        self.listed, self.running = secrets, services

    def secrets(self):
        return self.listed

    def services(self):
        return self.running

    def create_secret(self, name, data, labels=None):
        raise AssertionError("planning created a secret")

    remove_secret = create_secret


class Client:
    def __init__(self, secrets=(), services=()):
        self.api = API(list(secrets), list(services))

    def info(self):
        return {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True, "NodeID": "n"}}


def test_the_same_content_is_no_change():
    client = Client([version("db", 1, b"old")], [using("web", "id-db-1")])
    plan = sv.version_plan(client, "secret", "db", "old")
    assert plan.new_name is None and plan.report()["changed"] is False


def test_new_content_is_a_new_version_users_move_and_the_old_goes():
    client = Client([version("db", 1, b"old")], [using("web", "id-db-1"), using("other")])
    plan = sv.version_plan(client, "secret", "db", "s3cr3t-content")
    assert plan.new_name == "db_2"
    assert [s["ID"] for s in plan.users] == ["web"]
    assert plan.changes == {
        "version": {"old": "db_1", "new": "db_2"},
        "services": ["web"],
        "removed": ["db_1"],
    }
    assert "s3cr3t" not in str(plan.report())


def test_keep_holds_the_newest_versions_and_a_version_still_used_elsewhere_stays():
    versions = [version("db", n, f"c{n}".encode()) for n in (1, 2, 3)]
    client = Client(versions, [using("web", "id-db-3")])
    plan = sv.version_plan(client, "secret", "db", "c4", keep=2)
    assert plan.new_name == "db_4"
    assert sorted(o["Spec"]["Name"] for o in plan.removable) == ["db_1", "db_2"]


def test_a_reverted_content_is_a_newer_version_not_the_old_one():
    client = Client([version("db", 1, b"a"), version("db", 2, b"b")])
    assert sv.version_plan(client, "secret", "db", "a").new_name == "db_3"


@pytest.mark.parametrize(
    "data, message",
    [(None, "no content"), ("", "1 byte"), ("x" * (501 * 1024), "KiB"), (3, "string")],
)
def test_bad_content_is_refused_and_not_shown(data, message):
    with pytest.raises(SwarmError, match=message) as caught:
        sv.check_data("secret", "db", data)
    assert "x" * 20 not in str(caught.value)


def test_the_digest_is_salted_and_slow_and_never_the_content():
    first, second = sv.digest(b"hunter2"), sv.digest(b"hunter2")
    assert first != second and "hunter2" not in first
    assert first.startswith(f"pbkdf2-sha256${sv.DIGEST_ROUNDS}$")
    assert sv.same_content(b"hunter2", first) and not sv.same_content(b"hunter3", first)
    assert not sv.same_content(b"hunter2", "sha256$whatever")
