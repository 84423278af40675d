"""The customer's choice of which notifications also come by email (the bell shows them all)."""

from django import forms

from .models import NotificationPreference


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["ticket_reply", "order_finished", "payment_credited", "refill_finished"]
        help_texts = {
            "ticket_reply": "When support answers one of your tickets.",
            "order_finished": "When an order is completed, partial or canceled, with what was refunded.",
            "payment_credited": "When a top-up reaches your balance.",
            "refill_finished": "When a refill you asked for is done or refused.",
        }
