"""Back-office order pages: every order, the flagged ones first in mind, and the decisions on them."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from orders import selectors, staff
from orders.models import Order
from orders.services import OrderRefused
from panel.decorators import staff_required

ORDERS_PER_PAGE = 50


@staff_required
def order_list(request):
    state = request.GET.get("state", "")
    status = request.GET.get("status", "")
    flagged = request.GET.get("flagged") == "1"
    search = request.GET.get("q", "").strip()[: selectors.MAX_SEARCH_LENGTH]
    orders = selectors.orders_for_staff(state=state, status=status, flagged=flagged, search=search)
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/orders.html", {
        "page": page, "state": state, "status": status, "flagged": flagged, "search": search,
        "states": selectors.STAFF_STATES, "statuses": [("", "Any status"), *Order.Status.choices],
    })


def _decide(request, pk, decision, done: str):
    try:
        decision(order_id=pk, staff=request.user)
        messages.success(request, done)
    except OrderRefused as refused:
        messages.error(request, refused.message)
    return redirect("orders:detail", pk=pk)


@staff_required(perm="act_on_orders")
@require_POST
def order_resend(request, pk):
    return _decide(request, pk, staff.order_resend, f"Order #{pk} queued to be sent again.")


@staff_required(perm="act_on_orders")
@require_POST
def order_cancel_refund(request, pk):
    return _decide(request, pk, staff.order_cancel_and_refund, f"Order #{pk} canceled and refunded.")


@staff_required(perm="act_on_orders")
@require_POST
def order_clear_flag(request, pk):
    return _decide(request, pk, staff.order_clear_flag, f"Order #{pk}: flag cleared.")
