"""Forms of the back office's order pages: the list's filters, and what a decision needs."""

from typing import cast

from django import forms

from catalog.models import Provider, Service
from core.text import as_id
from orders.models import Order

from .filters import FilterForm

BULK_ACTIONS = [("resend", "Resend failed orders"), ("cancel_refund", "Cancel and refund failed orders"),
                ("complete", "Set Completed"), ("clear_flag", "Clear the flag")]


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"#{obj.pk} {obj.name}"


class OrderFilterForm(FilterForm):
    state = forms.ChoiceField(choices=[("", "Any state"), *Order.State.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *Order.Status.choices], required=False)
    provider = forms.ModelChoiceField(queryset=Provider.objects.order_by("name"), required=False,
                                      empty_label="Any provider")
    service = ServiceChoiceField(queryset=Service.objects.order_by("pk"), required=False, widget=forms.NumberInput(
        attrs={"placeholder": "Service ID"}))
    customer = forms.CharField(required=False, max_length=150,
                               widget=forms.TextInput(attrs={"type": "search", "placeholder": "Customer"}))
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    flagged = forms.BooleanField(required=False, label="Needs a decision")
    q = forms.CharField(required=False, max_length=200, widget=forms.TextInput(attrs={
        "type": "search", "placeholder": "Order ID, link, provider order ID or username"}))


class BulkOrdersForm(forms.Form):
    action = forms.ChoiceField(choices=BULK_ACTIONS, error_messages={"required": "Choose what to do."})
    orders = forms.TypedMultipleChoiceField(coerce=int, choices=(), error_messages={
        "required": "Select at least one order."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any ID: each order is looked up by the action, which refuses those it cannot act on.
        orders = cast(forms.TypedMultipleChoiceField, self.fields["orders"])
        orders.valid_value = lambda value: as_id(value) is not None  # type: ignore[method-assign]  # any ID passes: the service refuses one it cannot act on


class AttachForm(forms.Form):
    external_id = forms.CharField(max_length=100, error_messages={"required": "Give the provider's order ID."})


class PartialForm(forms.Form):
    remains = forms.IntegerField(min_value=0, error_messages={"required": "Give how many were not delivered.",
                                                             "invalid": "Remains is a whole number."})
