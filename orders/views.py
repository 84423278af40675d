"""Customer order pages. Thin: selectors read, orders.services writes, orders.mass handles mass orders.

The new-order page works as a plain form; HTMX only swaps in fragments (a category's services, a
service's fields, the live charge), each also served by a small GET/POST endpoint below.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.money import money_str
from catalog import selectors as catalog_selectors

from . import mass, selectors
from .forms import OrderForm, param_rows, price_label
from .models import Order
from .services import OrderRefused, order_cancel_request, order_place, order_refill_request

ORDERS_PER_PAGE = 25
STATUS_TABS = [("", "All"), *Order.Status.choices]


def _int_or_none(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


# ---------------------------------------------------------------- orders list and order page


def _is_refresh(request) -> bool:
    """An HTMX poll of a live page asks for the changing part only."""
    return request.headers.get("HX-Request") == "true" and request.GET.get("live") == "1"


@login_required
def order_list(request):
    status = request.GET.get("status", "")
    status = status if status in Order.Status.values else ""
    search = request.GET.get("q", "").strip()[: selectors.MAX_SEARCH_LENGTH]
    orders = selectors.orders_for_customer(user=request.user, status=status or None, search=search)
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    live = any(selectors.order_is_live(order) for order in page)
    template = "orders/_rows.html" if _is_refresh(request) else "orders/list.html"
    return render(request, template, {
        "page": page, "status": status, "search": search, "tabs": STATUS_TABS, "live": live,
        "refresh_seconds": settings.LIVE_REFRESH_SECONDS,
    })


@login_required
def order_detail(request, pk):
    order = selectors.order_for_viewer(user=request.user, order_id=pk)
    if order is None:
        raise Http404("No such order.")
    template = "orders/_live.html" if _is_refresh(request) else "orders/detail.html"
    return render(request, template, {
        "order": order, "params": param_rows(order.params), "live": selectors.order_page_is_live(order),
        "cancel_note": selectors.cancel_note(order),
        "can_cancel": order.user_id == request.user.pk and selectors.order_can_cancel(order),
        "can_refill": order.user_id == request.user.pk and selectors.order_can_refill(order),
        "refresh_seconds": settings.LIVE_REFRESH_SECONDS,
    })


def _own_order_or_404(user, pk) -> None:
    if not selectors.order_exists_for(user=user, order_id=pk):
        raise Http404("No such order.")


@login_required
@require_POST
def order_cancel(request, pk):
    _own_order_or_404(request.user, pk)
    try:
        messages.success(request, order_cancel_request(user=request.user, order_id=pk))
    except OrderRefused as refused:
        messages.error(request, refused.message)
    return redirect("orders:detail", pk=pk)


@login_required
@require_POST
def order_refill(request, pk):
    _own_order_or_404(request.user, pk)
    try:
        order_refill_request(user=request.user, order_id=pk)
        messages.success(request, "Refill requested; it goes to the provider with the next update.")
    except OrderRefused as refused:
        messages.error(request, refused.message)
    return redirect("orders:detail", pk=pk)


@login_required
def refill_list(request):
    page = Paginator(selectors.refills_for_customer(user=request.user), ORDERS_PER_PAGE).get_page(
        request.GET.get("page"))
    template = "orders/_refill_rows.html" if _is_refresh(request) else "orders/refills.html"
    return render(request, template, {
        "page": page, "live": any(refill.is_open for refill in page),
        "refresh_seconds": settings.LIVE_REFRESH_SECONDS,
    })


# ---------------------------------------------------------------- new order


@login_required
@require_http_methods(["GET", "POST"])
def order_new(request):
    if request.method == "GET":
        return _new_order_page(request, _requested_service(request), category_id=None)
    service = catalog_selectors.service_for_order(request.POST.get("service"), user=request.user)
    form = OrderForm(request.POST, service=service if service is not None and service.enabled else None)
    if "choose" in request.POST:  # without JavaScript: show the chosen service's fields, place nothing
        return _new_order_page(request, form.chosen_service, form=form,
                               category_id=_int_or_none(request.POST.get("category")))
    try:
        order = order_place(user=request.user, service=service, fields=form.order_inputs())
    except OrderRefused as refused:
        form.refuse(refused)
        return _new_order_page(request, form.chosen_service, form=form,
                               category_id=_int_or_none(request.POST.get("category")))
    messages.success(request, f"Order #{order.pk} placed: {money_str(order.charge)} charged to your balance.")
    return redirect("orders:detail", order.pk)


def _requested_service(request):
    """A ?service=ID link from the services page preselects that service, if it is on sale."""
    if not request.GET.get("service"):
        return None
    service = catalog_selectors.service_for_order(request.GET["service"], user=request.user)
    if service is None or not service.enabled:
        messages.error(request, "That service is not on sale. Choose another one.")
        return None
    return service


def _new_order_page(request, service, *, category_id, form=None):
    if form is None:
        form = OrderForm(service=service, initial={"service": service.pk if service else ""})
    if service is not None:
        category_id = service.category_id
    return render(request, "orders/new.html", {
        "form": form, "categories": catalog_selectors.categories_for_sale(), "category_id": category_id,
        **_service_select_context(category_id=category_id, service=service, user=request.user),
        **_fields_context(form, touched=False),  # errors stand next to their fields
    })


def _service_select_context(*, category_id, service, user):
    services = catalog_selectors.services_for_order_form(category_id=category_id, user=user)
    for item in services:
        item.price_label = price_label(item)  # type: ignore[attr-defined]  # for the template, not a column
    return {"services": services, "service_id": service.pk if service else None}


def _fields_context(form, *, touched):
    service = form.chosen_service
    return {
        "chosen": service,
        "chosen_price_label": price_label(service) if service else "",
        "quote": form.live_quote() if service is not None else None,
        "touched": touched,
    }


@login_required
@require_GET
def service_options(request):
    """Fragment: the service select for a category (all categories when none), and the fields emptied."""
    context = _service_select_context(category_id=_int_or_none(request.GET.get("category")), service=None,
                                      user=request.user)
    form = OrderForm()
    return render(request, "orders/_service_options.html", {"form": form, **context, **_fields_context(form,
                                                                                                      touched=False)})


@login_required
@require_GET
def service_fields(request):
    """Fragment: the inputs the chosen service's type takes, with its price and limits."""
    service = catalog_selectors.service_for_order(request.GET.get("service"), user=request.user)
    form = OrderForm(service=service if service is not None and service.enabled else None)
    return render(request, "orders/_fields.html", {"form": form, **_fields_context(form, touched=False)})


@login_required
@require_POST
def order_quote_fragment(request):
    """Fragment: the live charge of the order as typed so far, or what is wrong with it. Always a 200."""
    service = catalog_selectors.service_for_order(request.POST.get("service"), user=request.user)
    form = OrderForm(request.POST, service=service if service is not None and service.enabled else None)
    return render(request, "orders/_quote.html", {"form": form, **_fields_context(form, touched=True)})


# ---------------------------------------------------------------- mass order


@login_required
@require_http_methods(["GET", "POST"])
def mass_order(request):
    text = request.POST.get("text", "")
    action = request.POST.get("action", "")
    batch = None
    if request.method == "POST" and action == "place":
        batch = mass.mass_place(user=request.user, text=text, batch_id=request.POST.get("batch_id", ""))
        if batch.placed:
            messages.success(request, f"Placed {len(batch.placed)} order(s).")
        if batch.error or len(batch.placed) < len(batch.lines):
            messages.error(request, batch.error or "Some lines were not placed: see below.")
    elif request.method == "POST":
        batch = mass.mass_preview(user=request.user, text=text)
    return render(request, "orders/mass.html", {
        "text": text, "batch": batch, "placed": action == "place", "max_lines": mass.MAX_LINES,
        "format": mass.FORMAT, "batch_id": mass.new_batch_id(),
    })
