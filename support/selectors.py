"""Reads behind the ticket pages, the customer's and staff's. Each is a fixed number of queries however many
tickets, messages or orders there are."""

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import Combinable

from core.text import as_id
from orders.models import Order, Refill
from orders.selectors import OrderWithRefills, order_is_live
from payments.models import Payment

from .models import Ticket, TicketMessage

MAX_SEARCH_LENGTH = 200
RECENT_CHOICES = 20  # the customer's latest orders and payments offered on the new-ticket form

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Orders(TypedDict):
    order_list: list[OrderWithRefills]  # Prefetch("orders", _orders_with_refills(), to_attr="order_list")


# A customer's ticket with its orders prefetched, each with its refills: what the ticket page's rows read.
TicketWithOrders: TypeAlias = "WithAnnotations[Ticket, _Orders]"


def _orders_with_refills() -> "QuerySet[OrderWithRefills]":
    """A ticket's orders as their rows and actions need them: the service (refill, cancel) and the refills
    (order_can_refill, order_page_is_live)."""
    return Order.objects.select_related("service").prefetch_related(
        Prefetch("refills", queryset=Refill.objects.order_by("-id"), to_attr="refill_list")).order_by("-id")


# ---------------------------------------------------------------- the customer's


def tickets_for_customer(*, user):
    """The customer's own tickets, the latest conversation first."""
    return Ticket.objects.filter(customer=user).order_by("-last_message_at", "-id")


def unread_count_for_customer(*, user) -> int:
    return Ticket.objects.filter(customer=user, customer_unread=True).count()


def ticket_for_customer(*, user, ticket_id: int) -> "TicketWithOrders | None":
    """One of the customer's own tickets with what its page shows: the thread without staff's internal notes
    (`ticket.thread`), the attached orders (`ticket.order_list`) and the payment. None for anybody else's."""
    return (Ticket.objects.filter(customer=user, pk=ticket_id).select_related("payment__method")
            .prefetch_related(
                Prefetch("messages", queryset=TicketMessage.objects.filter(internal=False)
                         .select_related("author").order_by("created_at", "id"), to_attr="thread"),
                Prefetch("orders", queryset=_orders_with_refills(), to_attr="order_list"))
            .first())


def ticket_orders_for_customer(*, user, ticket_id: int) -> "TicketWithOrders | None":
    """The customer's ticket with only its orders (`ticket.order_list`): the live part of its page."""
    return (Ticket.objects.filter(customer=user, pk=ticket_id)
            .prefetch_related(Prefetch("orders", queryset=_orders_with_refills(), to_attr="order_list")).first())


def ticket_order_for_customer(*, user, ticket_id: int, order_id: int) -> bool:
    """Is this order one of the customer's and attached to their ticket?"""
    return Ticket.orders.through.objects.filter(ticket_id=ticket_id, ticket__customer=user, order_id=order_id,
                                                order__user=user).exists()


def orders_are_live(orders: Iterable[OrderWithRefills]) -> bool:
    """Some order still moves (or has an open refill): the orders keep refreshing themselves."""
    return any(order_is_live(order) or any(refill.is_open for refill in order.refill_list) for order in orders)


def recent_orders_for_customer(*, user, limit: int = RECENT_CHOICES) -> list[Order]:
    return list(Order.objects.filter(user=user).select_related("service").order_by("-id")[:limit])


def recent_payments_for_customer(*, user, limit: int = RECENT_CHOICES) -> list[Payment]:
    return list(Payment.objects.filter(user=user).select_related("method").order_by("-created_at", "-id")[:limit])


# ---------------------------------------------------------------- staff's


ASSIGNED_CHOICES = [("", "Assigned to anyone"), ("me", "Assigned to me"), ("nobody", "Assigned to nobody")]


def tickets_for_staff(*, staff=None, status: str = "", topic: str = "", assigned: str = "", unread: bool = False,
                      search: str = ""):
    """Every customer's tickets for the back office, the latest conversation first.

    `assigned` is "me" (`staff`), "nobody" or anything else for anyone; `unread`: staff have not seen the
    customer's last message; `search` matches the ticket ID, the subject, any message's text, or the
    customer's username or email."""
    tickets = Ticket.objects.select_related("customer", "assigned_to")
    if status in Ticket.Status.values:
        tickets = tickets.filter(status=status)
    if topic in Ticket.Topic.values:
        tickets = tickets.filter(topic=topic)
    if assigned == "me" and staff is not None:
        tickets = tickets.filter(assigned_to=staff)
    elif assigned == "nobody":
        tickets = tickets.filter(assigned_to__isnull=True)
    if unread:
        tickets = tickets.filter(staff_unread=True)
    search = (search or "").strip()[:MAX_SEARCH_LENGTH]
    if search:
        in_messages = TicketMessage.objects.filter(ticket=OuterRef("pk"), body__icontains=search)
        match: Q | Combinable = (Q(subject__icontains=search) | Q(customer__username__icontains=search)
                 | Q(customer__email__icontains=search) | Exists(in_messages))
        number = as_id(search)
        if number is not None:
            match |= Q(pk=number)
        tickets = tickets.filter(match)
    return tickets.order_by("-last_message_at", "-id")


def ticket_for_staff(*, ticket_id: int) -> Ticket | None:
    """One ticket with its whole thread, internal notes included (`ticket.thread`), its orders
    (`ticket.order_list`) and its payment."""
    return (Ticket.objects.filter(pk=ticket_id).select_related("customer", "assigned_to", "payment__method")
            .prefetch_related(
                Prefetch("messages", queryset=TicketMessage.objects.select_related("author")
                         .order_by("created_at", "id"), to_attr="thread"),
                Prefetch("orders", queryset=Order.objects.select_related("service").order_by("-id"),
                         to_attr="order_list"))
            .first())


def staff_members():
    """Whom a ticket can be assigned to: active staff."""
    from accounts.models import User

    return User.objects.filter(is_staff=True, is_active=True).order_by("username")
