"""Labels from grains through the master: the orchestrate applies what each minion's
grains give (swarm:grain_labels) beside pillar's label rules, and a re-run after a
grain change makes the labels follow (a tag gone, its label gone)."""

from lab import swarms
from tests.integration.conftest import PILLARS, orchestrate, pillar_variant

RULES = "  labels:\n"
GRAIN_RULES = "  grain_labels:\n    - {grain: ec2_tags, keys: 'docker.*'}\n  labels:\n"


def set_tags(lab, host, tags):
    res = lab.salt_json(host, "grains.setval", "ec2_tags", repr(tags).replace("'", '"'))
    assert res.retcode == 0, res.out


def labels_of(lab, manager, hostname):
    return swarms.node_states(lab, manager)[hostname]["Spec"].get("Labels") or {}


def test_grain_labels_are_applied_beside_pillar_labels_and_follow_changes(
    lab, bare_hosts, use_pillar, tmp_path
):
    worker = "host4"
    set_tags(lab, worker, {"docker.role": "web", "docker.env": "prod", "docker.zone": "b"})
    try:
        use_pillar(pillar_variant(tmp_path, PILLARS / "bootstrap", **{RULES: GRAIN_RULES}))
        run = orchestrate(lab)
        assert run.ok, run.out
        assert labels_of(lab, "host1", worker) == {
            "docker.env": "prod",
            "docker.role": "web",
            "docker.zone": "b",
            "lab": "yes",
            "tier": "app",
            "zone": "a",
        }
        set_tags(lab, worker, {"docker.role": "db"})
        run = orchestrate(lab)
        assert run.ok and run.changed > 0, run.out
        assert labels_of(lab, "host1", worker) == {
            "docker.role": "db",
            "lab": "yes",
            "tier": "app",
            "zone": "a",
        }
        check = lab.salt_run("swarm.check")
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        lab.salt_json(worker, "grains.delkey", "ec2_tags", "force=True")
