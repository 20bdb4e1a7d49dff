"""bench/join_publish.py's numbers hold what they claim (pure logic, no lab)."""

from bench import join_publish
from salt_swarm.core import sealed_pull


def test_the_pull_load_grows_by_the_ids_only_and_the_inline_load_by_the_tokens_too():
    pem = join_publish._public_pem()
    small, big = join_publish.measure(10, pem), join_publish.measure(40, pem)
    per_id = (big["pull"] - small["pull"]) / 30
    per_token = (big["inline"] - small["inline"]) / 30
    assert per_id < 40  # "worker00012.example.net" and its msgpack header
    assert per_token > per_id + len(sealed_pull.PREFIX) + 300  # an RSA-2048 sealed token
    assert big["kept"] > big["pull"]  # the tokens stay on the master
