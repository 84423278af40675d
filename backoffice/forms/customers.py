"""Forms of the customer pages. They check shapes; the rules live in accounts.services."""

from decimal import Decimal

from django import forms

from ..customers import MAX_SEARCH_LENGTH
from .filters import FilterForm

REASON_REQUIRED = "Say why: the reason is kept in the ledger and the audit trail."
AMOUNT_SHAPE = "Enter the amount as a number above zero, with at most 5 decimal places, e.g. 5 or 2.50."


class CustomerSearchForm(FilterForm):
    q = forms.CharField(required=False, max_length=MAX_SEARCH_LENGTH, label="Search", widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "Username, email or the API key's last 4+ characters"}))

    def filters(self) -> dict:
        """The search asked for; an over-long one is cut rather than refused."""
        return {"search": (self.data.get("q") or "").strip()[:MAX_SEARCH_LENGTH]}


class FundsForm(forms.Form):
    """Add or deduct: the button pressed says which, the amount is always written above zero."""

    ADD, DEDUCT = "add", "deduct"

    direction = forms.ChoiceField(choices=[(ADD, "Add"), (DEDUCT, "Deduct")],
                                  error_messages={"required": "Choose to add or to deduct.",
                                                  "invalid_choice": "Choose to add or to deduct."})
    amount = forms.DecimalField(max_digits=15, decimal_places=5, min_value=Decimal("0.00001"),
                                error_messages={"required": AMOUNT_SHAPE, "invalid": AMOUNT_SHAPE,
                                                "min_value": AMOUNT_SHAPE, "max_digits": AMOUNT_SHAPE,
                                                "max_decimal_places": AMOUNT_SHAPE, "max_whole_digits": AMOUNT_SHAPE})
    reason = forms.CharField(max_length=255, error_messages={"required": REASON_REQUIRED})

    def signed_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        return -amount if self.cleaned_data["direction"] == self.DEDUCT else amount

    def error_text(self) -> str:
        """Every problem with what was sent, in one line for a message."""
        return " ".join(dict.fromkeys(str(error) for errors in self.errors.values() for error in errors))


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=255, error_messages={
        "required": "Say why the account is disabled: the reason is kept in the audit trail."})
