"""swarm.join_minion (what the reactor runs on a minion start) before any swarm exists:
with no manager's entries in the master's mine it answers at once and changes nothing."""

import json

from lab import swarms
from tests.integration.conftest import PILLARS, SECRET


def test_join_minion_with_no_manager_in_the_mine_does_nothing(lab, bare_hosts, use_pillar):
    use_pillar(PILLARS / "bootstrap")
    assert lab.salt_json("*", "mine.flush").retcode == 0
    res = lab.salt_run("swarm.join_minion", "host4", "--out=json")
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads(res.stdout)
    assert data["role"] == "worker" and data["joined"] is False and data["node"] == {}, data
    assert "master's mine" in data["comment"], data
    assert not SECRET.search(res.stdout)
    assert all(swarms.local_state(lab, h)["LocalNodeState"] == "inactive" for h in lab.hosts)
