"""docs/reference.md is what docs/gen_reference.py makes from the code, now."""

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "docs" / "reference.md"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "docs/gen_reference.py")
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def test_reference_is_what_the_generator_makes():
    want = GEN.render()
    have = REFERENCE.read_text()
    if have != want:
        diff = next(
            (
                f"line {i}: file has {a!r}, the code gives {b!r}"
                for i, (a, b) in enumerate(
                    zip(have.splitlines(), want.splitlines(), strict=False), 1
                )
                if a != b
            ),
            "lines added or removed at the end",
        )
        raise AssertionError(
            f"docs/reference.md is out of date ({diff}): run {GEN.COMMAND} and commit it"
        )


def test_the_output_is_the_same_twice():
    assert GEN.render() == GEN.render()


def test_first_line_says_it_is_generated_and_how():
    first = REFERENCE.read_text().splitlines()[0]
    assert "Generated" in first and GEN.COMMAND in first


def test_every_function_has_a_section_with_its_signature():
    text = REFERENCE.read_text()
    for fn in GEN.all_functions():
        assert f"\n### {fn.salt_name}\n\n```python\n{fn.salt_name}(" in text, fn.salt_name


def test_salt_names_honour_func_alias_and_hide_pub_kwargs():
    names = [fn.salt_name for fn in GEN.all_functions()]
    assert "etcd_swarm.set" in names and "etcd_swarm.set_" not in names
    assert not [n for n in names if n.split(".")[1].startswith("_")]
    join = next(fn for fn in GEN.all_functions() if fn.salt_name == "swarm.join")
    assert join.section.kind == "execution"
    assert "kwargs" not in GEN.signature(join)  # swarm.join reads only __pub_jid from it
    assert 'role="worker"' in GEN.signature(join)


def test_rst_becomes_markdown():
    doc = """
    Does ``this``.

    arg
        What ``arg`` is,
        on two lines.
    one, two
        Both.

    CLI Example:

    .. code-block:: bash

        salt '*' swarm.info
        # a comment

    After.
    """
    assert GEN.rst_to_markdown(doc) == "\n".join(
        [
            "Does `this`.",
            "",
            "- `arg`: What `arg` is, on two lines.",
            "- `one`, `two`: Both.",
            "",
            "CLI Example:",
            "",
            "```bash",
            "salt '*' swarm.info",
            "# a comment",
            "```",
            "",
            "After.",
        ]
    )


def _headings_and_anchors(text):
    headings = [
        m.group(1)
        for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)
        if text.count("```", 0, m.start()) % 2 == 0
    ]
    return set(GEN._anchors(headings))


def test_links_into_the_reference_find_their_heading():
    anchors = _headings_and_anchors(REFERENCE.read_text())
    broken = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        own = path == REFERENCE
        pattern = r"\]\(#([\w-]+)\)" if own else r"\]\((?:docs/)?reference\.md#([\w-]+)\)"
        broken += [f"{path.name}: #{a}" for a in re.findall(pattern, text) if a not in anchors]
    assert not broken, f"links to headings docs/reference.md does not have: {broken}"
