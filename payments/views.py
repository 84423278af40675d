"""Customer pages: add funds, the history of top-ups, and a payment's page, which the gateway sends the
customer back to. Thin: the form reads input, payments.services decides and writes.

The return page never credits anything: it shows what the webhook (or a fetch of the gateway's state) has
settled, and refreshes itself until then.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from . import selectors, services, tasks
from .forms import AddFundsForm
from .models import Payment

PAYMENTS_PER_PAGE = 25
# A payment still pending this long after its page was first shown has the gateway asked about it (at most
# once in this many seconds), besides its webhook.
RETURN_CHECK_SECONDS = 15


@login_required
def add(request):
    form = AddFundsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.payment_start(user=request.user, method=form.cleaned_data["method"],
                                             amount=form.cleaned_data["amount"],
                                             customer_reference=form.cleaned_data["reference"])
        except services.PaymentRefused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            if payment.redirect_url:
                return redirect(payment.redirect_url)
            return redirect("payments:detail", reference=payment.reference)
    return render(request, "payments/add.html", {"form": form, **_quote_context(form)})


@login_required
def quote(request):
    """The live quote beside the form: fee, total, bonus, the method's instructions, or what is wrong."""
    form = AddFundsForm(request.GET)
    return render(request, "payments/_quote.html", {"form": form, **_quote_context(form)})


def _quote_context(form: AddFundsForm) -> dict:
    method = form.chosen_method()
    context = {"method": method, "quote": None, "problem": "", "methods": form.methods}
    text = (form.data.get("amount") or "").strip().replace(",", ".") if form.is_bound else ""
    if method is None or not text:
        return context
    try:
        context["quote"] = services.payment_quote(method=method, amount=Decimal(text))
    except services.PaymentRefused as refused:
        context["problem"] = refused.message
    except ArithmeticError:
        context["problem"] = "Enter an amount such as 25 or 25.50."
    return context


@login_required
def history(request):
    page = Paginator(selectors.payments_for_customer(user=request.user), PAYMENTS_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "payments/history.html", {"page": page})


def _own_payment(request, reference) -> Payment:
    payment = selectors.payment_for_customer(user=request.user, reference=reference)
    if payment is None:
        raise Http404("No such payment.")
    return payment


@login_required
def detail(request, reference):
    payment = _own_payment(request, reference)
    return render(request, "payments/detail.html", {
        "payment": payment, "returned": request.GET.get("returned") == "1",
        "canceled": request.GET.get("canceled") == "1", "refresh_seconds": settings.PAYMENT_REFRESH_SECONDS,
    })


@login_required
def detail_live(request, reference):
    """The refreshing part of a payment's page, and the balance in the menu, while the payment waits."""
    payment = _own_payment(request, reference)
    _ask_gateway_if_slow(payment)
    request.user.refresh_from_db(fields=["balance"])
    return render(request, "payments/_live.html", {"payment": payment, "live": True,
                                                   "refresh_seconds": settings.PAYMENT_REFRESH_SECONDS})


def _ask_gateway_if_slow(payment: Payment) -> None:
    if payment.status != Payment.Status.PENDING or not payment.redirect_url:
        return
    quiet = timezone.now() - timedelta(seconds=RETURN_CHECK_SECONDS)
    if payment.created_at > quiet or (payment.checked_at is not None and payment.checked_at > quiet):
        return
    # One message per payment per RETURN_CHECK_SECONDS, however many refreshes: with no worker running,
    # messages would otherwise pile up behind it.
    if cache.add(f"payments:return-check:{payment.pk}", 1, timeout=RETURN_CHECK_SECONDS):
        tasks.dispatch_check(payment.pk, min_gap_seconds=RETURN_CHECK_SECONDS)
