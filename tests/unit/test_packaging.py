"""What `pip install salt-swarm` gives: the wheel and sdist built from this checkout
hold the extension and the formula, valid metadata for an upload, and nothing of
the lab, the benches or the tests."""

import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from trove_classifiers import classifiers as valid_classifiers

from salt_swarm.version import __version__

REPO = Path(__file__).resolve().parents[2]
FORMULA = sorted(
    p.relative_to(REPO / "states").as_posix()
    for p in (REPO / "states" / "swarm").rglob("*")
    if p.is_file() and "__pycache__" not in p.parts
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The sdist and the wheel, built as a release would (isolated build)."""
    out = tmp_path_factory.mktemp("dist")
    res = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return out


def wheel(dist: Path) -> Path:
    (found,) = dist.glob("*.whl")
    return found


def names(dist: Path) -> list[str]:
    with zipfile.ZipFile(wheel(dist)) as whl:
        return whl.namelist()


def test_the_wheel_holds_the_extension_and_the_formula(dist):
    files = names(dist)
    for needed in (
        "salt_swarm/modules/swarm.py",
        "salt_swarm/states/swarm.py",
        "salt_swarm/runners/swarm.py",
        "salt_swarm/fileserver/swarm_formula.py",
        "salt_swarm/sdb/etcd_swarm.py",
        "salt_swarm/output/swarm_status.py",
        "salt_swarm/grains/swarm_extension.py",
    ):
        assert needed in files
    assert sorted(f.removeprefix("salt_swarm/formula/") for f in files if "/formula/" in f) == (
        FORMULA
    )


def test_the_wheel_holds_no_lab_bench_or_tests(dist):
    shipped = names(dist)
    for name in shipped:
        assert not name.startswith(("tests/", "bench/", "lab/", "salt_swarm/lab/")), name
        assert "__pycache__" not in name
    with zipfile.ZipFile(wheel(dist)) as whl:
        for name in shipped:
            if name.endswith(".py"):
                text = whl.read(name).decode()
                assert "import pytest" not in text and "salt_swarm.lab" not in text, name


def test_the_metadata_is_fit_for_an_upload(dist):
    with zipfile.ZipFile(wheel(dist)) as whl:
        (meta,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(whl.read(meta))
        (entry,) = [n for n in whl.namelist() if n.endswith(".dist-info/entry_points.txt")]
        entry_points = whl.read(entry).decode()
    assert metadata["Name"] == "salt-swarm" and metadata["Version"] == __version__
    assert metadata["License-Expression"] == "Apache-2.0"
    classifiers = metadata.get_all("Classifier")
    assert classifiers and set(classifiers) <= valid_classifiers
    requires = {Requirement(r).name: Requirement(r) for r in metadata.get_all("Requires-Dist")}
    for name in ("salt", "docker", "pyyaml", "cryptography"):
        assert name in requires, name
    salt = requires["salt"].specifier
    # Salt 3006 LTS to 3008, and no cap that would refuse the next Salt at install time.
    assert all(v in salt for v in ("3006.29", "3007.16", "3008.4", "3009.0")), salt
    assert "3005.5" not in salt
    assert metadata.get_all("Project-URL")
    assert "[salt.loader]\nsalt_swarm = salt_swarm" in entry_points


def test_twine_and_check_wheel_contents_pass(dist):
    files = [str(p) for p in sorted(dist.iterdir())]
    for argv in (
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        [str(Path(sys.executable).with_name("check-wheel-contents")), str(wheel(dist))],
    ):
        res = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr


def test_the_sdist_holds_what_builds_the_wheel(dist):
    (sdist,) = dist.glob("*.tar.gz")
    import tarfile

    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    for needed in ("pyproject.toml", "setup.py", "LICENSE", "README.md", "salt_swarm/version.py"):
        assert needed in members, needed
    assert {f"states/{f}" for f in FORMULA} <= members
