"""swarm.join with a reference: the minion fetches its own sealed token from the
master's fileserver, opens it, and keeps no copy in its file cache."""

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from salt.exceptions import CommandExecutionError

from salt_swarm.core import sealed, sealed_pull
from salt_swarm.modules import swarm as module

TOKEN = f"SWMTKN-1-{'a' * 50}-{'w' * 25}"
JID = "20261207120000123456"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUB = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


@pytest.fixture
def minion(monkeypatch, tmp_path):
    served = {}
    fetched = []

    def get_file_str(url, saltenv="base"):
        fetched.append(url)
        rel = url.removeprefix("salt://")
        copy = tmp_path / "files" / saltenv / rel
        copy.parent.mkdir(parents=True, exist_ok=True)
        if rel not in served:
            return False
        copy.write_text(served[rel])
        return served[rel]

    monkeypatch.setattr(module, "__opts__", {"id": "w1", "cachedir": str(tmp_path)}, raising=False)
    monkeypatch.setattr(module, "__salt__", {"cp.get_file_str": get_file_str}, raising=False)
    monkeypatch.setattr(module.salt_internals, "minion_private_key", lambda opts: KEY)
    return served, fetched, tmp_path


def test_the_reference_fetches_this_minions_token_and_leaves_no_copy(minion):
    served, fetched, cache = minion
    binding = sealed.Binding("worker", JID, int(time.time()) + 60)
    served[sealed_pull.path(JID, "w1")] = sealed.seal(PUB, TOKEN, binding) + "\n"
    ref = sealed_pull.reference(JID)
    assert module._given_token("worker", ["m:2377"], None, ref, JID) == TOKEN
    assert fetched == [f"salt://{sealed_pull.path(JID, 'w1')}"]
    assert not (cache / "files" / "base" / sealed_pull.FOLDER / JID).exists()


def test_no_token_kept_for_this_minion_is_a_clear_error(minion):
    with pytest.raises(CommandExecutionError, match="holds no token sealed for this minion"):
        module._given_token("worker", ["m:2377"], None, sealed_pull.reference(JID), JID)


def test_a_reference_replayed_in_another_job_does_not_open(minion):
    served, _, _ = minion
    binding = sealed.Binding("worker", JID, int(time.time()) + 60)
    served[sealed_pull.path(JID, "w1")] = sealed.seal(PUB, TOKEN, binding)
    other = str(int(JID) + 1)
    with pytest.raises(CommandExecutionError, match="opens only in the job that carried it"):
        module._given_token("worker", ["m:2377"], None, sealed_pull.reference(JID), other)
