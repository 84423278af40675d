"""The dashboard's figures, read across the apps in a fixed number of queries whatever the business's size.

Money is summed with MoneySum (exact on SQLite too). Revenue is what customers were charged less what was
refunded; cost is what providers charged for those orders (unknown costs count as zero, and are counted);
profit is revenue less cost. Days are the panel's TIME_ZONE days.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Aggregate, Count, Min, Q
from django.utils import timezone

from accounts.money import ZERO, MoneySum
from core.models import Heartbeat
from orders.models import Order
from orders.services import stuck_after
from payments.models import Payment

CREDITED = [Payment.Status.PAID, Payment.Status.REFUNDED, Payment.Status.DISPUTED]
# A queued order older than this is a backlog (its worker message was lost, or the provider refuses orders).
BACKLOG_AFTER = timedelta(minutes=5)
# Beat notes a heartbeat every 30 s and sends the worker one every 30 s: two minutes of silence is a stop.
ALIVE_WITHIN = timedelta(minutes=2)


@dataclass(frozen=True)
class Periods:
    today: datetime
    month: datetime
    last_30: datetime

    @classmethod
    def now(cls) -> "Periods":
        today = timezone.localdate()
        start = timezone.make_aware(datetime.combine(today, time.min))
        return cls(today=start, month=start.replace(day=1), last_30=start - timedelta(days=29))

    @property
    def earliest(self) -> datetime:
        return min(self.month, self.last_30)


@dataclass(frozen=True)
class Money:
    revenue: Decimal
    cost: Decimal
    orders: int
    unknown_cost: int

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost


def business(periods: Periods) -> dict[str, Money]:
    """Revenue, cost, profit and order counts today, this month and over the last 30 days. One query."""
    sums: dict[str, Aggregate] = {}
    for name in ("today", "month", "last_30"):
        placed = Q(created_at__gte=getattr(periods, name))
        sums[f"{name}_charge"] = MoneySum("charge", filter=placed)
        sums[f"{name}_refunded"] = MoneySum("refunded", filter=placed)
        sums[f"{name}_cost"] = MoneySum("cost", filter=placed)
        sums[f"{name}_orders"] = Count("id", filter=placed)
        sums[f"{name}_unknown"] = Count("id", filter=placed & Q(cost__isnull=True))
    row = Order.objects.filter(created_at__gte=periods.earliest).aggregate(**sums)
    return {name: Money(revenue=(row[f"{name}_charge"] or ZERO) - (row[f"{name}_refunded"] or ZERO),
                        cost=row[f"{name}_cost"] or ZERO, orders=row[f"{name}_orders"],
                        unknown_cost=row[f"{name}_unknown"])
            for name in ("today", "month", "last_30")}


def deposits(periods: Periods) -> dict[str, tuple[int, Decimal]]:
    """Payments credited (count, amount put on balances) today, this month, last 30 days. One query."""
    sums: dict[str, Aggregate] = {}
    for name in ("today", "month", "last_30"):
        paid = Q(paid_at__gte=getattr(periods, name))
        sums[f"{name}_n"] = Count("id", filter=paid)
        sums[f"{name}_sum"] = MoneySum("credited", filter=paid)
    row = Payment.objects.filter(status__in=CREDITED, paid_at__gte=periods.earliest).aggregate(**sums)
    return {name: (row[f"{name}_n"], row[f"{name}_sum"] or ZERO) for name in ("today", "month", "last_30")}


def orders_by_status(periods: Periods) -> list[dict]:
    """Orders placed today and this month, per customer-visible status. One query."""
    rows = {row["status"]: row for row in Order.objects.filter(created_at__gte=periods.month)
            .values("status").annotate(today=Count("id", filter=Q(created_at__gte=periods.today)),
                                       month=Count("id")).order_by()}
    return [{"status": status, "today": rows.get(status, {}).get("today", 0),
             "month": rows.get(status, {}).get("month", 0)} for status in Order.Status.values]


@dataclass(frozen=True)
class Attention:
    failed: int
    stuck_sending: int
    poll_errors: int
    rejected_today: int
    queued: int
    backlog: int
    oldest_queued: datetime | None

    @property
    def total(self) -> int:
        return self.failed + self.stuck_sending + self.poll_errors + self.rejected_today + self.backlog


def attention(periods: Periods) -> Attention:
    """Orders that need a person, and the queue's backlog. One query."""
    now = timezone.now()
    row = Order.objects.filter(
        Q(state__in=[Order.State.FAILED, Order.State.SENDING, Order.State.QUEUED]) | Q(needs_attention=True)
        | Q(state=Order.State.REJECTED, updated_at__gte=periods.today),
    ).aggregate(
        failed=Count("id", filter=Q(state=Order.State.FAILED)),
        stuck=Count("id", filter=Q(state=Order.State.SENDING, sending_since__lt=now - stuck_after())),
        poll_errors=Count("id", filter=Q(needs_attention=True) & ~Q(state=Order.State.FAILED)),
        rejected=Count("id", filter=Q(state=Order.State.REJECTED, updated_at__gte=periods.today)),
        queued=Count("id", filter=Q(state=Order.State.QUEUED)),
        backlog=Count("id", filter=Q(state=Order.State.QUEUED, created_at__lt=now - BACKLOG_AFTER)),
        oldest=Min("created_at", filter=Q(state=Order.State.QUEUED)),
    )
    return Attention(failed=row["failed"], stuck_sending=row["stuck"], poll_errors=row["poll_errors"],
                     rejected_today=row["rejected"], queued=row["queued"], backlog=row["backlog"],
                     oldest_queued=row["oldest"])


@dataclass(frozen=True)
class Process:
    name: str
    last_seen: datetime | None

    @property
    def alive(self) -> bool:
        return self.last_seen is not None and timezone.now() - self.last_seen <= ALIVE_WITHIN


def processes() -> list[Process]:
    """Whether Celery beat and a worker are alive, from their heartbeats. One query."""
    seen = dict(Heartbeat.objects.values_list("name", "at"))
    return [Process("beat", seen.get("beat")), Process("worker", seen.get("worker"))]


def low_balance(provider) -> bool:
    return (provider.low_balance_warning is not None and provider.balance is not None
            and provider.balance < provider.low_balance_warning)


def refresh_seconds() -> float:
    return settings.DASHBOARD_REFRESH_SECONDS
