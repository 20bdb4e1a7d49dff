"""Bytecode for salt-swarm's own package before the lab's daemons start.

A wheel install compiles every module (pip does); an editable install in a shell
with PYTHONDONTWRITEBYTECODE=1 never does, and then every forked minion job compiles
the execution module's imports from source again. The lab compiles them once, so it
measures what an installed package costs.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import salt_swarm


def compile_package() -> bool:
    """Compile salt_swarm's modules where the package lives; False if that is read-only."""
    package = Path(salt_swarm.__file__).parent
    try:
        return bool(compileall.compile_dir(str(package), quiet=1))
    except OSError:
        return False
