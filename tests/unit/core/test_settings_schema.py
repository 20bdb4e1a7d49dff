"""One table of the swarm: settings (salt_swarm/core/settings.py): the formula's
defaults.yaml, the pillar check and docs/pillar.md agree with it."""

import re
from pathlib import Path

import yaml

from salt_swarm.core import pillar_check, settings

REPO = Path(__file__).resolve().parents[3]
DEFAULTS = yaml.safe_load((REPO / "states" / "swarm" / "defaults.yaml").read_text())["swarm"]
PILLAR_DOC = (REPO / "docs" / "pillar.md").read_text()


def test_every_key_of_defaults_yaml_is_a_setting_with_that_default():
    for key, value in DEFAULTS.items():
        assert key in settings.BY_KEY, key
        wanted = settings.default(key)
        if wanted is None or key == "formula_version":
            continue  # not set by default: the formula's placeholder ({} or '') stands in
        if isinstance(wanted, tuple):
            wanted = list(wanted)
        assert value == wanted, key


def test_every_setting_with_a_default_is_in_the_docs_table_with_it():
    for setting in settings.SETTINGS:
        if setting.key == "formula_version":
            continue  # the formula's own, not for users to set
        row = re.search(rf"^\| `swarm:{setting.key}`.*$", PILLAR_DOC, flags=re.M)
        if row is None:  # documented in a group (tls_cert, tls_key) or a section
            assert f"swarm:{setting.key}" in PILLAR_DOC, setting.key
            continue
        if setting.default not in (None, (), True, False):
            assert f"`{setting.default}`" in row.group(0), setting.key


def test_the_pillar_check_knows_every_setting_and_nothing_else():
    assert any("nosuchkey" in p for p in pillar_check.problems({"managers": "m*", "nosuchkey": 1}))
    for key in settings.KNOWN_KEYS:
        found = pillar_check.problems({"managers": "m*", key: None})
        assert not any("unknown key" in p for p in found), key


def test_seconds_flags_and_texts_are_checked_by_kind():
    for key in settings.of_kind("seconds"):
        assert any(f"swarm:{key}" in p for p in pillar_check.problems({"managers": "m*", key: "x"}))
    for key in settings.of_kind("flag"):
        assert any(
            f"swarm:{key}" in p for p in pillar_check.problems({"managers": "m*", key: "yes"})
        )
    for key in settings.of_kind("text"):
        assert any(f"swarm:{key}" in p for p in pillar_check.problems({"managers": "m*", key: 5}))
