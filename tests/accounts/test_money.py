from decimal import Decimal

import pytest

from accounts.money import db_money, to_money


@pytest.mark.parametrize(("value", "read"), [
    (0.1, Decimal("0.10000")),  # SQLite answers a float
    (2, Decimal("2.00000")),  # or an int, for a whole amount
    (Decimal("0.27819"), Decimal("0.27819")),  # PostgreSQL answers a Decimal
    (12345678901.234549, Decimal("12345678901.23450")),  # 15 significant digits, as Django reads SQLite's
    (0.000005, Decimal("0.00001")),  # half up to 5 places
])
def test_a_money_column_read_in_plain_sql_comes_out_as_the_orm_would_read_it(value, read):
    assert db_money(value) == read and str(db_money(value)) == str(read)


def test_money_refuses_floats_and_text_that_is_not_an_amount():
    with pytest.raises(TypeError):
        to_money(0.1)
    with pytest.raises(ValueError, match="not an amount"):
        to_money("ten")
