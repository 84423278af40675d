"""The payments back office: methods, every payment with its gateway events, decisions on the ones under
review, and totals per method and day. Thin: forms check input, payments.services writes."""

import json
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.decorators import staff_required
from payments import gateways, services
from payments import selectors as payment_selectors
from payments.models import PaymentMethod

from ..forms.payments import ApproveForm, PaymentFilterForm, PaymentMethodForm, RejectForm

PAYMENTS_PER_PAGE = 50
TOTALS_DAYS = 30


@staff_required
def payment_list(request):
    form = PaymentFilterForm(request.GET or None)
    filters = form.filters() if request.GET else {}
    page = Paginator(payment_selectors.payments_for_staff(**filters), PAYMENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/payments.html", {"form": form, "page": page,
                                                   "waiting": payment_selectors.payments_waiting_for_staff()})


@staff_required
def payment_detail(request, pk):
    payment = payment_selectors.payment_for_staff(pk=pk)
    if payment is None:
        raise Http404("No such payment.")
    events = payment_selectors.payment_events(payment=payment)
    for event in events:
        event.pretty = json.dumps(event.payload, indent=2, sort_keys=True, default=str)  # type: ignore[attr-defined]  # for the template
    return render(request, "staff/payment_detail.html", {
        "payment": payment, "events": events, "approve_form": ApproveForm(), "reject_form": RejectForm(),
    })


@staff_required(perm="manage_money")
@require_POST
def payment_approve(request, pk):
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the amount to credit as a number with at most 2 decimal places, or leave it empty.")
        return redirect("staff_payments:detail", pk=pk)
    try:
        payment = services.payment_approve(payment_id=pk, staff=request.user, amount=form.cleaned_data["amount"],
                                           note=form.cleaned_data["note"])
    except services.PaymentRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Payment #{payment.pk} approved: {payment.credited:.2f} {payment.currency} "
                                  f"credited to {payment.user.username}.")
    return redirect("staff_payments:detail", pk=pk)


@staff_required(perm="manage_money")
@require_POST
def payment_reject(request, pk):
    form = RejectForm(request.POST)
    try:
        if not form.is_valid():
            raise services.PaymentRefused("Say why, for the customer and the record.")
        services.payment_reject(payment_id=pk, staff=request.user, reason=form.cleaned_data["reason"])
    except services.PaymentRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Payment #{pk} rejected; nothing was credited.")
    return redirect("staff_payments:detail", pk=pk)


@staff_required
def methods(request):
    rows = list(PaymentMethod.objects.order_by("display_order", "id"))
    for method in rows:
        method.configured = gateways.configured(method.gateway)  # type: ignore[attr-defined]  # for the template
    return render(request, "staff/payment_methods.html", {"methods": rows})


@staff_required(perm="manage_settings")
def method_add(request):
    return _method_form(request, PaymentMethod())


@staff_required(perm="manage_settings")
def method_edit(request, pk):
    return _method_form(request, get_object_or_404(PaymentMethod, pk=pk))


def _method_form(request, method: PaymentMethod):
    form = PaymentMethodForm(request.POST or None, instance=method)
    if request.method == "POST" and form.is_valid():
        saved = services.method_save(method=form.save(commit=False), actor=request.user)
        messages.success(request, f"Payment method {saved.name} saved.")
        return redirect("staff_payments:methods")
    return render(request, "staff/payment_method_form.html", {"form": form, "method": method})


@staff_required
def totals(request):
    today = timezone.localdate()
    form = PaymentFilterForm(request.GET or None)
    filters = form.filters() if request.GET else {}
    date_to = filters.get("date_to") or today
    date_from = filters.get("date_from") or date_to - timedelta(days=TOTALS_DAYS - 1)
    return render(request, "staff/payment_totals.html", {
        "form": form, "date_from": date_from, "date_to": date_to,
        **payment_selectors.totals_by_method_and_day(date_from=date_from, date_to=date_to),
    })
