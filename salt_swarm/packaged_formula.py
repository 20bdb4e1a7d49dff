"""Where the salt-swarm formula (the ``swarm`` SLS tree) lives, at the installed version.

A wheel carries the formula as package data under ``salt_swarm/formula`` (built from
the repository's ``states/``); a source checkout (an editable install) has it in
``states/`` beside the package. The fileserver backend ``swarm_formula`` serves it.
"""

from __future__ import annotations

from pathlib import Path

from salt_swarm.version import __version__

PACKAGE_DIR = Path(__file__).resolve().parent
MARKER = Path("swarm") / "init.sls"


def root() -> Path:
    """The folder that holds ``swarm/`` (the formula), installed or in a checkout."""
    for candidate in (PACKAGE_DIR / "formula", PACKAGE_DIR.parent / "states"):
        if (candidate / MARKER).is_file():
            return candidate
    raise FileNotFoundError(
        f"salt-swarm {__version__}: the formula is not installed with the package "
        f"(looked in {PACKAGE_DIR / 'formula'} and {PACKAGE_DIR.parent / 'states'})"
    )


def relative(path: str) -> Path | None:
    """``path`` (as a ``salt://`` path) inside the formula root, or None when it is
    absolute, leaves the root, or is not a file of the formula."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\0" in path:
        return None
    base = root()
    full = (base / path).resolve()
    if base.resolve() not in full.parents or not full.is_file():
        return None
    return full


def files() -> list[str]:
    """Every file of the formula, as ``salt://`` paths (``swarm/init.sls``, ...)."""
    base = root()
    return sorted(
        p.relative_to(base).as_posix()
        for p in (base / "swarm").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def dirs() -> list[str]:
    """Every folder of the formula, as ``salt://`` paths (``swarm``, ``swarm/reactor``)."""
    return sorted({Path(f).parent.as_posix() for f in files()} - {"."})
