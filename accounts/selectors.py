"""Reads behind the account pages."""

from .models import LedgerEntry


def ledger_for_user(*, user):
    """The user's own ledger, newest first. The order link needs only order_id; the payment link needs the
    payment's reference, one LEFT JOIN on a primary key."""
    return LedgerEntry.objects.filter(user=user).select_related("payment").only(
        *[field.name for field in LedgerEntry._meta.concrete_fields], "payment__reference").order_by("-created_at", "-id")


def ledger_for_staff(*, customer):
    """The customer's ledger, newest first, as staff read it: with who made each staff adjustment (one LEFT
    JOIN on a primary key); payments are linked by ID on staff pages, so they are not joined."""
    fields = [field.name for field in LedgerEntry._meta.concrete_fields]
    return LedgerEntry.objects.filter(user=customer).select_related("created_by").only(
        *fields, "created_by__username").order_by("-created_at", "-id")
