"""The orchestrate's joins on the lab: the master hands each member its join token
sealed to that minion's own key. The job cache keeps only sealed tokens, and a token
sealed for one minion opens on no other, nor in another job."""

import json
import time

import pytest
import salt.cache
import salt.config
import salt.utils.jid

from lab import swarms
from salt_swarm.core import sealed as sealed_box
from salt_swarm.core import sealed_pull
from salt_swarm.core.sealed import PREFIX
from salt_swarm.master import joins
from tests.integration.conftest import PILLARS, SECRET, orchestrate


@pytest.fixture
def bootstrap_pillar(lab, lab_hosts, bare_hosts, use_pillar):
    use_pillar(PILLARS / "bootstrap")


def swarm_tokens(lab, manager="host1"):
    client = lab.docker_client(manager)
    try:
        return client.api.inspect_swarm()["JoinTokens"]
    finally:
        client.close()


def join_jobs(lab):
    """The ``swarm.join`` jobs in the master's job cache: jid -> (target, kwargs)."""
    res = lab.salt_run("jobs.list_jobs", "search_function=swarm.join", "--out=json")
    jobs = json.loads(res.stdout)
    out = {}
    for jid, job in jobs.items():
        kwargs = next((a for a in job["Arguments"] if isinstance(a, dict)), {})
        out[jid] = (job["Target"], kwargs)
    return out


def test_the_orchestrate_joins_members_with_tokens_sealed_to_each_minion(
    lab, lab_hosts, bootstrap_pillar
):
    before = set(join_jobs(lab))
    run = orchestrate(lab)
    assert run.ok, run.out
    assert "joined as worker through host1's entries: host4" in run.out, run.out
    tokens = swarm_tokens(lab)
    jobs = {jid: job for jid, job in join_jobs(lab).items() if jid not in before}
    # One job per manager step (host2, host3), one for the workers (host4).
    by_target = {str(target): kwargs for target, kwargs in jobs.values()}
    assert sorted(by_target) == ["['host2']", "['host3']", "['host4']"], jobs
    worker_job = by_target["['host4']"]
    assert worker_job["role"] == "worker"
    # The lab's master serves swarm_formula: the publish carries only a reference to
    # the job's sealed tokens, which each joiner fetched for itself.
    worker_jid = next(jid for jid, (target, _) in jobs.items() if str(target) == "['host4']")
    assert worker_job["sealed_token"] == f"{sealed_pull.PREFIX}{worker_jid}"
    kept = salt.cache.factory(salt.config.master_config(lab.master_config_file)).fetch(
        sealed_pull.BANK, worker_jid
    )
    assert list(kept["tokens"].values())[0].startswith(PREFIX)
    assert by_target["['host2']"]["availability"] == "drain"
    assert by_target["['host2']"]["mine_update"] is True
    # Nothing usable anywhere in those jobs, nor in the orchestrate's output.
    text = json.dumps(jobs) + run.out
    assert tokens["Worker"] not in text and tokens["Manager"] not in text
    assert not SECRET.search(text)
    # The managers sent their own mine entries as they joined: all three are there.
    addrs = lab.salt_json("host4", "mine.get", "host*", "swarm.manager_addr")
    assert sorted(a for a in addrs.data["host4"].values() if a) == sorted(
        f"{lab.addr(h)}:2377" for h in ("host1", "host2", "host3")
    )


def test_a_token_sealed_for_one_minion_opens_on_no_other(lab, lab_hosts, bare_hosts):
    swarms.build(lab, ["host1"])
    assert lab.salt_json("host1", "swarm.mine_refresh").retcode == 0
    opts = salt.config.master_config(lab.master_config_file)
    worker_token = swarm_tokens(lab)["Worker"]
    jid = salt.utils.jid.gen_jid(opts)
    binding = sealed_box.Binding(role="worker", jid=jid, expires=int(time.time()) + 600)
    sealed = joins.sealed_tokens(opts, ["host3"], worker_token, binding)
    manager = f"managers={lab.addr('host1')}"

    wrong = lab.salt_json(
        "host4", "swarm.join", "role=worker", manager, f"sealed_token={sealed['host3']}"
    )
    assert wrong.retcode != 0
    assert "does not open with this minion's key" in wrong.output, wrong.output
    missing = lab.salt_json(
        "host4", "swarm.join", "role=worker", manager, f"sealed_token={json.dumps(sealed)}"
    )
    assert missing.retcode != 0 and "none was sealed for host4" in missing.output
    assert swarms.local_state(lab, "host4")["LocalNodeState"] == "inactive"

    # Its own token, but in another job than the one it was sealed for: refused.
    replayed = lab.salt_json(
        "host3", "swarm.join", "role=worker", manager, f"sealed_token={json.dumps(sealed)}"
    )
    assert replayed.retcode != 0 and "opens only in the job that carried it" in replayed.output
    assert swarms.local_state(lab, "host3")["LocalNodeState"] == "inactive"

    # In the job it was sealed for (the master picks the jid before sealing): it joins.
    kwarg = {"role": "worker", "managers": [lab.addr("host1")], "sealed_token": sealed}
    right = lab.local_client().cmd(
        "host3", "swarm.join", kwarg=kwarg, jid=jid, timeout=90, full_return=True
    )
    assert right["host3"]["retcode"] == 0, right
    assert right["host3"]["ret"]["changed"] is True
    assert swarms.local_state(lab, "host3")["LocalNodeState"] == "active"
    texts = wrong.output + missing.output + replayed.output + json.dumps(right)
    assert worker_token not in texts


def test_members_joined_with_no_mine_entries_refuses_before_any_change(lab, lab_hosts, bare_hosts):
    assert lab.salt_json("*", "mine.flush").retcode == 0
    res = lab.salt_run(
        "state.orchestrate_single",
        "fun=swarm.members_joined",
        "name=workers",
        "members=[host4]",
        "role=worker",
        "managers=[host1, host2]",
        "--out=json",
    )
    # orchestrate_single reports a failed state in its data, not in the exit code;
    # its output is a progress event, then the result (each a JSON document).
    last = res.stdout[res.stdout.rindex("\n{") + 1 :]
    (state,) = next(iter(json.loads(last).values())).values()
    assert state["result"] is False, res.stdout
    assert "failed before any change" in state["comment"], state
    assert "among host1, host2" in state["comment"], state
    assert swarms.local_state(lab, "host4")["LocalNodeState"] == "inactive"
