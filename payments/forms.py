"""The add-funds form. The rules (limits, places, fee, bonus) live in payments.services.payment_quote; the
form only reads the inputs and puts the services' refusals next to the field they name."""

from decimal import Decimal, InvalidOperation
from typing import cast

from django import forms

from . import gateways
from .models import PaymentMethod


def methods_on_offer():
    """Enabled methods whose gateway is configured here, in the order staff set."""
    return [method for method in PaymentMethod.objects.filter(enabled=True).order_by("display_order", "id")
            if gateways.configured(method.gateway)]


class MethodChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class AddFundsForm(forms.Form):
    method = MethodChoiceField(queryset=PaymentMethod.objects.none(), widget=forms.RadioSelect, empty_label=None,
                               error_messages={"required": "Choose how you pay.",
                                               "invalid_choice": "Choose a payment method that is available."})
    amount = forms.CharField(max_length=30, label="Amount to add",
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                             error_messages={"required": "Enter the amount to add."})
    reference = forms.CharField(max_length=255, required=False, label="Your transfer's reference",
                                help_text="What you wrote as the reference of your transfer, or its transaction ID.")

    def __init__(self, *args, methods=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.methods = methods_on_offer() if methods is None else methods
        cast(forms.ModelChoiceField, self.fields["method"]).queryset = PaymentMethod.objects.filter(pk__in=[m.pk for m in self.methods])
        if len(self.methods) == 1 and not self.is_bound:
            self.initial.setdefault("method", self.methods[0].pk)

    def clean_amount(self) -> Decimal:
        text = self.cleaned_data["amount"].strip().replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError("Enter an amount such as 25 or 25.50.") from None
        if not amount.is_finite():
            raise forms.ValidationError("Enter an amount such as 25 or 25.50.")
        return amount

    def chosen_method(self) -> PaymentMethod | None:
        """The method the (possibly unfinished) input names, for the live quote."""
        value = self.data.get("method") if self.is_bound else self.initial.get("method")
        return next((m for m in self.methods if str(m.pk) == str(value)), None)
