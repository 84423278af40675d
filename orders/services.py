"""Writes on orders: take an order (charge it), send it upstream exactly once, settle what comes back.

DESIGN.md's placement table, one function a transition, each one transaction. The provider is called
outside any transaction: a row lock is never held across the network.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app as celery_app  # the project's app (panel.celery), set as current at start
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

import smmapi
from accounts.money import money_str
from accounts.services import InsufficientFunds, wallet_charge_order, wallet_refund_order
from catalog.models import Service
from catalog.selectors import apply_customer_prices
from core import events as announce
from core.services import notice_once
from smmapi.orders import InvalidOrder, OrderInput, Terms, add_fields, parse_order, sends_quantity

from .models import Order, OrderEvent

log = logging.getLogger(__name__)

BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


class OrderRefused(Exception):
    """The order cannot be taken; `field` names the input at fault, the message is for the customer."""

    def __init__(self, message: str, field: str = "", api_message: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.api_message = api_message or message


@dataclass(frozen=True)
class Quote:
    """What an order would be and cost, before anything is written."""

    service: Service
    order: OrderInput


def service_terms(service: Service) -> Terms:
    return Terms(type=smmapi.normalize_service_type(service.type), rate=service.rate,
                 min=service.min_quantity, max=service.max_quantity, dripfeed=service.dripfeed)


def order_quote(*, service: Service | None, fields: dict) -> Quote:
    """Validate an order for a service. Raises OrderRefused; writes nothing."""
    if service is None or not service.enabled:
        raise OrderRefused("Choose a service that is on sale.", "service", "Incorrect service ID")
    try:
        return Quote(service=service, order=parse_order(service_terms(service), fields))
    except InvalidOrder as exc:
        raise OrderRefused(exc.message, exc.field, exc.api_message) from None


def order_place(*, user, service: Service | None, fields: dict, request_id: str | None = None) -> Order:
    """Take an order: create it and debit its charge in one transaction, then hand it to a worker.

    With a `request_id` (an API client's own ID for the request), a retry returns the order the first
    request placed instead of placing and charging a second one.
    """
    if request_id:
        earlier = Order.objects.filter(user=user, request_id=request_id).first()
        if earlier is not None:
            return earlier
    if service is not None:
        apply_customer_prices([service], user)  # what this customer pays, whoever looked the service up
    quote = order_quote(service=service, fields=fields)
    try:
        order = _create_and_charge(user=user, quote=quote, request_id=request_id or None)
    except InsufficientFunds as exc:
        raise OrderRefused(_not_enough_funds(exc), "", "Not enough funds on balance") from None
    except IntegrityError:
        if request_id:  # the same request, retried concurrently, won the race: that order is the answer
            return Order.objects.get(user=user, request_id=request_id)
        raise
    return order


def _not_enough_funds(exc: InsufficientFunds) -> str:
    if exc.balance is not None and exc.balance < 0:
        return (f"Your balance is below zero ({money_str(exc.balance)} {settings.PANEL_CURRENCY}): a payment was "
                "taken back at its gateway. Add funds before ordering.")
    return "Not enough funds on balance."


def _create_and_charge(*, user, quote: Quote, request_id: str | None = None) -> Order:
    """Create the order, its event and its charge in one transaction; hand it to a worker after the commit."""
    service, parsed = quote.service, quote.order
    # Built before the transaction opens: the less work inside, the shorter the write lock is held.
    order = Order(
        user=user, service=service, provider_id=service.provider_service.provider_id,
        provider_service=service.provider_service, link=parsed.link, quantity=parsed.quantity,
        runs=parsed.runs, interval=parsed.interval, params=parsed.params,
        units=parsed.units, rate=service.rate, charge=parsed.charge, request_id=request_id,
    )
    message = f"Ordered {parsed.units} for {money_str(parsed.charge)}; charged to the balance."
    with transaction.atomic():
        order.save(force_insert=True)
        _event(order, "created", message)
        # The balance last: on PostgreSQL its row lock is then held only for the ledger row and the commit.
        wallet_charge_order(order=order)
        transaction.on_commit(lambda: dispatch(order.pk))
    return order


SEND_ORDER_TASK = "orders.send_order"  # orders.tasks.send_order, named rather than imported: tasks import us


def dispatch(order_id: int) -> bool:
    """Hand the order to a Celery worker. With the broker down the order stays queued for the sweep."""
    try:
        celery_app.send_task(SEND_ORDER_TASK, args=(order_id,), retry=False)
    except Exception:  # any broker failure: the order is safe in the database, the sweep will send it
        log.warning("broker unavailable, order %s left queued for the sweep", order_id)
        return False
    return True


def _event(order: Order, kind: str, message: str, *, staff_only: bool = False) -> None:
    OrderEvent.objects.create(order=order, kind=kind, message=message, staff_only=staff_only)


# --- Sending: claim, call, settle ---------------------------------------------------------------------

def order_send(order_id: int) -> str | None:
    """Send one queued order upstream, at most once. Returns the state it ended in, or None if not claimed."""
    if not _claim(order_id):
        return None
    order = Order.objects.select_related("provider", "provider_service").get(pk=order_id)
    try:
        external_id = order.provider.client().add(order.provider_service.external_id, order.link,
                                                  **_add_fields(order))
    except smmapi.ProviderRefused as exc:
        if smmapi.is_provider_side_refusal(exc.message):
            return _requeue(order, f"The provider is not taking orders now: {exc.message}", tell_staff=True)
        return _reject(order, exc.message)
    except smmapi.NotSent as exc:
        return _requeue(order, f"Could not reach the provider: {exc}")
    except smmapi.Ambiguous as exc:
        return _fail(order, f"No clear answer from the provider: {exc}")
    except Exception as exc:  # our own bug mid-call: we cannot know whether it went out
        log.exception("order %s: unexpected error while sending", order_id)
        return _fail(order, f"Unexpected error while sending: {exc.__class__.__name__}")
    return _placed(order, external_id)


def _add_fields(order: Order) -> dict:
    service_type = smmapi.normalize_service_type(order.provider_service.type)
    return add_fields(quantity=order.quantity if sends_quantity(service_type) else None, runs=order.runs,
                      interval=order.interval, params=order.params)


def _claim(order_id: int) -> bool:
    """One worker wins: a conditional UPDATE from queued to sending; the loser walks away."""
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimed = Order.objects.filter(due, pk=order_id, state=Order.State.QUEUED).update(
        state=Order.State.SENDING, sending_since=now, attempts=F("attempts") + 1, updated_at=now,
    )
    return claimed == 1


def _settle(order: Order, **changes) -> bool:
    """Move an order out of `sending`. A sweep may have parked it as failed meanwhile: a real answer wins."""
    changes.setdefault("updated_at", timezone.now())
    moved = Order.objects.filter(
        pk=order.pk, state__in=[Order.State.SENDING, Order.State.FAILED], external_id=""
    ).update(**changes)
    for name, value in changes.items():
        setattr(order, name, value)
    return moved == 1


@transaction.atomic
def _placed(order: Order, external_id: str) -> str:
    if _settle(order, state=Order.State.PLACED, external_id=external_id, sending_since=None, reason="",
               needs_attention=False):
        _event(order, "placed", f"Placed with the provider as order {external_id}.")
        return Order.State.PLACED
    # The answer came after the sweep parked the order and staff already decided (resent or refunded it):
    # the provider has an order the panel no longer tracks. Never drop that silently.
    notice_once(f"Order #{order.pk}: the provider placed it late as {external_id}"[:255],
                "The answer arrived after the order was parked and decided on. Check it with the provider: it may "
                "be delivered twice or delivered after its refund.")
    return Order.State.FAILED


@transaction.atomic
def _reject(order: Order, message: str) -> str:
    """The provider refused this order: Canceled, the whole charge back, the reason shown."""
    if _settle(order, state=Order.State.REJECTED, status=Order.Status.CANCELED, sending_since=None,
               reason=message[:1000], refunded=order.charge):
        wallet_refund_order(order=order, amount=order.charge, note=f"Order #{order.pk} rejected by the provider")
        _event(order, "rejected", f"The provider refused the order: {message}. Refunded {money_str(order.charge)}.")
        announce.orders_finished.send(sender=Order, order_ids=[order.pk])
    return Order.State.REJECTED


@transaction.atomic
def _requeue(order: Order, message: str, *, tell_staff: bool = False) -> str:
    """Not placed, safe to try again later: back to queued with an exponential backoff."""
    delay = min(BACKOFF_FIRST_SECONDS * 2 ** max(order.attempts - 1, 0), BACKOFF_MAX_SECONDS)
    retry_at = timezone.now() + timedelta(seconds=delay)
    if _settle(order, state=Order.State.QUEUED, sending_since=None, next_attempt_at=retry_at):
        _event(order, "requeued", f"{message}. Next try in {delay} s.", staff_only=True)
        if tell_staff:
            notice_once(f"{order.provider.name} refuses orders: {message}"[:255],
                         "Orders stay queued and are retried with a backoff.")
    return Order.State.QUEUED


@transaction.atomic
def _fail(order: Order, message: str) -> str:
    """Outcome unknown: parked for staff, never resent and never refunded on its own."""
    if _settle(order, state=Order.State.FAILED, sending_since=None, needs_attention=True, reason=message[:1000]):
        _event(order, "failed", f"{message}. Waiting for staff: resend or cancel and refund.", staff_only=True)
        notice_once(f"Order #{order.pk} needs a decision: outcome at {order.provider.name} unknown", message)
        announce.order_needs_decision.send(sender=Order, order_id=order.pk, reason=message)
    return Order.State.FAILED


# --- Sweeps ---------------------------------------------------------------------------------------------

def stuck_after() -> timedelta:
    """A `sending` order older than a whole request (connect + read timeout) and a margin is stuck."""
    return timedelta(seconds=settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT + 30)


def orders_park_stuck() -> int:
    """Park orders whose worker died mid-request: their outcome is unknown."""
    cutoff = timezone.now() - stuck_after()
    parked = 0
    for order in Order.objects.filter(state=Order.State.SENDING, sending_since__lt=cutoff).only("pk"):
        with transaction.atomic():
            moved = Order.objects.filter(pk=order.pk, state=Order.State.SENDING).update(
                state=Order.State.FAILED, needs_attention=True, sending_since=None, updated_at=timezone.now(),
                reason="The request to the provider never finished.",
            )
            if moved:
                parked += 1
                _event(order, "failed", "Stuck while sending (worker stopped?). Waiting for staff.", staff_only=True)
                notice_once(f"Order #{order.pk} needs a decision: stuck while sending", "")
                announce.order_needs_decision.send(sender=Order, order_id=order.pk,
                                                   reason="The request to the provider never finished.")
    return parked


def orders_due(*, older_than: timedelta = timedelta(0)) -> list[int]:
    """Queued orders whose time has come; `older_than` leaves fresh ones to their own task message."""
    now = timezone.now()
    return list(
        Order.objects.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
                             state=Order.State.QUEUED, created_at__lte=now - older_than)
        .order_by("id").values_list("id", flat=True)
    )


# --- Customer requests: cancel and refill ---------------------------------------------------------------

def order_cancel_request(*, user, order_id: int) -> str:
    """Cancel an order. Queued (never sent): canceled here and now with a full refund. Placed: the request goes
    upstream with the next polling cycle. Returns a message for the customer; raises OrderRefused."""
    order = Order.objects.select_related("service").filter(pk=order_id, user=user).first()
    if order is None:
        raise OrderRefused("No such order.", "", "Incorrect order ID")
    if order.state == Order.State.QUEUED and _cancel_queued(order):
        return f"Order #{order.pk} canceled; {money_str(order.charge)} is back on your balance."
    order.refresh_from_db()
    if order.state != Order.State.PLACED or order.is_final:
        raise OrderRefused("This order can no longer be canceled.")
    if not order.service.cancel:
        raise OrderRefused("This service does not offer cancels.")
    if order.cancel_state in (Order.Cancel.REQUESTED, Order.Cancel.ACCEPTED):
        raise OrderRefused("A cancel is already on its way for this order.")
    with transaction.atomic():
        moved = Order.objects.filter(pk=order.pk, state=Order.State.PLACED).exclude(
            cancel_state__in=[Order.Cancel.REQUESTED, Order.Cancel.ACCEPTED]).exclude(
            status__in=Order.FINAL_STATUSES).update(cancel_state=Order.Cancel.REQUESTED, cancel_error="",
                                                    cancel_requested_at=timezone.now())
        if not moved:
            raise OrderRefused("This order can no longer be canceled.")
        _event(order, "cancel", "Cancel requested; it goes to the provider with the next update.")
    return f"Cancel of order #{order.pk} requested; the refund follows once the provider confirms."


@transaction.atomic
def _cancel_queued(order: Order) -> bool:
    """A conditional UPDATE from queued: either this cancels it or a worker already claimed it for sending."""
    moved = Order.objects.filter(pk=order.pk, state=Order.State.QUEUED).update(
        state=Order.State.CANCELED, status=Order.Status.CANCELED, refunded=order.charge, updated_at=timezone.now(),
        cancel_state=Order.Cancel.ACCEPTED, cancel_requested_at=timezone.now())
    if not moved:
        return False
    wallet_refund_order(order=order, amount=order.charge, note=f"Order #{order.pk} canceled before sending")
    _event(order, "canceled", f"Canceled before it was sent. Refunded {money_str(order.charge)}.")
    return True


def order_refill_request(*, user, order_id: int):
    """Ask for a refill of a delivered order; it goes upstream, batched, with the next polling cycle."""
    from .models import Refill

    order = Order.objects.select_related("service").filter(pk=order_id, user=user).first()
    if order is None:
        raise OrderRefused("No such order.", "", "Incorrect order ID")
    if not order.service.refill:
        raise OrderRefused("This service does not offer refills.")
    if order.state != Order.State.PLACED or order.status not in (Order.Status.COMPLETED, Order.Status.PARTIAL):
        raise OrderRefused("Only a completed or partial order can be refilled.")
    try:
        with transaction.atomic():
            refill = Refill.objects.create(order=order)
            _event(order, "refill", "Refill requested.")
    except IntegrityError:
        raise OrderRefused("A refill of this order is already open.") from None
    return refill
