from django import forms

from catalog.models import Service


class DiscountForm(forms.Form):
    percent = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=99.99, label="Discount %",
                                 error_messages={"required": "Give the discount in percent (0 for none)."})
    below_cost = forms.BooleanField(required=False, label="May go below the provider's cost")


class CustomerRateForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.all(), widget=forms.NumberInput(
        attrs={"placeholder": "Service ID"}), error_messages={"invalid_choice": "There is no service with that ID.",
                                                              "required": "Give the service's ID."})
    rate = forms.DecimalField(max_digits=20, decimal_places=5, min_value=0, label="Their rate",
                              error_messages={"required": "Give their rate."})
    below_cost_confirmed = forms.BooleanField(required=False, label="Below cost: confirmed")
