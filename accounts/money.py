"""Money in the database: the panel's columns, exact sums on SQLite, driver values read back. The rounding
rule itself is the protocol's (smmapi.money): one rule for what providers send and what the panel keeps."""

from decimal import Context, Decimal

from django.db import models

from smmapi.money import DECIMAL_PLACES, PLACES, ZERO, money_str, to_money

__all__ = ["DECIMAL_PLACES", "MAX_DIGITS", "PLACES", "ZERO", "MoneySum", "db_money", "money_field", "money_str",
           "to_money"]

MAX_DIGITS = 20

_SQLITE_DIGITS = Context(prec=15)  # SQLite keeps 15 significant digits of a decimal column, as Django reads it


def db_money(value) -> Decimal:
    """A money column as the driver returned it in plain SQL (SQLite: a float or an int; PostgreSQL: a
    Decimal), as the ORM would read it."""
    if isinstance(value, float):
        value = _SQLITE_DIGITS.create_decimal_from_float(value)
    return to_money(value)


def money_field(**kwargs) -> models.DecimalField:
    """A model field holding money of the panel's currency: 5 places, as API v2 shows it."""
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


class MoneySum(models.Sum):
    """SUM() of a money column, exact on every database.

    SQLite adds a decimal column as floats: eight amounts that come to 0.00500 can come back as
    0.00499999999999901. There the sum adds whole units of 0.00001 as integers (each stored amount has at most
    5 places, so rounding it to a unit is exact) and scales the integer back; PostgreSQL adds `numeric` exactly.
    """

    _SQLITE_TEMPLATE = "%(function)s(%(distinct)sCAST(ROUND(%(expressions)s * 100000) AS INTEGER))"

    def __init__(self, expression, **extra):
        extra.setdefault("output_field", money_field())
        super().__init__(expression, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        # On a copy: Aggregate.as_sql reads the template from the instance when a filter is given.
        clone = self.copy()
        clone.template = self._SQLITE_TEMPLATE
        return models.Sum.as_sql(clone, compiler, connection, **extra_context)

    @staticmethod
    def _to_money(value, expression, connection):
        if value is None:
            return None
        if connection.vendor == "sqlite":
            return to_money(Decimal(int(value)) * PLACES)
        return to_money(value)

    @property
    def convert_value(self):
        return self._to_money
