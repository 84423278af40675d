"""Forms of the customer's ticket pages. They collect input and show refusals next to it; the rules (lengths,
whose orders, closed tickets) live in support.services, which the views call with what these forms hold."""

from typing import TYPE_CHECKING, cast

from django import forms

from core.text import as_id

from .models import Ticket
from .services import BODY_MAX, MAX_ORDERS, SUBJECT_MAX, TicketRefused

if TYPE_CHECKING:
    _Form = forms.BaseForm  # what the mixin is mixed into, for its calls to add_error and fields
else:
    _Form = object


class RefusalsMixin(_Form):
    refusal_fields: dict[str, str] = {}  # the service's name of an input -> the form's

    def refuse(self, refused: TicketRefused) -> None:
        """Put a refusal next to the input it names, or above the form when it names none."""
        field = self.refusal_fields.get(refused.field, refused.field)
        self.add_error(field if field in self.fields else None, refused.message)


def _order_label(order) -> str:
    return f"#{order.pk} · {order.service.name} · {order.link[:60]} · {order.get_status_display()}"


def _payment_label(payment) -> str:
    return (f"#{payment.pk} · {payment.created_at:%Y-%m-%d} · {payment.amount:.2f} {payment.currency} · "
            f"{payment.method.name} · {payment.get_status_display()}")


class TicketForm(RefusalsMixin, forms.Form):
    refusal_fields = {"orders": "order_ids"}

    topic = forms.ChoiceField(choices=Ticket.Topic.choices, initial=Ticket.Topic.OTHER, label="About",
                              error_messages={"required": "Choose what the ticket is about.",
                                              "invalid_choice": "Choose what the ticket is about."})
    subject = forms.CharField(required=False, strip=False, widget=forms.TextInput(attrs={
        "maxlength": SUBJECT_MAX, "autocomplete": "off"}), help_text=f"Up to {SUBJECT_MAX} characters.")
    recent_orders = forms.MultipleChoiceField(required=False, label="Your latest orders",
                                              widget=forms.CheckboxSelectMultiple)
    order_ids = forms.CharField(required=False, label="Other order numbers", widget=forms.TextInput(attrs={
        "placeholder": "e.g. 1234, 1240", "inputmode": "numeric", "autocomplete": "off"}),
        help_text=f"Separate them with commas or spaces; at most {MAX_ORDERS} orders on a ticket.")
    payment = forms.ChoiceField(required=False, label="Payment")
    body = forms.CharField(required=False, strip=False, label="Message", widget=forms.Textarea(attrs={
        "rows": 8, "maxlength": BODY_MAX}), help_text=f"Up to {BODY_MAX:,} characters.")

    def __init__(self, *args, orders=(), payments=(), **kwargs):
        super().__init__(*args, **kwargs)
        recent, payment = (cast(forms.ChoiceField, self.fields[name]) for name in ("recent_orders", "payment"))
        recent.choices = [(str(order.pk), _order_label(order)) for order in orders]
        # Any number passes the form: the service says "No such order" for one that is not the customer's.
        recent.valid_value = lambda value: as_id(value) is not None  # type: ignore[method-assign]  # any number
        payment.choices = [("", "No payment"), *((str(p.pk), _payment_label(p)) for p in payments)]
        payment.valid_value = lambda value: as_id(value) is not None  # type: ignore[method-assign]  # any number
        if not orders:
            del self.fields["recent_orders"]
            self.fields["order_ids"].label = "Order numbers"

    def clean_order_ids(self):
        words = self.cleaned_data["order_ids"].replace(",", " ").replace(";", " ").split()
        ids = [as_id(word) for word in words]
        bad = [word for word, number in zip(words, ids, strict=True) if number is None]
        if bad:
            raise forms.ValidationError(f"An order is given by its number, like 1234; “{bad[0][:20]}” is not one.")
        return ids

    def use_case_args(self) -> dict:
        """What ticket_open takes, from the valid form."""
        data = self.cleaned_data
        order_ids = [as_id(value) for value in data.get("recent_orders", [])] + data["order_ids"]
        return {"subject": data["subject"], "topic": data["topic"], "body": data["body"],
                "order_ids": list(dict.fromkeys(order_ids)),
                "payment_id": as_id(data["payment"]) if data["payment"] else None}


class ReplyForm(RefusalsMixin, forms.Form):
    body = forms.CharField(required=False, strip=False, label="Your reply", widget=forms.Textarea(attrs={
        "rows": 5, "maxlength": BODY_MAX}), help_text=f"Up to {BODY_MAX:,} characters.")

