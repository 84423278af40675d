"""The customers back office: every customer with what they spent, one customer's orders, ledger, top-ups and
API use, and the decisions on an account (funds by hand, disable, enable, a new API key, clearing a flag).
Thin: forms check input, accounts.services writes."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.money import money_str
from catalog.selectors import customer_rates_for_staff
from core.decorators import staff_required
from orders.selectors import orders_for_customer
from payments.selectors import payments_for_customer

from .. import customers as customer_reads
from ..forms.customers import CustomerSearchForm, DisableForm, FundsForm

RECENT = 20  # rows of each kind on a customer's page; the full lists are a link away


@staff_required
def customer_list(request):
    form = CustomerSearchForm(request.GET)
    filters = form.filters()
    customers = customer_reads.customers_for_staff(**filters)
    page = Paginator(customers, customer_reads.CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "staff/customers.html", {"form": form, "page": page, "search": filters["search"]})


@staff_required
def customer_detail(request, pk):
    customer = _customer_or_404(pk)
    return render(request, "staff/customer_detail.html", {
        "customer": customer,
        "orders": list(orders_for_customer(user=customer)[:RECENT]),
        "ledger": list(selectors.ledger_for_staff(customer=customer)[:RECENT]),
        "payments": list(payments_for_customer(user=customer)[:RECENT]),
        "custom_rates": customer_rates_for_staff(customer=customer),
    })


@staff_required(perm="manage_money")
@require_POST
def customer_funds(request, pk):
    customer = _customer_or_404(pk)
    form = FundsForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, form.error_text())
    try:
        entry = services.customer_funds_adjust(customer=customer, amount=form.signed_amount(),
                                               reason=form.cleaned_data["reason"], staff=request.user)
    except services.InsufficientFunds as short:
        return _refused(request, pk, f"The balance ({money_str(short.balance)}) does not cover "
                                     f"{money_str(form.cleaned_data['amount'])}: a deduction never takes it below zero.")
    except services.CustomerRefused as refused:
        return _refused(request, pk, refused.message)
    done = "added to" if entry.amount > 0 else "deducted from"
    messages.success(request, f"{money_str(abs(entry.amount))} {done} {customer.username}'s balance; "
                              f"it is now {money_str(entry.balance_after)}.")
    return redirect("backoffice:customer", pk=pk)


@staff_required(perm="manage_customers")
@require_POST
def customer_disable(request, pk):
    customer = _customer_or_404(pk)
    form = DisableForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, str(form.errors["reason"][0]))
    return _decide(request, pk, lambda: services.customer_disable(
        customer=customer, staff=request.user, reason=form.cleaned_data["reason"]),
        f"{customer.username}'s account is disabled: their pages and API key stopped working.")


@staff_required(perm="manage_customers")
@require_POST
def customer_enable(request, pk):
    customer = _customer_or_404(pk)
    return _decide(request, pk, lambda: services.customer_enable(customer=customer, staff=request.user),
                   f"{customer.username}'s account is enabled again.")


@staff_required(perm="manage_customers")
@require_POST
def customer_revoke_key(request, pk):
    customer = _customer_or_404(pk)
    return _decide(request, pk, lambda: services.customer_api_key_revoke(customer=customer, staff=request.user),
                   f"{customer.username}'s API key is revoked: it stopped working just now. They make a new "
                   f"one on their API page.")


@staff_required(perm="manage_customers")
@require_POST
def customer_clear_flag(request, pk):
    customer = _customer_or_404(pk)
    return _decide(request, pk, lambda: services.customer_flag_clear(customer=customer, staff=request.user),
                   f"{customer.username}: flag cleared.")


def _customer_or_404(pk):
    customer = customer_reads.customer_for_staff(pk=pk)
    if customer is None:
        raise Http404("No such customer.")
    return customer


def _decide(request, pk, decision, done: str):
    try:
        decision()
    except services.CustomerRefused as refused:
        return _refused(request, pk, refused.message)
    messages.success(request, done)
    return redirect("backoffice:customer", pk=pk)


def _refused(request, pk, why: str):
    messages.error(request, f"Nothing changed. {why}")
    return redirect("backoffice:customer", pk=pk)
