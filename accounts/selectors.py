"""Reads behind the account pages."""

from .models import LedgerEntry


def ledger_for_user(*, user):
    """The user's own ledger, newest first. The order link needs only order_id: no join."""
    return LedgerEntry.objects.filter(user=user).order_by("-created_at", "-id")
