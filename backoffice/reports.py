"""The reads behind the reports page: revenue, cost, profit and orders over a range of days, per day or per
service, category, provider or customer.

Definitions (the page says them too):
- an order counts on the day it was placed (`created_at`, in the panel's TIME_ZONE), whatever became of it;
- revenue = charge − refunded (a canceled order, refunded in full, counts with its zero revenue);
- cost = what the provider charged us (`cost`); an order whose cost is not known counts as 0, and is counted;
- profit = revenue − cost.

Every report is two queries however many orders there are: the totals, and one grouped aggregate. Money is
summed with MoneySum (exact on SQLite too) and comes back as Decimal.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate

from accounts.money import ZERO, MoneySum, to_money
from core.dates import within_days
from orders.models import Order

DAY, SERVICE, CATEGORY, PROVIDER, CUSTOMER = "day", "service", "category", "provider", "customer"
GROUPINGS = [(DAY, "Day"), (SERVICE, "Service"), (CATEGORY, "Category"), (PROVIDER, "Provider"),
             (CUSTOMER, "Customer")]
TOP = 100  # rows shown for the groupings other than the day, by revenue

# What each grouping groups by: (key, label) columns of values().
_GROUP_COLUMNS = {
    SERVICE: ("service_id", "service__name"),
    CATEGORY: ("service__category_id", "service__category__name"),
    PROVIDER: ("provider_id", "provider__name"),
    CUSTOMER: ("user_id", "user__username"),
}

_SUMS = {
    "orders": Count("id"),
    "charged": MoneySum("charge"),
    "refunded_sum": MoneySum("refunded"),
    "cost_sum": MoneySum("cost"),
    "no_cost": Count("id", filter=Q(cost__isnull=True)),
}


@dataclass(frozen=True)
class Row:
    """One line of a report: a day, or one service, category, provider or customer (or the totals)."""

    key: object  # the day (a date) or the row's primary key; None for the totals
    label: str
    orders: int
    charged: Decimal
    refunded: Decimal
    cost: Decimal  # unknown costs counted as 0
    no_cost: int  # how many of the orders have no known cost

    @property
    def revenue(self) -> Decimal:
        return self.charged - self.refunded

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @classmethod
    def from_sums(cls, sums: dict, *, key=None, label: str = "") -> "Row":
        return cls(key=key, label=label, orders=sums.get("orders") or 0,
                   charged=_money(sums.get("charged")), refunded=_money(sums.get("refunded_sum")),
                   cost=_money(sums.get("cost_sum")), no_cost=sums.get("no_cost") or 0)

    @classmethod
    def empty(cls, *, key=None, label: str = "") -> "Row":
        return cls.from_sums({}, key=key, label=label)


@dataclass(frozen=True)
class Report:
    date_from: date
    date_to: date
    group: str
    totals: Row
    rows: list[Row]
    more: bool  # True when there are more groups than the TOP shown


def _money(value) -> Decimal:
    return ZERO if value is None else to_money(value)


def days_between(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def orders_placed(date_from: date, date_to: date):
    """The orders placed from the start of `date_from` to the end of `date_to`, both included."""
    return Order.objects.filter(within_days("created_at", date_from, date_to))


def totals(date_from: date, date_to: date) -> Row:
    return Row.from_sums(orders_placed(date_from, date_to).aggregate(**_SUMS), label="Total")


def per_day(date_from: date, date_to: date) -> list[Row]:
    """One row per day of the range, oldest first; a day without orders is a row of zeros."""
    found = {
        sums["day"]: Row.from_sums(sums, key=sums["day"], label=sums["day"].isoformat())
        for sums in orders_placed(date_from, date_to).order_by().annotate(day=TruncDate("created_at"))
        .values("day").annotate(**_SUMS)
    }
    return [found.get(day) or Row.empty(key=day, label=day.isoformat()) for day in days_between(date_from, date_to)]


def per_group(group: str, date_from: date, date_to: date, *, limit: int = TOP) -> list[Row]:
    """The `limit` services (categories, providers, customers) with the most revenue in the range, then by
    name; those without an order in the range are not listed."""
    key, label = _GROUP_COLUMNS[group]
    rows = (orders_placed(date_from, date_to).order_by().values(key, label).annotate(**_SUMS)
            .order_by((F("charged") - F("refunded_sum")).desc(), label, key)[:limit])
    return [Row.from_sums(sums, key=sums[key], label=sums[label] or "") for sums in rows]


def report(*, date_from: date, date_to: date, group: str = DAY) -> Report:
    if group == DAY:
        rows, more = per_day(date_from, date_to), False
    elif group in _GROUP_COLUMNS:
        rows = per_group(group, date_from, date_to, limit=TOP + 1)
        rows, more = rows[:TOP], len(rows) > TOP
    else:
        raise ValueError(f"no such grouping: {group!r}")
    return Report(date_from=date_from, date_to=date_to, group=group, totals=totals(date_from, date_to),
                  rows=rows, more=more)
