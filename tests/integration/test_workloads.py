"""Workloads through Salt on a real swarm (host1 manager, host2 and host3 workers):
services from SLS (create, no-change re-runs, a rolling env change, scaling, a bad
update Docker rolls back), a pillar secret rotated under a running service, overlay
networks, and the removed salt.modules.swarm's service functions."""

import itertools
import secrets
import shutil
import time

import pytest
import yaml

from lab import images, swarms
from lab.wait import wait_for
from tests.integration.conftest import switch_pillar
from tests.integration.test_secrets_stay_secret import hits

pytestmark = pytest.mark.own_pillar

MANAGER, WORKERS = "host1", ["host2", "host3"]
LOOP = "trap 'exit 0' TERM; while true; do sleep 1; done"
WEB = {
    "image": images.IMAGE,
    "command": ["sh", "-c", LOOP],
    "replicas": 2,
    "env": {"A": "1"},
    "stop_grace_period": "1s",
    "restart_policy": {"condition": "any", "delay": "1s"},
    "update_config": {"parallelism": 1, "monitor": "3s", "failure_action": "rollback"},
    "rollback_config": {"parallelism": 0, "monitor": "1s"},
}
_SLS_NUMBER = itertools.count()


def pillar_folder(root, password):
    root.mkdir(parents=True, exist_ok=True)
    (root / "top.sls").write_text("base:\n  '*':\n    - app\n")
    (root / "app.sls").write_text(yaml.safe_dump({"app": {"db_password": password}}))
    return root


@pytest.fixture(scope="module")
def apps(lab, lab_hosts, tmp_path_factory):
    swarms.leave_all(lab, lab.hosts)
    first = secrets.token_hex(16)
    folder = pillar_folder(tmp_path_factory.mktemp("pillar-apps"), first)
    switch_pillar(lab, folder)
    hosts = [MANAGER, *WORKERS]
    images.ensure_image(lab, hosts)
    images.ensure_image(lab, hosts, images.IMAGE_WITH_CMD)
    swarms.build(lab, [MANAGER], WORKERS)
    swarms.wait_ready(lab, MANAGER, WORKERS, timeout=60)
    sls_root = lab.paths.file_roots / "apps_test"
    sls_root.mkdir(parents=True, exist_ok=True)
    client = lab.docker_client(MANAGER)
    yield {"client": client, "sls": sls_root, "first": first, "tmp": tmp_path_factory}
    client.close()
    shutil.rmtree(sls_root, ignore_errors=True)
    lab.run_everywhere("mine.flush", strict=False)
    swarms.leave_all(lab, lab.hosts)


def apply(lab, apps, states: dict, test=False):
    """``states`` (id -> {function: [args]}) as an SLS of its own, applied on the manager:
    (retcode, {state id: return}, the CLI's output)."""
    name = f"s{next(_SLS_NUMBER)}"
    (apps["sls"] / f"{name}.sls").write_text(yaml.safe_dump(states))
    args = [MANAGER, "state.apply", f"apps_test.{name}"] + (["test=True"] if test else [])
    res = lab.salt_json(*args, timeout=600)
    got = res.data.get(MANAGER)
    assert isinstance(got, dict), res.output
    by_id = {key.split("_|-")[1]: ret for key, ret in got.items()}
    return res.retcode, by_id, res.output


def service(spec, name="web", **more):
    args = [{key: value} for key, value in {**spec, **more}.items()]
    return {name: {"swarm.service_present": args}}


def inspect(client, name):
    return client.api.inspect_service(name)


def running_env(client, name):
    """The Env of every task that runs (desired and actual), as a sorted list of lists."""
    tasks = client.api.tasks(filters={"service": name, "desired-state": "running"})
    return sorted(
        t["Spec"]["ContainerSpec"].get("Env") or []
        for t in tasks
        if t["Status"]["State"] == "running"
    )


def test_a_service_from_sls_converges_reruns_change_nothing_and_a_bad_update_rolls_back(lab, apps):
    client = apps["client"]
    code, ret, out = apply(lab, apps, service(WEB))
    assert code == 0 and ret["web"]["result"] is True, out
    assert ret["web"]["changes"]["image"] == {"old": None, "new": images.IMAGE}
    # The state returned once the rollout converged: both tasks run now.
    assert running_env(client, "web") == [["A=1"], ["A=1"]]
    version = inspect(client, "web")["Version"]["Index"]

    code, ret, out = apply(lab, apps, service(WEB), test=True)
    assert code == 0 and ret["web"]["result"] is True and ret["web"]["changes"] == {}, out
    code, ret, out = apply(lab, apps, service(WEB))
    assert code == 0 and ret["web"]["changes"] == {}, out
    assert inspect(client, "web")["Version"]["Index"] == version  # Docker saw no update

    # test=True on a real difference: told, nothing changed.
    code, ret, out = apply(lab, apps, service(WEB, env={"A": "2"}), test=True)
    assert ret["web"]["result"] is None and ret["web"]["changes"] == {
        "env": {"old": ["A=1"], "new": ["A=2"]}
    }, out
    assert inspect(client, "web")["Version"]["Index"] == version

    code, ret, out = apply(lab, apps, service(WEB, env={"A": "2"}))
    assert code == 0 and set(ret["web"]["changes"]) == {"env"}, out
    assert running_env(client, "web") == [["A=2"], ["A=2"]]

    # A constraint on a label no node has: told before anything changes.
    code, ret, out = apply(
        lab,
        apps,
        service(WEB, env={"A": "2"}, constraints=["node.labels.zone==nowhere"]),
        test=True,
    )
    assert "no node has label zone=nowhere" in ret["web"]["comment"], out
    assert ret["web"]["warnings"] and ret["web"]["changes"]["constraints"], out

    for replicas in (5, 2):
        code, ret, out = apply(lab, apps, service(WEB, env={"A": "2"}, replicas=replicas))
        assert code == 0 and ret["web"]["changes"]["mode"]["new"] == f"replicated:{replicas}", out
        assert running_env(client, "web") == [["A=2"]] * replicas

    bad = service(WEB, env={"A": "3"}, command=["sh", "-c", "exit 3"])
    code, ret, out = apply(lab, apps, bad)
    assert code != 0 and ret["web"]["result"] is False, out
    assert "rolled it back" in ret["web"]["comment"], ret["web"]["comment"]
    assert "failed tasks" in ret["web"]["comment"]
    spec = inspect(client, "web")["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert spec["Env"] == ["A=2"] and spec["Args"] == ["sh", "-c", LOOP]
    wait_for(lambda: running_env(client, "web") == [["A=2"], ["A=2"]], 60, "web back on A=2")

    code, ret, out = apply(lab, apps, {"web": {"swarm.service_absent": []}})
    assert code == 0 and ret["web"]["changes"], out
    assert not client.api.services(filters={"name": "web"})


def running_tasks(client, name):
    tasks = client.api.tasks(filters={"service": name, "desired-state": "running"})
    return sorted(t["ID"] for t in tasks if t["Status"]["State"] == "running")


def secret_names(client):
    return sorted(s["Spec"]["Name"] for s in client.api.secrets())


def db_states():
    return {
        "db_password": {"swarm.secret_present": [{"contents_pillar": "app:db_password"}]},
        **service(
            {k: WEB[k] for k in ("image", "command", "stop_grace_period", "update_config")},
            name="db",
            replicas=2,
            secrets=["db_password"],
            require=[{"swarm": "db_password"}],
        ),
    }


def task_secrets(client, name):
    tasks = client.api.tasks(filters={"service": name, "desired-state": "running"})
    return sorted(
        s["SecretName"]
        for t in tasks
        if t["Status"]["State"] == "running"
        for s in t["Spec"]["ContainerSpec"].get("Secrets") or []
    )


def test_a_pillar_secret_change_rolls_the_service_to_the_new_version_and_leaks_nowhere(lab, apps):
    client = apps["client"]
    outputs = []
    code, ret, out = apply(lab, apps, db_states())
    outputs.append(out)
    assert code == 0 and all(r["result"] for r in ret.values()), out
    assert ret["db_password"]["changes"]["version"] == {"old": None, "new": "db_password_1"}
    assert secret_names(client) == ["db_password_1"]
    assert task_secrets(client, "db") == ["db_password_1", "db_password_1"]

    second = secrets.token_hex(16)
    switch_pillar(lab, pillar_folder(apps["tmp"].mktemp("pillar-apps-2"), second))
    code, ret, out = apply(lab, apps, db_states(), test=True)
    outputs.append(out)
    assert ret["db_password"]["result"] is None, out
    assert secret_names(client) == ["db_password_1"]  # test=True changed nothing

    code, ret, out = apply(lab, apps, db_states())
    outputs.append(out)
    assert code == 0 and all(r["result"] for r in ret.values()), out
    changes = ret["db_password"]["changes"]
    assert changes == {
        "version": {"old": "db_password_1", "new": "db_password_2"},
        "services": ["db"],
        "removed": ["db_password_1"],
    }
    assert ret["db"]["changes"] == {}  # moved by the secret's state already
    assert secret_names(client) == ["db_password_2"]
    assert task_secrets(client, "db") == ["db_password_2", "db_password_2"]

    code, ret, out = apply(lab, apps, db_states())
    outputs.append(out)
    assert code == 0 and all(r["changes"] == {} for r in ret.values()), out

    # Refused while in use; gone after the service.
    code, ret, out = apply(lab, apps, {"db_password": {"swarm.secret_absent": []}})
    assert code != 0 and "in use by service(s) db" in ret["db_password"]["comment"], out
    code, ret, out = apply(
        lab,
        apps,
        {
            "db": {"swarm.service_absent": []},
            "db_password": {"swarm.secret_absent": [{"require": [{"swarm": "db"}]}]},
        },
    )
    assert code == 0, out
    assert secret_names(client) == []

    needles = [apps["first"], second]
    jobs = lab.salt_run("jobs.list_jobs", "--out=json").stdout
    for text in [*outputs, jobs]:
        assert not any(n in text for n in needles), text
    # Every file the lab's daemons wrote, but the master's pillar cache (pillar is
    # where the operator keeps the secret) and the dockerds' data (Docker's store).
    assert hits(lab.paths.root, needles) == []


def test_overlay_networks_are_made_once_and_kept_while_in_use(lab, apps):
    client = apps["client"]
    net = {"backend": {"swarm.network_present": [{"attachable": True}]}}
    code, ret, out = apply(lab, apps, net)
    assert code == 0 and ret["backend"]["changes"], out
    found = client.api.inspect_network("backend")
    assert found["Driver"] == "overlay" and found["Attachable"] is True
    code, ret, out = apply(lab, apps, net)
    assert code == 0 and ret["backend"]["changes"] == {}, out

    other = {"backend": {"swarm.network_present": [{"attachable": False}]}}
    code, ret, out = apply(lab, apps, other, test=True)
    assert code != 0 and "exists with other settings (attachable)" in ret["backend"]["comment"]

    on_it = service(
        {k: WEB[k] for k in ("image", "command", "stop_grace_period")},
        name="netsvc",
        replicas=1,
        networks=["backend"],
    )
    code, ret, out = apply(lab, apps, on_it)
    assert code == 0, out
    code, ret, out = apply(lab, apps, {"backend": {"swarm.network_absent": []}})
    assert code != 0 and "in use by service(s) netsvc" in ret["backend"]["comment"], out
    code, ret, out = apply(
        lab,
        apps,
        {
            "netsvc": {"swarm.service_absent": []},
            "backend": {"swarm.network_absent": [{"require": [{"swarm": "netsvc"}]}]},
        },
    )
    assert code == 0 and ret["backend"]["comment"] == "network backend removed", out
    assert not [n for n in client.api.networks(names=["backend"]) if n["Name"] == "backend"]


def test_the_removed_modules_service_functions_still_work(lab, apps):
    client = apps["client"]
    created = lab.salt_json(
        MANAGER,
        "swarm.service_create",
        f"image={images.IMAGE_WITH_CMD}",
        "name=Test_Service",
        "command=None",
        "hostname=salthost",
        "replicas=2",
        "target_port=80",
        "published_port=8080",
        "--timeout=600",
    )
    assert created.retcode == 0, created.output
    got = created.data[MANAGER]
    assert got["Name"] == "Test_Service" and got["changed"] is True
    spec = inspect(client, "Test_Service")["Spec"]
    assert spec["Mode"]["Replicated"]["Replicas"] == 2
    assert spec["EndpointSpec"]["Ports"][0]["PublishedPort"] == 8080
    assert spec["EndpointSpec"]["Ports"][0]["TargetPort"] == 80
    again = lab.salt_json(
        MANAGER,
        "swarm.service_create",
        f"image={images.IMAGE_WITH_CMD}",
        "name=Test_Service",
        "replicas=2",
        "target_port=80",
        "published_port=8080",
    )
    assert again.retcode == 0 and again.data[MANAGER]["changed"] is False, again.output

    info = lab.salt_json(MANAGER, "swarm.swarm_service_info", "service_name=Test_Service")
    assert info.retcode == 0, info.output
    shown = info.data[MANAGER]
    assert shown["Service Name"] == "Test_Service" and shown["Replicas"] == 2
    assert shown["Published Port"] == 8080 and shown["Target Port"] == 80
    assert shown["Docker Image"] == images.IMAGE_WITH_CMD

    removed = lab.salt_json(MANAGER, "swarm.remove_service", "service=Test_Service")
    assert removed.retcode == 0 and removed.data[MANAGER]["Service Deleted"] is True
    assert not client.api.services(filters={"name": "Test_Service"})


def test_ten_services_from_pillar_apps_then_a_rerun_that_changes_nothing(lab, apps):
    client = apps["client"]
    base = {k: WEB[k] for k in ("image", "command", "stop_grace_period")}
    services = {f"app{i}": {**base, "replicas": 1, "networks": ["appnet"]} for i in range(10)}
    folder = apps["tmp"].mktemp("pillar-apps-10")
    pillar_folder(folder, apps["first"])
    (folder / "top.sls").write_text("base:\n  '*':\n    - app\n    - swarm\n")
    swarm = {"swarm": {"apps": {"networks": {"appnet": {}}, "services": services}}}
    (folder / "swarm.sls").write_text(yaml.safe_dump(swarm))
    switch_pillar(lab, folder)

    started = time.monotonic()
    res = lab.salt_json(MANAGER, "state.apply", "swarm.apps", timeout=900)
    first_run = time.monotonic() - started
    assert res.retcode == 0, res.output
    states = res.data[MANAGER]
    assert len(states) == 11 and all(s["result"] is True for s in states.values()), res.output
    for name in services:
        assert running_env(client, name) == [[]], name  # its one task runs

    started = time.monotonic()
    again = lab.salt_json(MANAGER, "state.apply", "swarm.apps", timeout=900)
    rerun = time.monotonic() - started
    assert again.retcode == 0 and all(s["changes"] == {} for s in again.data[MANAGER].values())
    print(f"\nswarm.apps, 10 services and a network: {first_run:.1f} s; re-run {rerun:.1f} s")

    for name in services:
        client.api.remove_service(name)
    wait_for(
        lambda: (
            not [n for n in client.api.networks(names=["appnet"]) if n["Name"] == "appnet"]
            or _removed(client, "appnet")
        ),
        60,
        "appnet removed",
    )


def _removed(client, network):
    try:
        client.api.remove_network(network)
    except Exception:  # still in use while the services' tasks stop
        return False
    return True


def test_a_stack_from_a_compose_file_deploys_once_updates_what_changed_and_is_removed(
    lab, apps, tmp_path
):
    client = apps["client"]
    token = tmp_path / "stack-token.txt"
    token.write_text(secrets.token_hex(16))
    loop = {"image": images.IMAGE, "command": ["sh", "-c", LOOP], "stop_grace_period": "1s"}
    compose = {
        "version": "3.8",
        "services": {
            "api": {**loop, "networks": ["front"], "secrets": ["token"], "deploy": {"replicas": 2}},
            "worker": {**loop, "networks": ["front"], "deploy": {"replicas": 1}},
        },
        "networks": {"front": {"driver": "overlay"}},
        "secrets": {"token": {"file": str(token)}},
    }

    def deploy(test=False):
        (apps["sls"] / "compose.yml").write_text(yaml.safe_dump(compose))
        args = [{"source": "salt://apps_test/compose.yml"}, {"resolve_image": "never"}]
        return apply(lab, apps, {"shop": {"swarm.stack_present": args}}, test=test)

    code, ret, out = deploy()
    assert code == 0 and ret["shop"]["changes"] == {"created": ["api", "worker"]}, out
    assert (
        len(running_env(client, "shop_api")) == 2 and len(running_env(client, "shop_worker")) == 1
    )
    assert [s["Spec"]["Name"] for s in client.api.secrets()].count("shop_token") == 1
    versions = {n: inspect(client, n)["Version"]["Index"] for n in ("shop_api", "shop_worker")}

    for test in (True, False):
        code, ret, out = deploy(test=test)
        assert code == 0 and ret["shop"]["result"] is True and ret["shop"]["changes"] == {}, out
    assert {n: inspect(client, n)["Version"]["Index"] for n in versions} == versions

    api_tasks = running_tasks(client, "shop_api")
    compose["services"]["worker"]["deploy"]["replicas"] = 2
    code, ret, out = deploy(test=True)
    assert ret["shop"]["result"] is None and ret["shop"]["changes"] == {"updated": ["worker"]}
    code, ret, out = deploy()
    assert code == 0 and ret["shop"]["changes"] == {"updated": ["worker"]}, out
    assert len(running_env(client, "shop_worker")) == 2
    # Docker's CLI sends every service again; api's spec is the same, its tasks stay.
    assert running_tasks(client, "shop_api") == api_tasks

    code, ret, out = apply(lab, apps, {"shop": {"swarm.stack_absent": []}})
    assert code == 0 and ret["shop"]["changes"] == {"removed": ["api", "worker"]}, out
    assert not client.api.services(filters={"label": "com.docker.stack.namespace=shop"})
