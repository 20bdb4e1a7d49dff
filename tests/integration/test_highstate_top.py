"""A real highstate: the master's top file (docs/top.sls.example) gives every minion
``swarm``, and ``state.highstate`` (not ``state.apply swarm``) brings a worker that
left back into the swarm, for each target type the docs list for the highstate; the
managers recognise their role and change nothing."""

import shutil

import pytest

from lab import swarms
from lab.lab import repo_root
from tests.integration.conftest import PILLARS, SECRET, orchestrate, switch_pillar

pytestmark = pytest.mark.own_pillar

BASE = (PILLARS / "bootstrap" / "swarm.sls").read_text()
MANAGERS = "managers: {tgt: 'host[1-3]'}"
WORKERS = "workers: {tgt: host4}"
# The pillar each minion gets for I@ targets (its own file through the top file).
ROLE_TOP = (
    "base:\n  '*':\n    - swarm\n  'host[1-3]':\n    - manager_role\n  host4:\n    - worker_role\n"
)

TARGETS = {
    "glob": ("{tgt: 'host[1-3]'}", "{tgt: host4}"),
    "list": ("{tgt: 'host1,host2,host3', tgt_type: list}", "[host4]"),
    "pcre": ("{tgt: 'host[1-3]$', tgt_type: pcre}", "{tgt: '^host4$', tgt_type: pcre}"),
    "pillar": (
        "{tgt: 'lab_role:manager', tgt_type: pillar}",
        "{tgt: 'lab_role:worker', tgt_type: pillar}",
    ),
    "compound": (
        "{tgt: 'host1 or I@lab_role:manager', tgt_type: compound}",
        "{tgt: 'E@^host4$', tgt_type: compound}",
    ),
}


def pillar_folder(tmp_path, kind):
    managers, workers = TARGETS[kind]
    folder = tmp_path / f"pillar-{kind}"
    folder.mkdir()
    assert MANAGERS in BASE and WORKERS in BASE
    text = BASE.replace(MANAGERS, f"managers: {managers}").replace(WORKERS, f"workers: {workers}")
    (folder / "swarm.sls").write_text(text)
    (folder / "top.sls").write_text(ROLE_TOP)
    (folder / "manager_role.sls").write_text("lab_role: manager\n")
    (folder / "worker_role.sls").write_text("lab_role: worker\n")
    return folder


@pytest.fixture(scope="module")
def top_file(lab):
    """docs/top.sls.example as the master's top file, for this module only."""
    top = lab.paths.file_roots / "top.sls"
    top.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(repo_root() / "docs" / "top.sls.example", top)
    yield top
    top.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def swarm(lab, lab_hosts, top_file, tmp_path_factory):
    swarms.leave_all(lab, lab.hosts)
    switch_pillar(lab, pillar_folder(tmp_path_factory.mktemp("glob"), "glob"))
    run = orchestrate(lab)
    assert run.ok, run.out
    yield
    lab.run_everywhere("mine.flush", strict=False)
    swarms.leave_all(lab, lab.hosts)


@pytest.mark.parametrize("kind", list(TARGETS))
def test_highstate_brings_a_worker_back_and_managers_keep_their_role(
    lab, lab_hosts, swarm, tmp_path, kind
):
    switch_pillar(lab, pillar_folder(tmp_path, kind))
    swarms.leave(lab, "host4")
    res = lab.salt_json("-L", ",".join(lab_hosts), "state.highstate")
    assert res.retcode == 0, res.output
    assert not SECRET.search(res.output)
    functions = {}
    for minion, states in res.data.items():
        assert isinstance(states, dict), (minion, states)
        functions[minion] = {key.split("_|-")[0] + "." + key.split("_|-")[-1] for key in states}
        for key, state in states.items():
            assert state["result"] is True, (minion, key, state)
            if minion != "host4":
                assert state["changes"] == {}, (minion, key, state)
    for manager in ("host1", "host2", "host3"):
        assert "swarm.manager" in functions[manager], (manager, functions[manager])
    assert "swarm.worker" in functions["host4"], functions["host4"]
    (joined,) = [s for k, s in res.data["host4"].items() if k.endswith("_|-worker")]
    assert joined["changes"]["swarm"]["new"] == "worker"
    swarms.wait_ready(lab, "host1", ["host4"], timeout=60)
    assert swarms.local_state(lab, "host4")["LocalNodeState"] == "active"
