"""The execution module reads pillar values as they are: Salt 3008's ``pillar.get``
answers "**********" for every value outside a template render, which would turn a
role target or a secret's content into that placeholder."""

import pytest

from salt_swarm.modules import swarm as module

MASKED = "**********"


@pytest.fixture
def minion(monkeypatch):
    pillar = {
        "swarm": {"managers": {"tgt": "m1", "tgt_type": "list"}},
        "app": {"db": {"password": "hunter2-plain"}},
    }
    salt = {
        "pillar.get": lambda *a, **k: MASKED,
        "match.list": lambda tgt, *a, **k: "m1" in tgt,
        "match.glob": lambda tgt, *a, **k: False,
    }
    monkeypatch.setattr(module, "__pillar__", pillar, raising=False)
    monkeypatch.setattr(module, "__salt__", salt, raising=False)
    monkeypatch.setattr(module, "__grains__", {"id": "m1"}, raising=False)
    return pillar


def test_own_role_matches_the_plain_targets(minion):
    assert module.own_role() == "managers"


def test_a_secret_from_pillar_is_the_plain_value(minion):
    assert module._content("secret", "db", "app:db:password", None, None) == "hunter2-plain"
