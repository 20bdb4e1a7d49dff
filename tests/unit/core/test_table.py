import pytest

from salt_swarm.core.table import format_table


def test_columns_line_up_and_none_is_a_dash():
    out = format_table(("A", "LONG"), [("xyz", None), ("1", "2")])
    assert out.splitlines() == ["A    LONG", "xyz  -", "1    2"]


def test_row_of_wrong_width_is_an_error():
    with pytest.raises(ValueError):
        format_table(("A", "B"), [("only-one",)])
