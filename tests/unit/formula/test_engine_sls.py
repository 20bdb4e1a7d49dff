"""states/swarm/engine.sls rendered by Salt's own renderers, with swarm.own_steps."""

import pytest

from tests.unit.formula.formula_render import Formula, functions


@pytest.fixture(scope="module")
def formula(tmp_path_factory):
    formula = Formula(tmp_path_factory.mktemp("formula-cache"))
    yield formula
    formula.close()


@pytest.fixture
def render(formula):
    def states(pillar=None, os_family="Debian"):
        """The states engine.sls declares for this pillar and grains."""
        pillar = pillar or {}
        funcs = functions(pillar, "node1", os_family=os_family)
        grains = {"os_family": os_family, "id": "node1"}
        return formula.render("swarm.engine", pillar=pillar, grains=grains, funcs=funcs)

    return states


def engine(**conf):
    return {"swarm": {"engine": conf}}


@pytest.mark.parametrize(
    "pillar",
    [{}, {"swarm": {}}, engine(), engine(install=False), engine(install=None)],
    ids=["no pillar", "no engine key", "empty engine", "install false", "install null"],
)
def test_off_by_default_one_nop_saying_why(render, pillar):
    states = render(pillar)
    assert list(states) == ["swarm engine not managed"]
    (step,) = states["swarm engine not managed"]["test.nop"]
    assert "swarm:engine:install is false" in step["name"]


def test_install_on_debian_installs_docker_io_and_keeps_docker_running(render):
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


def test_package_and_service_names_come_from_pillar(render):
    states = render(engine(install=True, package="docker-ce", service="dockerd"))
    assert states["swarm engine package"]["pkg.installed"] == [{"name": "docker-ce"}]
    assert {"name": "dockerd"} in states["swarm engine service"]["service.running"]


def test_other_systems_must_name_the_package(render):
    states = render(engine(install=True), os_family="RedHat")
    assert list(states) == ["swarm engine package unknown"]
    name, reason = states["swarm engine package unknown"]["swarm.refused"]
    assert name == {"name": "swarm:engine:package"}
    assert "os_family RedHat" in reason["reason"] and "swarm:engine:package" in reason["reason"]

    states = render(engine(install=True, package="moby-engine"), os_family="RedHat")
    assert states["swarm engine package"]["pkg.installed"] == [{"name": "moby-engine"}]


@pytest.mark.parametrize("value, shown", [("yes", '"yes"'), ("true", '"true"'), (1, "1")])
def test_a_flag_that_is_not_a_boolean_fails_instead_of_guessing(render, value, shown):
    states = render(engine(install=value))
    assert list(states) == ["swarm engine install flag"]
    name, reason = states["swarm engine install flag"]["swarm.refused"]
    assert name == {"name": "swarm:engine:install"}
    assert reason["reason"] == f"swarm:engine:install: expected true or false, got {shown}"
