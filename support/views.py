"""The customer's tickets: the list, a new ticket, a ticket's page with its thread and reply form, the live
part showing the attached orders, and the order actions offered there. Thin: selectors read,
support.services writes. A customer reaches only their own tickets: anybody else's is a 404, page or part."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.text import as_id
from orders import selectors as order_selectors
from orders.services import OrderRefused, order_cancel_request, order_refill_request
from payments import selectors as payment_selectors

from . import selectors, services
from .forms import ReplyForm, TicketForm
from .models import Ticket

TICKETS_PER_PAGE = 25


@login_required
@require_GET
def ticket_list(request):
    page = Paginator(selectors.tickets_for_customer(user=request.user), TICKETS_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "support/list.html", {
        "page": page, "unread": selectors.unread_count_for_customer(user=request.user)})





def _start_about(request, orders: list, payments: list) -> dict:
    """A link to ?order=ID or ?payment=REFERENCE (one of the customer's own) starts a ticket about it."""
    initial: dict[str, object] = {}
    order_id = as_id(request.GET.get("order", ""))
    if order_id is not None and order_selectors.order_exists_for(user=request.user, order_id=order_id):
        initial["topic"] = Ticket.Topic.ORDER
        if any(order.pk == order_id for order in orders):
            initial["recent_orders"] = [str(order_id)]
        else:
            initial["order_ids"] = str(order_id)
    reference = request.GET.get("payment", "")
    payment = None
    try:
        payment = payment_selectors.payment_for_customer(user=request.user, reference=reference) if reference else None
    except ValidationError:  # not a payment reference at all
        payment = None
    if payment is not None:
        initial |= {"topic": Ticket.Topic.PAYMENT, "payment": str(payment.pk)}
        if all(other.pk != payment.pk for other in payments):
            payments.insert(0, payment)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    orders = selectors.recent_orders_for_customer(user=request.user)
    payments = selectors.recent_payments_for_customer(user=request.user)
    if request.method == "GET":
        initial = _start_about(request, orders, payments)
        return render(request, "support/new.html", {"form": TicketForm(initial=initial, orders=orders,
                                                                        payments=payments)})
    form = TicketForm(request.POST, orders=orders, payments=payments)
    if form.is_valid():
        try:
            ticket = services.ticket_open(customer=request.user, **form.use_case_args())
        except services.TicketRefused as refused:
            form.refuse(refused)
        else:
            messages.success(request, f"Ticket #{ticket.pk} opened. We will reply here, and let you know.")
            return redirect("support:ticket", pk=ticket.pk)
    return render(request, "support/new.html", {"form": form})


def _own_ticket(request, pk) -> selectors.TicketWithOrders:
    ticket = selectors.ticket_for_customer(user=request.user, ticket_id=pk)
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def _detail(request, ticket: selectors.TicketWithOrders, form: ReplyForm):
    return render(request, "support/detail.html", {"ticket": ticket, "form": form, **_orders_context(ticket)})


def _orders_context(ticket: selectors.TicketWithOrders) -> dict[str, object]:
    for order in ticket.order_list:
        # What the template's row offers: set on the instance for it, not a column of the order.
        order.can_cancel = order_selectors.order_can_cancel(order)  # type: ignore[attr-defined]
        order.can_refill = order_selectors.order_can_refill(order)  # type: ignore[attr-defined]
    return {"live": selectors.orders_are_live(ticket.order_list), "refresh_seconds": settings.LIVE_REFRESH_SECONDS}


@login_required
@require_GET
def ticket_detail(request, pk):
    ticket = _own_ticket(request, pk)
    if ticket.customer_unread:  # a write only when there is something to mark (and only if still set)
        services.ticket_mark_read_by_customer(ticket_id=ticket.pk, customer=request.user)
    return _detail(request, ticket, ReplyForm())


@login_required
@require_POST
def ticket_reply(request, pk):
    ticket = _own_ticket(request, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_reply_by_customer(ticket_id=ticket.pk, customer=request.user,
                                              body=form.cleaned_data["body"])
        except services.TicketRefused as refused:
            form.refuse(refused)
        else:
            messages.success(request, "Reply sent.")
            return redirect("support:ticket", pk=ticket.pk)
    return _detail(request, ticket, form)  # what they typed stays in the box, with what is wrong with it


@login_required
@require_GET
def ticket_orders(request, pk):
    """The live part of a ticket's page: its orders, their status and the actions that apply now."""
    ticket = selectors.ticket_orders_for_customer(user=request.user, ticket_id=pk)
    if ticket is None:
        raise Http404("No such ticket.")
    return render(request, "support/_orders.html", {"ticket": ticket, **_orders_context(ticket)})


def _order_action(request, pk, order_pk, act):
    if not selectors.ticket_order_for_customer(user=request.user, ticket_id=pk, order_id=order_pk):
        raise Http404("No such order on this ticket.")
    try:
        messages.success(request, act())
    except OrderRefused as refused:
        messages.error(request, f"Order #{order_pk}: {refused.message}")
    return redirect("support:ticket", pk=pk)


@login_required
@require_POST
def ticket_order_refill(request, pk, order_pk):
    def refill():
        order_refill_request(user=request.user, order_id=order_pk)
        return f"Refill of order #{order_pk} requested; it goes to the provider with the next update."

    return _order_action(request, pk, order_pk, refill)


@login_required
@require_POST
def ticket_order_cancel(request, pk, order_pk):
    return _order_action(request, pk, order_pk, lambda: order_cancel_request(user=request.user, order_id=order_pk))
