"""Money as API v2 writes it: Decimal, 5 places, half up. The one rounding rule of the protocol and of the
panel (accounts.money builds its database helpers on it). No Django: smmapi runs in any Python program."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DECIMAL_PLACES = 5
PLACES = Decimal("0.00001")
ZERO = Decimal("0.00000")

Amount = Decimal | int | str


def to_money(value: Amount) -> Decimal:
    """Round to 5 places, half up. Refuses floats: a float has already lost the cents."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        return Decimal(value).quantize(PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc


def money_str(value: Amount) -> str:
    """The API's spelling of money: a string with exactly 5 places ("0.27819")."""
    return f"{to_money(value):f}"


def per_thousand(rate: Amount, units: int) -> Decimal:
    """The charge for `units` at `rate` per 1000 units, rounded once, at the end."""
    return to_money(Decimal(rate) * Decimal(units) / Decimal(1000))
