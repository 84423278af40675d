"""The one money helper: Decimal end to end, 5 places as API v2 shows money, one rounding rule."""

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from django.db import models

PLACES = Decimal("0.00001")
MAX_DIGITS = 20
DECIMAL_PLACES = 5
ZERO = Decimal("0.00000")


def to_money(value) -> Decimal:
    """Round to 5 places, half up. Refuses floats: a float has already lost the cents."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        return Decimal(value).quantize(PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc


_SQLITE_DIGITS = Context(prec=15)  # SQLite keeps 15 significant digits of a decimal column, as Django reads it


def db_money(value) -> Decimal:
    """A money column as the driver returned it in plain SQL (SQLite: a float or an int; PostgreSQL: a
    Decimal), as the ORM would read it."""
    if isinstance(value, float):
        value = _SQLITE_DIGITS.create_decimal_from_float(value)
    return to_money(value)


def money_str(value) -> str:
    """The API's spelling of money: a string with exactly 5 places ("0.27819")."""
    return f"{to_money(value):f}"


def per_thousand(rate: Decimal, units: int) -> Decimal:
    """The charge for `units` at `rate` per 1000 units."""
    return to_money(Decimal(rate) * Decimal(units) / Decimal(1000))


def money_field(**kwargs) -> models.DecimalField:
    """A model field holding money of the panel's currency: 5 places, as API v2 shows it."""
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)
