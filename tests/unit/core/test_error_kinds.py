"""Errors carry a kind: a refusal stops the search for another manager, by its class,
also when it comes back from a minion as text."""

import pytest

from salt_swarm.core.errors import Refused, SwarmError, is_refusal
from salt_swarm.core.quorum import ManagerCounts, check_manager_removal
from salt_swarm.master.fleet import Fleet, RefusedThere


class Client:
    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def cmd(self, tgt, fun, **kw):
        self.asked.append(tgt[0])
        return {tgt[0]: self.answers[tgt[0]]}


def fleet(answers):
    f = Fleet({})
    f._client = Client(answers)
    return f


def test_a_refusal_is_a_kind_with_its_words():
    with pytest.raises(Refused) as err:
        check_manager_removal(ManagerCounts(3, 2), True, "demote m2")
    assert str(err.value).startswith("refusing to demote m2: it would leave 1 of 2 managers")
    assert is_refusal(str(err.value)) and not is_refusal("no leader")


def test_a_minions_refusal_is_final_other_failures_try_the_next_manager():
    refusal = "refusing to demote m2: it is the last manager"
    answers = {
        "m1": {"retcode": 1, "ret": "this node is not a swarm manager"},
        "m2": {"retcode": 1, "ret": refusal},
        "m3": {"retcode": 0, "ret": "done"},
    }
    f = fleet(answers)
    with pytest.raises(RefusedThere) as err:
        f.on_manager(["m1", "m2", "m3"], "swarm.node_update")
    assert str(err.value) == f"m2: swarm.node_update: {refusal}"
    assert f.client.asked == ["m1", "m2"]  # m3 is not asked: it would refuse too

    answers["m2"] = {"retcode": 1, "ret": "no leader"}
    f = fleet(answers)
    assert f.on_manager(["m1", "m2", "m3"], "swarm.node_update") == ("m3", "done")


def test_other_errors_stay_plain_swarm_errors():
    f = fleet({"m1": {"retcode": 1, "ret": "Docker said no"}})
    with pytest.raises(SwarmError) as err:
        f.call("m1", "swarm.info")
    assert not isinstance(err.value, Refused)
