"""Notifications as the events of the other apps (core.events) call for them: who is told, what, with which
key (one message per event) and link. Each runs inside the transaction that sent its event, so its rows are
kept with the change or not at all, and writes them with support.notify; nothing is sent from here.

orders_finished comes from polling a hundred orders at a time: it costs one query for the orders with their
customers and preferences, and one INSERT for all their rows, however many orders.
"""

import functools
from datetime import UTC
from decimal import Decimal

from django.conf import settings
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from core import events

from .models import Notification
from .notify import customer_rows, notify_staff, write

Kind = Notification.Kind


# --- Customers -----------------------------------------------------------------------------------------------

@receiver(events.orders_finished, dispatch_uid="support.orders_finished")
def orders_finished(sender, order_ids, **kwargs) -> None:
    from orders.models import Order

    ids = sorted(set(order_ids))
    if not ids:
        return
    found = (Order.objects.filter(pk__any=ids).order_by()
             .values_list("pk", "status", "units", "remains", "refunded", "user_id", "user__email",
                          "user__is_active", "user__notification_preference__order_finished"))
    now = timezone.now()
    rows = []
    for pk, status, units, remains, refunded, user_id, email, active, wanted in found:
        subject, body = order_finished_text(pk, status, units, remains, refunded)
        rows += customer_rows(user_id=user_id, email=bool(email) and active and wanted is not False,
                              kind=Kind.ORDER_FINISHED, key=f"order:{pk}:finished", subject=subject, body=body,
                              url=_path("orders:detail", pk), now=now)
    write(rows)


def order_finished_text(pk: int, status: str, units: int, remains: int | None, refunded) -> tuple[str, str]:
    from orders.models import Order

    if status == Order.Status.COMPLETED:
        return f"Order #{pk} completed", f"All {units} were delivered."
    back = f"{amount(refunded)} refunded"
    if status == Order.Status.PARTIAL:
        if remains is None:
            return (f"Order #{pk} partial" + (f", {back}" if refunded else ""),
                    "The provider delivered part of it. Support settles the refund of the rest.")
        return (f"Order #{pk} partial: {remains} of {units} not delivered, {back}",
                f"{max(units - remains, 0)} of {units} were delivered; what was not is refunded to your balance.")
    if status == Order.Status.CANCELED:
        return (f"Order #{pk} canceled" + (f", {back}" if refunded else ""),
                "Nothing more will be delivered; the refund is on your balance." if refunded else
                "Nothing more will be delivered.")
    return f"Order #{pk} completed", f"All {units} were delivered."


@receiver(events.refills_finished, dispatch_uid="support.refills_finished")
def refills_finished(sender, refill_ids, **kwargs) -> None:
    from orders.models import Refill

    ids = sorted(set(refill_ids))
    if not ids:
        return
    found = (Refill.objects.filter(pk__any=ids).order_by()
             .values_list("pk", "status", "error", "order_id", "order__user_id", "order__user__email",
                          "order__user__is_active", "order__user__notification_preference__refill_finished"))
    now = timezone.now()
    rows = []
    for pk, status, error, order_id, user_id, email, active, wanted in found:
        if status == Refill.Status.COMPLETED:
            subject, body = f"Refill of order #{order_id} completed", "The provider has refilled the order."
        else:
            subject = f"Refill of order #{order_id} rejected" + (f": {error}" if error else "")
            body = "The provider did not refill the order." + (f" It said: {error}" if error else "")
        rows += customer_rows(user_id=user_id, email=bool(email) and active and wanted is not False,
                              kind=Kind.REFILL_FINISHED, key=f"refill:{pk}:finished", subject=subject, body=body,
                              url=_path("orders:detail", order_id), now=now)
    write(rows)


@receiver(events.payment_credited, dispatch_uid="support.payment_credited")
def payment_credited(sender, payment_id, **kwargs) -> None:
    from payments.models import Payment

    found = (Payment.objects.filter(pk=payment_id).order_by()
             .values_list("credited", "bonus_credited", "currency", "reference", "user_id", "user__email",
                          "user__is_active", "user__notification_preference__payment_credited").first())
    if found is None:
        return
    credited, bonus, currency, reference, user_id, email, active, wanted = found
    subject = f"{amount(credited + bonus, currency)} added to your balance"
    body = f"Your top-up of {amount(credited, currency)} was credited" + (
        f", with a bonus of {amount(bonus, currency)}." if bonus else ".")
    write(customer_rows(user_id=user_id, email=bool(email) and active and wanted is not False,
                        kind=Kind.PAYMENT_CREDITED, key=f"payment:{payment_id}:credited", subject=subject,
                        body=body, url=reverse("payments:detail", args=[reference])))


# --- Staff ---------------------------------------------------------------------------------------------------

@receiver(events.order_needs_decision, dispatch_uid="support.order_needs_decision")
def order_needs_decision(sender, order_id, reason="", **kwargs) -> None:
    from orders.models import Order

    found = Order.objects.filter(pk=order_id).values_list("provider__name", "user__username").first()
    provider, customer = found or ("its provider", "?")
    notify_staff(kind=Kind.ORDER_FAILED, key=f"order:{order_id}:decision",
                 subject=f"Order #{order_id} of {customer} needs a decision: outcome at {provider} unknown",
                 body=f"{reason}\n\nResend it, attach the provider's order ID, or cancel and refund it.".strip(),
                 url=reverse("staff_orders:list") + f"?q={order_id}")


@receiver(events.payment_needs_review, dispatch_uid="support.payment_needs_review")
def payment_needs_review(sender, payment_id, reason="", **kwargs) -> None:
    from payments.models import Payment

    found = Payment.objects.filter(pk=payment_id).values_list("total", "currency", "user__username",
                                                              "method__name").first()
    if found is None:
        return
    total, currency, customer, method = found
    notify_staff(kind=Kind.PAYMENT_REVIEW, key=f"payment:{payment_id}:review",
                 subject=f"Payment #{payment_id} to check: {amount(total, currency)} by {method} from {customer}",
                 body=reason, url=reverse("staff_payments:detail", args=[payment_id]))


@receiver(events.provider_balance_low, dispatch_uid="support.provider_balance_low")
def provider_balance_low(sender, provider_id, balance, currency="", **kwargs) -> None:
    from catalog.models import Provider

    found = Provider.objects.filter(pk=provider_id).values_list("name", "low_balance_warning").first()
    if found is None:
        return
    name, level = found
    now = timezone.now()
    below = f", below its warning level of {amount(level, currency)}" if level is not None else ""
    notify_staff(kind=Kind.PROVIDER_LOW_BALANCE, key=f"provider:{provider_id}:low:{now.astimezone(UTC):%Y-%m-%d}",
                 subject=f"{name}: balance {amount(balance, currency)}{below}",
                 body="Top up the account at the provider before orders start to be refused.",
                 url=reverse("staff_catalog:providers"), now=now)


@receiver(events.provider_failing, dispatch_uid="support.provider_failing")
def provider_failing(sender, provider_id, error="", **kwargs) -> None:
    from catalog.models import Provider

    found = Provider.objects.filter(pk=provider_id).values_list("name", "api_key").first()
    if found is None:
        return
    name, api_key = found
    if api_key:  # smmapi's errors never name the key; should one ever, it is not passed on
        error = str(error).replace(api_key, "[hidden]")
    now = timezone.now()
    notify_staff(kind=Kind.PROVIDER_FAILING, key=f"provider:{provider_id}:failing:{now.astimezone(UTC):%Y-%m-%d-%H}",
                 subject=f"{name} is failing: {error}",
                 body=f"Its calls failed {settings.POLL_FAILURES_BEFORE_BACKOFF} times in a row: polling backs it off "
                      f"and tries again later. Last error: {error}",
                 url=reverse("staff_catalog:providers"), now=now)


@receiver(events.polling_stopped, dispatch_uid="support.polling_stopped")
def polling_stopped(sender, since, waiting=0, worker_seen=None, **kwargs) -> None:
    """Sent by beat, whose worker may be down: the email and Telegram rows also go out from beat's own
    process right after the commit, not only through a task."""
    since_utc = since.astimezone(UTC)
    worker = f"last heard of {worker_seen.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if worker_seen else "never heard of"
    notify_staff(kind=Kind.POLLING_STOPPED, key=f"polling-stopped:{since_utc:%Y-%m-%dT%H}",
                 subject=f"Polling stopped: no order asked about since {since_utc:%Y-%m-%d %H:%M} UTC",
                 body=f"{waiting} order(s) wait for their progress. The Celery worker was {worker}: check that the "
                      "worker and beat are running.",
                 url=reverse("staff_catalog:dashboard"), deliver_now=True)


# --- Helpers -------------------------------------------------------------------------------------------------

def amount(value, currency: str | None = None) -> str:
    """An amount as a person reads it: at least two places, more only when they count (0.00125)."""
    currency = settings.PANEL_CURRENCY if currency is None else currency
    value = Decimal(value or 0)
    text = f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else f"{value.normalize():f}"
    return f"{text} {currency}".strip()


@functools.cache
def _path_template(name: str) -> tuple[str, str]:
    marker = 987654321
    before, after = reverse(name, args=[marker]).split(str(marker), 1)
    return before, after


def _path(name: str, pk: int) -> str:
    """reverse(name, args=[pk]), without resolving the URL pattern again for each of a hundred orders."""
    head, tail = _path_template(name)
    return f"{head}{pk}{tail}"

