from typing import cast

from django import forms

from .filters import FilterForm


class AuditFilterForm(FilterForm):
    actor = forms.CharField(required=False, max_length=150,
                            widget=forms.TextInput(attrs={"type": "search", "placeholder": "Staff member"}))
    action = forms.CharField(required=False, max_length=100,
                             widget=forms.TextInput(attrs={"type": "search", "placeholder": "Action, e.g. order."}))
    target_type = forms.ChoiceField(required=False, choices=[("", "Anything")])
    target_id = forms.CharField(required=False, max_length=64,
                                widget=forms.TextInput(attrs={"placeholder": "ID", "inputmode": "numeric"}))
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def __init__(self, *args, target_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["target_type"]).choices = [("", "Anything"), *((name, name) for name in target_types)]
