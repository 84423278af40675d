"""Reads behind the account pages."""

from .models import LedgerEntry


def ledger_for_user(*, user):
    """The user's own ledger, newest first. The order link needs only order_id; the payment link needs the
    payment's reference, one LEFT JOIN on a primary key."""
    return LedgerEntry.objects.filter(user=user).select_related("payment").only(
        *[field.name for field in LedgerEntry._meta.concrete_fields], "payment__reference").order_by("-created_at", "-id")
