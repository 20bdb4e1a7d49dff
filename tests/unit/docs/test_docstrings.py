"""Every public function of the loader modules documents itself: a CLI Example, and
every argument it takes (docs/reference.md is made from these docstrings)."""

import ast
import importlib.util
import inspect
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "salt_swarm"
LOADER_FILES = sorted(
    p
    for kind in ("modules", "states", "runners")
    for p in (PACKAGE / kind).glob("*.py")
    if p.name != "__init__.py"
)
WITH_CLI_EXAMPLES = LOADER_FILES + sorted((PACKAGE / "sdb").glob("[!_]*.py"))


def _generator():
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "docs/gen_reference.py")
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


GEN = _generator()
FUNCTIONS = GEN.all_functions()


def public_functions(path):
    tree = ast.parse(path.read_text())
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


@pytest.mark.parametrize("path", WITH_CLI_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
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


def documented_names(doc):
    """Argument names a docstring mentions: as ``arg`` (also ``arg=...``, ``arg: ...``)
    or as a term of an argument list (``arg`` or ``arg1, arg2`` alone on a line, its
    description indented below)."""
    names = set(re.findall(r"``(\w+)(?:\s*[=:][^`]*)?``", doc))
    lines = doc.splitlines()
    for line, nxt in zip(lines, lines[1:] + [""], strict=True):
        indent = len(line) - len(line.lstrip())
        if GEN._TERM.match(line.strip()) and nxt.strip() and len(nxt) - len(nxt.lstrip()) > indent:
            names.update(line.strip().split(", "))
    return names


def must_document(fn):
    for p in inspect.signature(fn.func).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name == "test":
            continue
        if fn.section.kind == "state" and p.name == "name":
            continue
        yield p.name


def test_the_generator_finds_every_loader_module():
    kinds = {fn.section.kind for fn in FUNCTIONS}
    assert kinds == {"execution", "state", "runner", "sdb", "output", "grains"}


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f"{f.section.kind}:{f.salt_name}")
def test_every_argument_is_in_the_docstring(fn):
    missing = sorted(set(must_document(fn)) - documented_names(fn.doc))
    assert not missing, (
        f"{fn.salt_name} ({fn.section.module}): the docstring does not mention "
        f"{', '.join(missing)}: name each as ``arg`` or in an argument list, with what it does"
    )


def test_documented_names_reads_both_forms():
    doc = inspect.cleandoc(
        """
        Uses ``alpha`` and ``beta=True`` and ``gamma: 3``.

        delta, epsilon
            Two at once.
        zeta
            One.
        eta is only a word here.
        """
    )
    assert documented_names(doc) == {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}
