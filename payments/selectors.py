"""Reads behind the payment pages."""

from .models import Payment


def payments_for_customer(*, user):
    """The customer's top-ups, newest first."""
    return Payment.objects.filter(user=user).select_related("method").order_by("-created_at", "-id")


def payment_for_customer(*, user, reference) -> Payment | None:
    """One of the customer's own payments; None for anybody else's."""
    return Payment.objects.select_related("method").filter(user=user, reference=reference).first()
