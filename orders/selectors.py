"""Reads behind the order pages. Each is a fixed number of queries however many orders there are."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.conf import settings
from django.db.models import Count, Max, Min, Prefetch, Q
from django.utils import timezone

from core.dates import within_days
from core.text import as_id

from .models import Order, OrderEvent, Refill

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

MAX_SEARCH_LENGTH = 200


class _Refills(TypedDict):
    refill_list: list[Refill]  # Prefetch("refills", ..., to_attr="refill_list"), newest first


# An order with its refills prefetched, as order_for_viewer (and support's ticket pages) read it.
OrderWithRefills: TypeAlias = "WithAnnotations[Order, _Refills]"


def orders_for_customer(*, user, status: str | None = None, search: str = ""):
    """The user's own orders, newest first, with their service joined in.

    `status` is one of Order.Status (anything else means all); `search` matches an order ID or part of
    the link.
    """
    orders = Order.objects.filter(user=user).select_related("service")
    if status in Order.Status.values:
        orders = orders.filter(status=status)
    search = search.strip()[:MAX_SEARCH_LENGTH]
    if search:
        match = Q(link__icontains=search)
        if (typed_id := as_id(search)) is not None:
            match |= Q(pk=typed_id)
        orders = orders.filter(match)
    return orders.order_by("-id")


def order_for_viewer(*, user, order_id: int) -> "OrderWithRefills | None":
    """One order as `user` may see it, with its timeline in `order.timeline`; None when not theirs.

    Customers see their own orders and the events meant for them; staff see any order and every event.
    """
    events = OrderEvent.objects.order_by("created_at", "id")
    orders = Order.objects.select_related("service", "user")
    if not user.is_staff:
        orders = orders.filter(user=user)
        events = events.filter(staff_only=False)
    return orders.prefetch_related(
        Prefetch("events", queryset=events, to_attr="timeline"),
        Prefetch("refills", queryset=Refill.objects.order_by("-id"), to_attr="refill_list"),
    ).filter(pk=order_id).first()


def order_exists_for(*, user, order_id: int) -> bool:
    return Order.objects.filter(pk=order_id, user=user).exists()


def order_is_live(order: Order) -> bool:
    """Still moving: its page and its row keep refreshing themselves."""
    return not order.is_final and order.state not in (Order.State.REJECTED, Order.State.CANCELED)


def order_page_is_live(order: OrderWithRefills) -> bool:
    """The order's page also keeps refreshing while a refill of it is open, so that the customer who asked
    for one sees it go from Queued to Completed. Needs `order.refill_list` (order_for_viewer prefetches it)."""
    return order_is_live(order) or any(refill.is_open for refill in order.refill_list)


def cancel_note(order: Order) -> str:
    """What became of the customer's cancel request, as its page says it; "" when there is nothing to say.

    Once an order is Canceled its status says it all, unless the provider accepted the request (an order
    canceled here before it was sent never reached the provider). An order that finished otherwise before
    its request went upstream keeps the request, never sent.
    """
    if not order.cancel_state or order.state == Order.State.CANCELED:
        return ""
    if order.status == Order.Status.CANCELED and order.cancel_state != Order.Cancel.ACCEPTED:
        return ""
    if order.cancel_state == Order.Cancel.REQUESTED and order.is_final:
        return f"Cancel not sent: the order was already {order.get_status_display()}."
    note = order.get_cancel_state_display()
    return f"{note}: {order.cancel_error}" if order.cancel_error else note


def order_can_cancel(order: Order) -> bool:
    if order.state == Order.State.QUEUED:
        return True
    return (order.state == Order.State.PLACED and not order.is_final and order.service.cancel
            and order.cancel_state not in (Order.Cancel.REQUESTED, Order.Cancel.ACCEPTED))


def order_can_refill(order: OrderWithRefills) -> bool:
    """Needs `order.refill_list` (order_for_viewer prefetches it)."""
    return (order.state == Order.State.PLACED and order.service.refill
            and order.status in (Order.Status.COMPLETED, Order.Status.PARTIAL)
            and not any(refill.is_open for refill in order.refill_list))


def refills_for_customer(*, user):
    return Refill.objects.filter(order__user=user).select_related("order__service").order_by("-id")




STAFF_STATES = [("", "Any state"), *Order.State.choices]


def orders_for_staff(*, state: str = "", status: str = "", flagged: bool = False, search: str = "", provider=None,
                     service=None, customer: str = "", date_from=None, date_to=None):
    """Every customer's orders for the back office, newest first, with what the list shows joined in.

    `search` matches an order ID, the provider's order ID, part of the link, or a username; `customer` is a
    username or email; dates bound the day the order was placed (the panel's time zone)."""
    orders = Order.objects.select_related("user", "service", "provider")
    if state in Order.State.values:
        orders = orders.filter(state=state)
    if status in Order.Status.values:
        orders = orders.filter(status=status)
    if flagged:
        orders = orders.filter(needs_attention=True)
    if provider is not None:
        orders = orders.filter(provider=provider)
    if service is not None:
        orders = orders.filter(service=service)
    if customer:
        orders = orders.filter(Q(user__username__iexact=customer) | Q(user__email__iexact=customer))
    orders = orders.filter(within_days("created_at", date_from, date_to))
    search = search.strip()[:MAX_SEARCH_LENGTH]
    if search:
        match = Q(link__icontains=search) | Q(external_id=search) | Q(user__username__iexact=search)
        if (typed_id := as_id(search)) is not None:
            match |= Q(pk=typed_id)
        orders = orders.filter(match)
    return orders.order_by("-id")


@dataclass(frozen=True)
class PollingOverview:
    """For staff: are orders still being asked about? If beat or its worker stops, orders stop moving and
    nothing else says so."""

    waiting: int  # placed orders of active providers that the provider has not finished
    last_asked_at: datetime | None  # when one of them was last asked about
    quiet_since: datetime | None  # set when none has been asked about for too long: since when


def polling_overview() -> PollingOverview:
    waiting = (Order.objects.filter(state=Order.State.PLACED, provider__is_active=True)
               .exclude(status__in=Order.FINAL_STATUSES)
               .aggregate(n=Count("id"), last=Max("last_polled_at"), first=Min("created_at")))
    quiet_since = waiting["last"] or waiting["first"]  # never asked: since the oldest of them was placed
    too_long = timedelta(seconds=max(5 * settings.POLL_INTERVAL_SECONDS, 300))
    stalled = bool(waiting["n"]) and timezone.now() - quiet_since > too_long
    return PollingOverview(waiting=waiting["n"], last_asked_at=waiting["last"],
                           quiet_since=quiet_since if stalled else None)



def providers_last_polled() -> dict[int, datetime]:
    """When each provider was last asked about one of its placed orders. One query."""
    return dict(Order.objects.filter(state="placed", last_polled_at__isnull=False).values("provider_id")
                .annotate(last=Max("last_polled_at")).order_by().values_list("provider_id", "last"))
