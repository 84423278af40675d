"""Writes on tickets: a customer opens one and writes on it, staff reply, keep internal notes, change its
status and assignment, and either side's page marks it read. One use case, one transaction: the ticket, its
message, its unread marks, the notification and (for staff) the audit row are kept together or not at all.

Every refusal is a TicketRefused with a message for the person and the input it is about."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.services import audit, changed
from orders.models import Order
from payments.models import Payment

from .models import Ticket, TicketMessage
from .notify import notify_customer, notify_staff

SUBJECT_MAX = 200
BODY_MAX = 5000
MAX_ORDERS = 20
TICKET_PERMISSION = "backoffice.handle_tickets"

UNCHANGED = ...  # ticket_update's `assigned_to` when staff leave the assignment as it is


class TicketRefused(Exception):
    """The ticket, reply or change is not taken; `field` names the input at fault, the message is the person's."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def customer_url(ticket: Ticket) -> str:
    return reverse("support:ticket", args=[ticket.pk])


def staff_url(ticket: Ticket) -> str:
    return reverse("staff_tickets:detail", args=[ticket.pk])


def _text(value) -> str:
    """Text as it is kept: line ends as \\n (a browser sends \\r\\n, which would count twice), no NUL
    characters (PostgreSQL refuses them), no blank lines or spaces around it."""
    return str(value or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def clean_subject(subject) -> str:
    subject = " ".join(_text(subject).split())
    if not subject:
        raise TicketRefused("Give the ticket a subject.", "subject")
    if len(subject) > SUBJECT_MAX:
        raise TicketRefused(f"Keep the subject to {SUBJECT_MAX} characters; this one has {len(subject)}.", "subject")
    return subject


def clean_body(body) -> str:
    body = _text(body)
    if not body:
        raise TicketRefused("Write a message.", "body")
    if len(body) > BODY_MAX:
        raise TicketRefused(f"A message can be at most {BODY_MAX:,} characters; this one has {len(body):,}. "
                            f"Shorten it, or send the rest in a second message.", "body")
    return body


def _own_orders(customer, order_ids) -> list[Order]:
    ids = []
    for value in order_ids or ():
        try:
            order_id = int(str(value).strip().lstrip("#"))
        except ValueError:
            raise TicketRefused(f"An order is given by its number, like 1234; “{str(value)[:20]}” is not one.",
                                "orders") from None
        if order_id not in ids:
            ids.append(order_id)
    if len(ids) > MAX_ORDERS:
        raise TicketRefused(f"A ticket can be about at most {MAX_ORDERS} orders; you gave {len(ids)}. "
                            f"Open another ticket for the rest.", "orders")
    if not ids:
        return []
    found = {order.pk: order for order in Order.objects.filter(user=customer, pk__in=ids)}
    missing = [order_id for order_id in ids if order_id not in found]
    if missing:
        raise TicketRefused(f"No such order: #{missing[0]}. Give the numbers of your own orders (see Orders).",
                            "orders")
    return [found[order_id] for order_id in ids]


def _own_payment(customer, payment_id) -> Payment | None:
    if payment_id in (None, ""):
        return None
    try:
        payment_id = int(payment_id)
    except (TypeError, ValueError):
        raise TicketRefused("Choose one of your payments.", "payment") from None
    payment = Payment.objects.filter(user=customer, pk=payment_id).first()
    if payment is None:
        raise TicketRefused(f"No such payment: #{payment_id}. Choose one of your own payments.", "payment")
    return payment


@transaction.atomic
def ticket_open(*, customer, subject, topic, body, order_ids=(), payment_id=None) -> Ticket:
    """A customer's new ticket with its first message, optionally about some of their orders or a payment."""
    subject, body = clean_subject(subject), clean_body(body)
    if topic not in Ticket.Topic.values:
        raise TicketRefused("Choose what the ticket is about.", "topic")
    orders = _own_orders(customer, order_ids)
    payment = _own_payment(customer, payment_id)
    now = timezone.now()
    ticket = Ticket.objects.create(customer=customer, subject=subject, topic=topic, payment=payment,
                                   status=Ticket.Status.OPEN, staff_unread=True, customer_unread=False,
                                   last_message_at=now)
    if orders:
        ticket.orders.set(orders)
    TicketMessage.objects.create(ticket=ticket, author=customer, body=body)
    notify_staff(kind="new_ticket", key=f"ticket:{ticket.pk}:new",
                 subject=f"New ticket #{ticket.pk} from {customer.username}: {subject}", body=body,
                 url=staff_url(ticket))
    return ticket


@transaction.atomic
def ticket_reply_by_customer(*, ticket_id: int, customer, body) -> TicketMessage:
    """The customer writes on their own ticket; it is open again and staff see it unread."""
    body = clean_body(body)
    ticket = Ticket.objects.select_for_update(no_key=True).filter(pk=ticket_id, customer=customer).first()
    if ticket is None:
        raise TicketRefused("No such ticket.")
    if ticket.is_closed:
        raise TicketRefused(f"Ticket #{ticket.pk} is closed and takes no more replies. Open a new ticket "
                            f"(mention #{ticket.pk} if it is about the same thing).", "body")
    message = TicketMessage.objects.create(ticket=ticket, author=customer, body=body)
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.OPEN, staff_unread=True,
                                               last_message_at=message.created_at, updated_at=timezone.now())
    notify_staff(kind="ticket_message", key=f"ticket-message:{message.pk}",
                 subject=f"{customer.username} wrote on ticket #{ticket.pk}: {ticket.subject}", body=body,
                 url=staff_url(ticket))
    return message


def _check_staff(staff) -> None:
    if not (getattr(staff, "is_staff", False) and staff.is_active and staff.has_perm(TICKET_PERMISSION)):
        raise TicketRefused("Only staff who handle tickets can do that.")


def _status(status) -> str | None:
    if status in (None, ""):
        return None
    if status not in Ticket.Status.values:
        raise TicketRefused("Choose one of the statuses.", "status")
    return status


@transaction.atomic
def ticket_reply_by_staff(*, ticket_id: int, staff, body, internal: bool = False, status=None) -> TicketMessage:
    """Staff reply to the customer (the ticket becomes Answered unless they pick another status), or keep an
    internal note (never shown to the customer, never sent; the status stays unless they pick one)."""
    _check_staff(staff)
    body, status = clean_body(body), _status(status)
    ticket = Ticket.objects.select_for_update(no_key=True).filter(pk=ticket_id).first()
    if ticket is None:
        raise TicketRefused("No such ticket.")
    before = ticket.status
    if status is None:
        status = before if internal else Ticket.Status.ANSWERED
    message = TicketMessage.objects.create(ticket=ticket, author=staff, body=body, internal=internal)
    changes = {"status": status, "staff_unread": False, "updated_at": timezone.now()}
    if not internal:
        # An internal note leaves the customer's side as it was: no unread mark, no new "last message" time.
        changes |= {"customer_unread": True, "last_message_at": message.created_at}
    Ticket.objects.filter(pk=ticket.pk).update(**changes)
    audit(actor=staff, action="ticket.reply", target=ticket, before={"status": before},
          after={"status": status, "internal": internal, "message": message.pk})
    if not internal:
        notify_customer(user=ticket.customer, kind="ticket_reply", key=f"ticket-message:{message.pk}",
                        subject=f"Reply to your ticket #{ticket.pk}: {ticket.subject}", body=body,
                        url=customer_url(ticket))
    return message


def _assignee(assigned_to):
    from accounts.models import User

    if assigned_to is None or assigned_to == "":
        return None
    user_id = getattr(assigned_to, "pk", assigned_to)
    user = User.objects.filter(pk=user_id, is_staff=True, is_active=True).first() if str(user_id).isdigit() else None
    if user is None:
        raise TicketRefused("Assign the ticket to an active staff member, or to nobody.", "assigned_to")
    return user


@transaction.atomic
def ticket_update(*, ticket_id: int, staff, status=None, assigned_to=UNCHANGED) -> Ticket:
    """Staff change a ticket's status and/or who handles it (None: nobody; left out: as it is), with an audit
    row of what changed. `ticket.changes` holds what changed ({} when nothing did: no row is written)."""
    _check_staff(staff)
    status = _status(status)
    assignee = UNCHANGED if assigned_to is UNCHANGED else _assignee(assigned_to)
    ticket = Ticket.objects.select_for_update(of=("self",), no_key=True).select_related("assigned_to").filter(pk=ticket_id).first()
    if ticket is None:
        raise TicketRefused("No such ticket.")
    before = {"status": ticket.status, "assigned_to": _name(ticket.assigned_to)}
    if status is not None:
        ticket.status = status
    if assignee is not UNCHANGED:
        ticket.assigned_to = assignee
    was, now = changed(before, {"status": ticket.status, "assigned_to": _name(ticket.assigned_to)})
    ticket.changes = now
    if now:
        ticket.save(update_fields=["status", "assigned_to", "updated_at"])
        audit(actor=staff, action="ticket.update", target=ticket, before=was, after=now)
    return ticket


def _name(user) -> str | None:
    return user.username if user is not None else None


@transaction.atomic
def ticket_mark_read_by_customer(*, ticket_id: int, customer) -> bool:
    """The customer opened their ticket: staff's replies are seen. True when it was unread (a conditional
    update: nothing is written when it was not)."""
    return bool(Ticket.objects.filter(pk=ticket_id, customer=customer, customer_unread=True)
                .update(customer_unread=False))


@transaction.atomic
def ticket_mark_read_by_staff(*, ticket_id: int, staff) -> bool:
    """Staff opened the ticket: the customer's last message is seen. True when it was unread."""
    if not getattr(staff, "is_staff", False):
        return False
    return bool(Ticket.objects.filter(pk=ticket_id, staff_unread=True).update(staff_unread=False))
