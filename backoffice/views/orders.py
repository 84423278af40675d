"""Back-office order pages: every order, the flagged ones first in mind, and the decisions on them."""

import functools

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.decorators import staff_required
from orders import selectors, staff
from orders.models import Order
from orders.services import OrderRefused

from ..forms.orders import BULK_ACTIONS, AttachForm, BulkOrdersForm, OrderFilterForm, PartialForm

ORDERS_PER_PAGE = 50
MAX_BULK = 500


@staff_required
def order_list(request):
    form = OrderFilterForm(request.GET or None)
    orders = selectors.orders_for_staff(**(form.filters() if request.GET else {}))
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/orders.html", {"form": form, "page": page, "bulk_actions": BULK_ACTIONS})


def _decide(request, pk, decision, done: str):
    try:
        decision(order_id=pk, staff=request.user)
        messages.success(request, done)
    except OrderRefused as refused:
        messages.error(request, refused.message)
    except Order.DoesNotExist:
        messages.error(request, f"There is no order #{pk}.")
        return redirect("staff_orders:list")
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


@staff_required(perm="act_on_orders")
@require_POST
def order_attach(request, pk):
    form = AttachForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(form.errors["external_id"][0]))
        return redirect("orders:detail", pk=pk)
    return _decide(request, pk, functools.partial(staff.order_attach_external_id,
                                                  external_id=form.cleaned_data["external_id"]),
                   f"Order #{pk} is placed as the provider's order {form.cleaned_data['external_id']}; polling takes over.")


@staff_required(perm="act_on_orders")
@require_POST
def order_partial(request, pk):
    form = PartialForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(form.errors["remains"][0]))
        return redirect("orders:detail", pk=pk)
    return _decide(request, pk, functools.partial(staff.order_set_partial, remains=form.cleaned_data["remains"]),
                   f"Order #{pk} set Partial; the undelivered share is back on the customer's balance.")


@staff_required(perm="act_on_orders")
@require_POST
def order_complete(request, pk):
    return _decide(request, pk, staff.order_set_completed, f"Order #{pk} set Completed.")


BULK = {"resend": staff.order_resend, "cancel_refund": staff.order_cancel_and_refund,
        "complete": staff.order_set_completed, "clear_flag": staff.order_clear_flag}


@staff_required(perm="act_on_orders")
@require_POST
def order_bulk(request):
    """One decision on many orders: each in its own transaction, so one that cannot be done does not stop
    the others; what was refused is said, order by order."""
    form = BulkOrdersForm(request.POST)
    back = request.POST.get("next") or ""
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return _back_to_list(back)
    decision = BULK[form.cleaned_data["action"]]
    done, refused = [], []
    for order_id in sorted(set(form.cleaned_data["orders"]))[:MAX_BULK]:
        try:
            decision(order_id=order_id, staff=request.user)
        except (OrderRefused, Order.DoesNotExist) as exc:
            refused.append(f"#{order_id}: {getattr(exc, 'message', 'no such order')}")
        else:
            done.append(order_id)
    label = dict(BULK_ACTIONS)[form.cleaned_data["action"]]
    if done:
        messages.success(request, f"{label}: done for {len(done)} order(s).")
    if refused:
        messages.error(request, f"{label}: not done for {len(refused)}: " + "; ".join(refused[:20]))
    return _back_to_list(back)


def _back_to_list(back: str):
    # Only back to the orders list (with its filters), never to an address given from outside.
    if back.startswith("?"):
        return redirect(reverse("staff_orders:list") + back)
    return redirect("staff_orders:list")
