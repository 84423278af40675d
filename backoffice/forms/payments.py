"""Forms of the payments back office. They check shapes; the rules live in payments.services."""

from typing import cast

from django import forms

from payments import gateways
from payments.models import Gateway, Payment, PaymentMethod

from .filters import FilterForm


class PaymentMethodForm(forms.ModelForm):
    class Meta:
        model = PaymentMethod
        fields = ["name", "gateway", "enabled", "min_amount", "max_amount", "fee_percent", "bonus_percent",
                  "bonus_from", "instructions", "display_order"]
        labels = {"fee_percent": "Fee %", "bonus_percent": "Bonus %", "bonus_from": "Bonus from amount",
                  "min_amount": "Least amount", "max_amount": "Most amount"}
        widgets = {"instructions": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["gateway"]).choices = [
            (value, label if gateways.configured(value) else f"{label} — not configured here")
            for value, label in Gateway.choices]
        self.fields["gateway"].help_text = ("A gateway's keys come from the environment (see the README); a method "
                                            "of a gateway that is not configured is not offered to customers.")

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what Form.clean returns (typed dict | None in the stubs)
        for name in ("min_amount", "bonus_from"):
            if data.get(name) is not None and data[name] < 0:
                self.add_error(name, "Not below zero.")
        for name in ("fee_percent", "bonus_percent"):
            if data.get(name) is not None and not 0 <= data[name] <= 100:
                self.add_error(name, "Between 0 and 100.")
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and high < low:
            self.add_error("max_amount", "Not below the least amount.")
        if data.get("gateway") == Gateway.MANUAL and not (data.get("instructions") or "").strip():
            self.add_error("instructions", "Say where to send the money and what to write as the reference.")
        return data


class PaymentFilterForm(FilterForm):
    method = forms.ModelChoiceField(queryset=PaymentMethod.objects.all(), required=False, empty_label="Any method")
    status = forms.ChoiceField(choices=[("", "Any status"), *Payment.Status.choices], required=False)
    customer = forms.CharField(required=False, max_length=150,
                               widget=forms.TextInput(attrs={"placeholder": "Customer", "type": "search"}))
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")


class ApproveForm(forms.Form):
    amount = forms.DecimalField(max_digits=15, decimal_places=2, required=False, min_value=0,
                                help_text="What to credit; empty credits the amount asked.")
    note = forms.CharField(required=False, max_length=255)


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=255, error_messages={"required": "Say why, for the customer and the record."})
