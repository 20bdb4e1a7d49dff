"""After a bootstrap with autolock: no join token or unlock key in any output, job
cache file or log the lab's Salt daemons wrote, and none in the mine for outsiders."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from salt_swarm import salt_internals
from tests.integration.conftest import PILLARS, SECRET, orchestrate, pillar_variant

SKIP_NAMES = {"uts.ns"}  # a bind-mounted namespace, not a file
SKIP_DIRS = {"docker"}  # each dockerd's own data: the swarm's Raft store holds the tokens
MASTER_CACHE = Path("master/var/cache/salt/master")
# The master's mine store: the one place the tokens must be, read under allow_tgt.
MINE_STORE = MASTER_CACHE / salt_internals.cache_files("mine")
# Pillar's own cache: where an operator who sets swarm:unlock_key chose to keep it
# (before Salt 3008 the file that also holds the minion's grains).
PILLAR_CACHE = MASTER_CACHE / salt_internals.cache_files("pillar")


def files_under(root: Path):
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part in SKIP_DIRS for part in relative.parts) or any(
            relative.match(str(store)) for store in (MINE_STORE, PILLAR_CACHE)
        ):
            continue
        if path.is_file() and not path.is_symlink() and path.name not in SKIP_NAMES:
            yield path


def hits(root: Path, secrets: list[str]) -> list[str]:
    wanted = [s.encode() for s in secrets]
    found = []
    for path in files_under(root):
        data = path.read_bytes()
        found += [f"{path}: {s[:12].decode()}..." for s in wanted if s in data]
    return found


@pytest.fixture
def autolock_pillar(lab, lab_hosts, bare_hosts, use_pillar, tmp_path):
    use_pillar(
        pillar_variant(
            tmp_path,
            PILLARS / "bootstrap",
            **{"subnet_size: 24": "subnet_size: 24\n    autolock: true"},
        )
    )


def test_no_token_or_unlock_key_in_outputs_job_cache_logs_or_outsider_mine(
    lab, lab_hosts, autolock_pillar
):
    lab.up([*lab_hosts, "outsider1"])  # a minion in no role
    # Jids are the master's local start times. The lab's job cache also holds jobs of
    # earlier tests, some of which pass tokens on purpose (a worker token where a
    # manager one is due): those are inputs, not leaks, so the pattern check below
    # looks only at the jobs this test started.
    first_jid = datetime.now().strftime("%Y%m%d%H%M%S%f")
    run = orchestrate(lab)
    assert run.ok, run.out
    client = lab.docker_client("host1")
    try:
        tokens = client.api.inspect_swarm()["JoinTokens"]
        key = client.api.get_unlock_key()["UnlockKey"]
    finally:
        client.close()
    secrets = [tokens["Worker"], tokens["Manager"], key]
    assert key.startswith("SWMKEY-1-")

    outputs = [run.out]
    for args in (
        ("host1", "state.apply", "swarm"),
        ("host1", "swarm.info"),
        ("host1", "swarm.settings"),
    ):
        outputs.append(lab.salt_json(*args).output)
    outputs.append(lab.salt_run("swarm.status", "--out=json").stdout)
    all_jobs = lab.salt_run("jobs.list_jobs", "--out=json").stdout
    own_jobs = {jid: job for jid, job in json.loads(all_jobs).items() if jid >= first_jid}
    assert any(job["Function"] == "swarm.init" for job in own_jobs.values()), own_jobs
    outputs.append(json.dumps(own_jobs))
    for text in outputs:
        assert not any(s in text for s in secrets) and not SECRET.search(text), text
    assert not any(s in all_jobs for s in secrets)
    for function in ("swarm.worker_token", "swarm.manager_token"):
        outsider = lab.salt_json("outsider1", "mine.get", "*", function)
        assert outsider.data["outsider1"] == {}
    assert any(lab.paths.root.glob(str(MINE_STORE)))  # the skipped store is where we think
    assert hits(lab.paths.root, secrets) == []
    # The mine does hold them, for members: that is how they join.
    member = lab.salt_json("host4", "mine.get", "host1", "swarm.worker_token")
    assert member.data["host4"]["host1"]["worker"] == tokens["Worker"]
    # ... and the manager token for managers only: host4 is a worker.
    worker = lab.salt_json("host4", "mine.get", "host1", "swarm.manager_token")
    assert worker.data["host4"] == {}
    manager = lab.salt_json("host2", "mine.get", "host1", "swarm.manager_token")
    assert manager.data["host2"]["host1"]["manager"] == tokens["Manager"]
