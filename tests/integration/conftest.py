"""Shared helpers for the orchestrate tests: pillar switching, running the orchestrate."""

import contextlib
import hashlib
import re
from pathlib import Path

import pytest

from lab import swarms
from lab.fixtures import module_uses_lab
from lab.lab import repo_root

PILLARS = Path(__file__).parent / "pillars"
EXAMPLE_PILLAR = repo_root() / "pillar.example"
SECRET = re.compile(r"SWMTKN-1-[0-9a-z]{50}|SWMKEY-1-[A-Za-z0-9+/]{20,}")
# "Succeeded: 5 (unchanged=3, changed=2)": unchanged counts test=True states that would
# change something (result None); either part may be missing.
SUMMARY = re.compile(r"Succeeded:\s+(\d+)(?: \(([^)]*)\))?\s+Failed:\s+(\d+)")


class Orchestrate:
    def __init__(self, code, succeeded, stats, failed, out):
        counts = dict(re.findall(r"(\w+)=(\d+)", stats))
        self.code, self.succeeded, self.failed, self.out = code, int(succeeded), int(failed), out
        self.changed = int(counts.get("changed", 0))
        self.unchanged = int(counts.get("unchanged", 0))  # test=True: would change

    @property
    def ok(self):
        return self.code == 0 and self.failed == 0


def read_orchestrate(code, stdout, stderr) -> Orchestrate:
    """The orchestrate's own summary comes last; without one, failed is -1."""
    found = SUMMARY.findall(stdout)
    succeeded, stats, failed = found[-1] if found else (0, "", -1)
    return Orchestrate(code, succeeded, stats, failed, stdout + stderr)


def orchestrate(lab, sls="swarm.bootstrap", *args):
    res = lab.salt_run("state.orchestrate", sls, *args)
    assert SUMMARY.search(res.stdout), res.stdout + res.stderr
    return read_orchestrate(res.returncode, res.stdout, res.stderr)


@pytest.fixture(scope="module", autouse=True)
def session_hosts_and_example_pillar_after_the_module(request):
    """Hosts a module added to the lab leave it with the module: an idle minion still
    runs every job sent to all minions (pillar refreshes, mine flushes), and the next
    modules' jobs would share the CPU with it. The example pillar comes back too."""
    yield
    if module_uses_lab(request):
        lab, wanted = request.getfixturevalue("lab"), request.getfixturevalue("lab_hosts")
        lab.remove([h for h in lab.hosts if h not in wanted])
        switch_pillar(lab, EXAMPLE_PILLAR)


# What the minions last rendered through switch_pillar: the folder and its content.
_RENDERED: dict = {}


def _digest(folder) -> str:
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def switch_pillar(lab, folder):
    """Point the master at ``folder`` and have every minion render it. Skipped when the
    minions already hold that content: the last switch rendered it, and the master still
    points at that folder, unchanged."""
    wanted = _digest(folder)
    in_use = lab.pillar_in_use()
    unchanged = in_use is not None and str(in_use) == _RENDERED.get("folder")
    lab.use_pillar(folder)
    if unchanged and _RENDERED.get("digest") == wanted == _digest(in_use):
        _RENDERED["folder"] = str(lab.pillar_in_use())
        return
    _RENDERED.clear()
    lab.run_everywhere("saltutil.refresh_pillar", wait=True)
    _RENDERED.update(folder=str(lab.pillar_in_use()), digest=wanted)


@pytest.fixture
def use_pillar(lab):
    """Call with a folder (top.sls + swarm.sls). The example pillar comes back before
    the next test that does not choose one (``example_pillar_unless_chosen``): the next
    test often chooses the same folder again, and then no minion renders anything."""
    yield lambda folder: switch_pillar(lab, folder)
    # A stopped minion cannot answer: not an error, as before.
    lab.run_everywhere("mine.flush", strict=False)


@pytest.fixture(autouse=True)
def example_pillar_unless_chosen(request):
    """A lab test that chooses no pillar (no ``use_pillar``, no ``own_pillar`` mark for
    one that switches it itself) runs on the example pillar."""
    chosen = "use_pillar" in request.fixturenames or request.node.get_closest_marker("own_pillar")
    if "lab" in request.fixturenames and not chosen:
        switch_pillar(request.getfixturevalue("lab"), EXAMPLE_PILLAR)


@contextlib.contextmanager
def swarm_for_the_module(lab, folder):
    """For a module-scoped fixture (``with ...: yield``): every host out, ``folder`` as
    the pillar, the bootstrap run; after the module, the mine flushed and every host out.
    The module's tests read that swarm (the last may change it) and carry the
    ``own_pillar`` mark, so no test switches the pillar under them."""
    swarms.leave_all(lab, lab.hosts)
    switch_pillar(lab, folder)
    run = orchestrate(lab)
    assert run.ok, run.out
    yield run
    lab.run_everywhere("mine.flush", strict=False)
    swarms.leave_all(lab, lab.hosts)


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
