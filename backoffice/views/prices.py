"""A customer's prices: a discount off everything and own rates of some services, set from their page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.models import User
from catalog import services
from core.decorators import staff_required

from ..forms.prices import CustomerRateForm, DiscountForm


def _customer(pk) -> User:
    return get_object_or_404(User, pk=pk, is_staff=False)


def _refused(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _form_errors(request, form) -> None:
    messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))


@staff_required(perm="manage_customers")
@require_POST
def customer_discount(request, pk):
    customer = _customer(pk)
    form = DiscountForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            services.customer_discount_set(customer=customer, percent=form.cleaned_data["percent"],
                                           below_cost=form.cleaned_data["below_cost"], actor=request.user)
            messages.success(request, f"{customer.username}'s discount is {form.cleaned_data['percent']}%.")
        except ValidationError as exc:
            _refused(request, exc)
    return redirect("backoffice:customer", pk=pk)


@staff_required(perm="manage_customers")
@require_POST
def customer_rate_add(request, pk):
    customer = _customer(pk)
    form = CustomerRateForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            services.customer_rate_set(customer=customer, service=form.cleaned_data["service"],
                                       rate=form.cleaned_data["rate"],
                                       below_cost_confirmed=form.cleaned_data["below_cost_confirmed"],
                                       actor=request.user)
            messages.success(request, f"{customer.username} pays {form.cleaned_data['rate']} for service "
                                      f"#{form.cleaned_data['service'].pk}.")
        except ValidationError as exc:
            _refused(request, exc)
    return redirect("backoffice:customer", pk=pk)


@staff_required(perm="manage_customers")
@require_POST
def customer_rate_delete(request, pk, rate_pk):
    customer = _customer(pk)
    if services.customer_rate_delete(customer=customer, rate_id=rate_pk, actor=request.user):
        messages.success(request, "Their own rate is removed: the list price (less any discount) applies.")
    else:
        messages.info(request, "That rate was already removed.")
    return redirect("backoffice:customer", pk=pk)
