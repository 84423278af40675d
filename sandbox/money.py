"""The sandbox's one rounding rule: Decimal, 5 places, half up, shown as a string ("0.27819")."""

from decimal import ROUND_HALF_UP, Decimal

PLACES = Decimal("0.00001")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_UP)


def money_str(value: Decimal) -> str:
    return str(round_money(value))


def rate_str(value: Decimal) -> str:
    # Rates read like the seed's ("0.90", "8"): no trailing zeros beyond two places.
    text = str(round_money(value))
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    if not fraction:
        return whole
    return f"{whole}.{fraction.ljust(2, '0')}"
