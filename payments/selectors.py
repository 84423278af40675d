"""Reads behind the payment pages, the customer's and staff's."""


from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from accounts.money import MoneySum
from core.dates import within_days

from .models import GatewayEvent, Payment


def payments_for_customer(*, user):
    """The customer's top-ups, newest first."""
    return Payment.objects.filter(user=user).select_related("method").order_by("-created_at", "-id")


def payment_for_customer(*, user, reference) -> Payment | None:
    """One of the customer's own payments; None for anybody else's."""
    return Payment.objects.select_related("method").filter(user=user, reference=reference).first()


CREDITED = [Payment.Status.PAID, Payment.Status.REFUNDED, Payment.Status.DISPUTED]


def payments_for_staff(*, method=None, status: str = "", customer: str = "", date_from=None, date_to=None):
    payments = Payment.objects.select_related("user", "method").order_by("-created_at", "-id")
    if method is not None:
        payments = payments.filter(method=method)
    if status:
        payments = payments.filter(status=status)
    if customer:
        payments = payments.filter(Q(user__username__iexact=customer) | Q(user__email__iexact=customer))
    payments = payments.filter(within_days("created_at", date_from, date_to))
    return payments


def payment_for_staff(*, pk: int) -> Payment | None:
    return Payment.objects.select_related("user", "method", "reviewed_by").filter(pk=pk).first()


def payment_events(*, payment: Payment) -> list[GatewayEvent]:
    return list(GatewayEvent.objects.filter(payment=payment).order_by("received_at", "id"))


def payments_waiting_for_staff() -> int:
    return Payment.objects.filter(status=Payment.Status.REVIEW).count()


def totals_by_method_and_day(*, date_from, date_to) -> dict:
    """Credited payments per day and method between two dates (by the day they were paid): how many, what
    the gateways took in, what went on balances, bonuses and what was taken back; with the totals per method."""
    paid = Payment.objects.filter(within_days("paid_at", date_from, date_to), status__in=CREDITED)
    sums = {"count": Count("id"), "taken_in": MoneySum("total"), "credited": MoneySum("credited"),
            "bonus": MoneySum("bonus_credited"), "taken_back": MoneySum("taken_back")}
    days = list(paid.annotate(day=TruncDate("paid_at")).values("day", "method__name").annotate(**sums)
                .order_by("-day", "method__name"))
    methods = list(paid.values("method__name").annotate(**sums).order_by("method__name"))
    return {"days": days, "methods": methods}
