import pytest

from lab.wait import WaitTimeout, wait_for


def test_returns_the_first_truthy_result():
    calls = iter([None, 0, "ready"])
    assert wait_for(lambda: next(calls), timeout=5, what="x", interval=0) == "ready"


def test_times_out_naming_what_it_waited_for():
    with pytest.raises(WaitTimeout, match="the moon"):
        wait_for(lambda: False, timeout=0.05, what="the moon", interval=0.01)
