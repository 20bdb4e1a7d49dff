"""states/swarm/engine.sls rendered by Salt's own Jinja renderer, then read as YAML."""

from pathlib import Path

import pytest
import salt.utils.templates
import yaml

ENGINE_SLS = Path(__file__).resolve().parents[3] / "states" / "swarm" / "engine.sls"


def _pillar_get(pillar):
    def get(key, default=None):
        value = pillar
        for part in key.split(":"):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    return get


def render(pillar=None, os_family="Debian"):
    """The states engine.sls declares for this pillar and grains."""
    pillar = pillar or {}
    context = {
        "opts": {},
        "saltenv": None,  # no file client: nothing is included or imported
        "salt": {"pillar.get": _pillar_get(pillar)},
        "grains": {"os_family": os_family, "id": "node1"},
        "pillar": pillar,
    }
    text = salt.utils.templates.render_jinja_tmpl(
        ENGINE_SLS.read_text(), context, tmplpath=str(ENGINE_SLS)
    )
    return yaml.safe_load(text)


def engine(**conf):
    return {"swarm": {"engine": conf}}


@pytest.mark.parametrize(
    "pillar",
    [{}, {"swarm": {}}, engine(), engine(install=False), engine(install=None)],
    ids=["no pillar", "no engine key", "empty engine", "install false", "install null"],
)
def test_off_by_default_one_nop_saying_why(pillar):
    states = render(pillar)
    assert list(states) == ["swarm engine not managed"]
    (step,) = states["swarm engine not managed"]["test.nop"]
    assert "swarm:engine:install is false" in step["name"]


def test_install_on_debian_installs_docker_io_and_keeps_docker_running():
    states = render(engine(install=True))
    assert states == {
        "swarm engine package": {"pkg.installed": [{"name": "docker.io"}]},
        "swarm engine service": {
            "service.running": [
                {"name": "docker"},
                {"enable": True},
                {"require": [{"pkg": "swarm engine package"}]},
            ]
        },
    }


def test_package_and_service_names_come_from_pillar():
    states = render(engine(install=True, package="docker-ce", service="dockerd"))
    assert states["swarm engine package"]["pkg.installed"] == [{"name": "docker-ce"}]
    assert {"name": "dockerd"} in states["swarm engine service"]["service.running"]


def test_other_systems_must_name_the_package():
    states = render(engine(install=True), os_family="RedHat")
    assert list(states) == ["swarm engine package unknown"]
    name, reason = states["swarm engine package unknown"]["swarm.refused"]
    assert name == {"name": "swarm:engine:package"}
    assert "os_family RedHat" in reason["reason"] and "swarm:engine:package" in reason["reason"]

    states = render(engine(install=True, package="moby-engine"), os_family="RedHat")
    assert states["swarm engine package"]["pkg.installed"] == [{"name": "moby-engine"}]


@pytest.mark.parametrize("value, shown", [("yes", '"yes"'), ("true", '"true"'), (1, "1")])
def test_a_flag_that_is_not_a_boolean_fails_instead_of_guessing(value, shown):
    states = render(engine(install=value))
    assert list(states) == ["swarm engine install flag"]
    name, reason = states["swarm engine install flag"]["swarm.refused"]
    assert name == {"name": "swarm:engine:install"}
    assert reason["reason"] == f"swarm:engine:install: expected true or false, got {shown}"
