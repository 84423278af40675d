"""Prices of the panel's services, derived from the provider's rate or fixed by staff."""

from decimal import Decimal

from accounts.money import to_money

HUNDRED = Decimal(100)


def cost_rate(*, provider_rate: Decimal, exchange_rate: Decimal) -> Decimal:
    """What 1000 units cost the panel, in the panel's currency."""
    return to_money(Decimal(provider_rate) * Decimal(exchange_rate))


def derived_rate(*, provider_rate: Decimal, exchange_rate: Decimal, markup_percent: Decimal) -> Decimal:
    """provider rate × exchange rate × (1 + markup), rounded once at the end."""
    return to_money(Decimal(provider_rate) * Decimal(exchange_rate) * (1 + Decimal(markup_percent) / HUNDRED))
