"""Prices of the panel's services, derived from the provider's rate or fixed by staff."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.money import to_money

HUNDRED = Decimal(100)


def cost_rate(*, provider_rate: Decimal, exchange_rate: Decimal) -> Decimal:
    """What 1000 units cost the panel, in the panel's currency."""
    return to_money(Decimal(provider_rate) * Decimal(exchange_rate))


def derived_rate(*, provider_rate: Decimal, exchange_rate: Decimal, markup_percent: Decimal) -> Decimal:
    """provider rate × exchange rate × (1 + markup), rounded once at the end."""
    return to_money(Decimal(provider_rate) * Decimal(exchange_rate) * (1 + Decimal(markup_percent) / HUNDRED))


@dataclass(frozen=True)
class CustomerPrices:
    """What one customer pays instead of the list prices: a discount off every service, and their own rate of
    some services (which wins over the discount). Neither goes below the provider's cost unless staff
    confirmed it."""

    discount_percent: Decimal = Decimal(0)
    discount_below_cost: bool = False
    rates: Mapping[int, tuple[Decimal, bool]] = field(default_factory=dict)  # service ID → (rate, confirmed)

    def rate_of(self, service_id: int, list_rate: Decimal, cost: Callable[[], Decimal]) -> Decimal:
        if service_id in self.rates:
            rate, confirmed = self.rates[service_id]
            return rate if confirmed else max(rate, cost())
        if self.discount_percent <= 0:
            return list_rate
        discounted = to_money(list_rate * (HUNDRED - self.discount_percent) / HUNDRED)
        if self.discount_below_cost:
            return discounted
        return min(list_rate, max(discounted, cost()))
