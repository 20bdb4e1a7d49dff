"""Shared helpers for the orchestrate tests: pillar switching, running the orchestrate."""

import re
from pathlib import Path

import pytest

from salt_swarm.lab.lab import repo_root

PILLARS = Path(__file__).parent / "pillars"
SECRET = re.compile(r"SWMTKN-1-[0-9a-z]{50}|SWMKEY-1-[A-Za-z0-9+/]{20,}")
SUMMARY = re.compile(r"Succeeded: (\d+)(?: \(changed=(\d+)\))?\s+Failed:\s+(\d+)")


class Orchestrate:
    def __init__(self, code, succeeded, changed, failed, out):
        self.code, self.succeeded, self.changed, self.failed, self.out = (
            code,
            succeeded,
            changed,
            failed,
            out,
        )

    @property
    def ok(self):
        return self.code == 0 and self.failed == 0


def orchestrate(lab, sls="swarm.bootstrap"):
    res = lab.salt_run("state.orchestrate", sls)
    out = res.stdout + res.stderr
    found = SUMMARY.findall(res.stdout)
    assert found, out
    succeeded, changed, failed = found[-1]  # the orchestrate's own summary comes last
    return Orchestrate(res.returncode, int(succeeded), int(changed or 0), int(failed), out)


def switch_pillar(lab, folder):
    lab.use_pillar(folder)
    assert lab.salt_json("*", "saltutil.refresh_pillar", "wait=True").retcode == 0


@pytest.fixture
def use_pillar(lab):
    """Call with a folder (top.sls + swarm.sls); the example pillar comes back after."""
    yield lambda folder: switch_pillar(lab, folder)
    lab.salt_json("*", "mine.flush")
    switch_pillar(lab, repo_root() / "pillar.example")


def pillar_variant(tmp_path, source, **replacements):
    """A copy of a pillar folder with text replaced in its swarm.sls."""
    folder = tmp_path / "pillar"
    folder.mkdir()
    (folder / "top.sls").write_text((source / "top.sls").read_text())
    text = (source / "swarm.sls").read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    (folder / "swarm.sls").write_text(text)
    return folder
