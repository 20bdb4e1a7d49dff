"""The grain module imports everything the execution module needs, so a forked
minion job loading ``swarm.py`` imports nothing of salt-swarm or Docker again."""

import json
import subprocess
import sys
from pathlib import Path

import salt_swarm

MODULE = Path(salt_swarm.__file__).parent / "modules" / "swarm.py"

PROBE = """
import importlib.util, json, sys
if sys.argv[1] == "grain":
    import salt_swarm.grains.swarm_extension
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("salt.loaded.ext.module.swarm", sys.argv[2])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
new = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in ("salt_swarm", "docker"))
print(json.dumps(new))
"""


def _imported_by_module(first: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, first, str(MODULE)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_loading_the_module_alone_imports_core_and_docker():
    # Without the grain, the loader's import pulls in core and the SDK (the probe sees it).
    imported = _imported_by_module("bare")
    assert any(m.startswith("salt_swarm.core.") for m in imported)
    assert "docker" in imported


def test_after_the_grain_module_nothing_is_imported_again():
    assert _imported_by_module("grain") == []
