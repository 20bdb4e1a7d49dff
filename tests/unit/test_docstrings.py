"""Every public function of the loader modules documents itself with a CLI Example."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "salt_swarm"
LOADER_FILES = sorted(
    p
    for kind in ("modules", "states", "runners")
    for p in (PACKAGE / kind).glob("*.py")
    if p.name != "__init__.py"
)


def public_functions(path):
    tree = ast.parse(path.read_text())
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


@pytest.mark.parametrize("path", LOADER_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_public_functions_have_a_cli_example(path):
    missing = [
        f.name for f in public_functions(path) if "CLI Example:" not in (ast.get_docstring(f) or "")
    ]
    assert not missing, f"{path.name}: no 'CLI Example:' in {missing}"


@pytest.mark.parametrize("path", LOADER_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_loader_modules_declare_a_virtualname(path):
    text = path.read_text()
    assert '__virtualname__ = "swarm"' in text
    assert "def __virtual__" in text
