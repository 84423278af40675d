"""Writes of the simulated provider, each in one transaction: accounts, orders, settling, cancels, refills."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from . import errors, selectors
from .errors import ApiError
from .models import OrderStatus, RefillStatus, SandboxAccount, SandboxOrder, SandboxRefill
from .money import round_money
from .order_input import parse_order
from .progress import Progress, order_progress, refill_outcome, refill_progress, start_count_for

DEMO_ACCOUNT_NAME = "demo"
DEMO_BALANCE = Decimal("1000")
REFILLABLE = (OrderStatus.COMPLETED, OrderStatus.PARTIAL)
RUNNING_REFILL = (RefillStatus.PENDING, RefillStatus.IN_PROGRESS)


def create_account(*, name: str, balance: Decimal | str | int, currency: str = "USD") -> SandboxAccount:
    return SandboxAccount.objects.create(name=name, balance=round_money(Decimal(balance)), currency=currency)


def get_or_create_demo_account() -> SandboxAccount:
    account = SandboxAccount.objects.filter(name=DEMO_ACCOUNT_NAME).order_by("id").first()
    return account or create_account(name=DEMO_ACCOUNT_NAME, balance=DEMO_BALANCE)


def order_add(*, account: SandboxAccount, fields: dict[str, str], now: datetime) -> SandboxOrder:
    service = selectors.active_service(fields.get("service", ""))
    wanted = parse_order(service, fields)
    with transaction.atomic():
        # A conditional UPDATE debits only if the money is there, even with concurrent `add`s.
        debited = SandboxAccount.objects.filter(pk=account.pk, balance__gte=wanted.charge).update(
            balance=F("balance") - wanted.charge
        )
        if not debited:
            raise ApiError(errors.NOT_ENOUGH_FUNDS)
        return SandboxOrder.objects.create(
            account=account,
            service=service,
            link=wanted.link,
            quantity=wanted.units,
            runs=wanted.runs,
            interval=wanted.interval,
            params=wanted.params,
            charge=wanted.charge,
            start_count=start_count_for(wanted.link),
            created_at=now,
        )


def orders_settle_due(*, orders: list[SandboxOrder], now: datetime) -> None:
    """Write the final status of every order whose time is up (or whose cancel was accepted)."""
    for order in orders:
        progress = order_progress(order, now=now)
        if progress.is_final and not order.final_status:
            _settle(order, progress, now)


def refund_for(order: SandboxOrder, progress: Progress) -> Decimal:
    if progress.status == OrderStatus.CANCELED:
        return order.charge
    if progress.status == OrderStatus.PARTIAL:
        return round_money(order.charge * progress.remains / order.quantity)
    return Decimal("0")


def _settle(order: SandboxOrder, progress: Progress, now: datetime) -> None:
    refund = refund_for(order, progress)
    with transaction.atomic():
        # Claiming the settle with a conditional UPDATE makes the refund happen once, however many requests
        # read the order at the same moment: only the one that flips final_status from "" pays it.
        won = SandboxOrder.objects.filter(pk=order.pk, final_status="").update(
            final_status=progress.status, final_remains=progress.remains, refunded=refund, settled_at=now
        )
        if won and refund:
            SandboxAccount.objects.filter(pk=order.account_id).update(balance=F("balance") + refund)
    order.refresh_from_db(fields=["final_status", "final_remains", "refunded", "settled_at"])


def order_cancel(*, account: SandboxAccount, order_id: str, now: datetime) -> None:
    order = selectors.order_for(account=account, order_id=order_id)
    orders_settle_due(orders=[order], now=now)
    if not order.service.cancel or order_progress(order, now=now).is_final:
        raise ApiError(errors.NOT_CANCELABLE)
    # The order turns Canceled (and is refunded) at its next read, like a real provider's async cancel.
    SandboxOrder.objects.filter(pk=order.pk, final_status="", cancel_requested_at=None).update(
        cancel_requested_at=now
    )


def refill_create(*, account: SandboxAccount, order_id: str, now: datetime) -> SandboxRefill:
    order = selectors.order_for(account=account, order_id=order_id)
    orders_settle_due(orders=[order], now=now)
    if not order.service.refill or order.final_status not in REFILLABLE:
        raise ApiError(errors.NOT_REFILLABLE)
    with transaction.atomic():
        # Lock the order so two refill requests for it cannot both pass the "none running" check.
        order = SandboxOrder.objects.select_for_update().get(pk=order.pk)
        if any(refill_progress(r, now=now) in RUNNING_REFILL for r in order.refills.all()):
            raise ApiError(errors.REFILL_RUNNING)
        return SandboxRefill.objects.create(order=order, created_at=now, outcome=refill_outcome(order.link))
