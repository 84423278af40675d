"""Reads of the site shell."""

from datetime import date

from django.db.models import QuerySet

from .models import AuditEntry, StaffNotice


def staff_notices_unresolved(*, limit: int = 100) -> list[StaffNotice]:
    """What staff still has to look at, newest first."""
    return list(StaffNotice.objects.filter(resolved_at__isnull=True).order_by("-created_at", "-id")[:limit])


def audit_entries(*, actor: str = "", action: str = "", target_type: str = "", target_id: str = "",
                  date_from: date | None = None, date_to: date | None = None) -> QuerySet[AuditEntry]:
    """The audit trail, newest first, filtered; `action` matches a prefix ("order." for every order action)."""
    from .dates import within_days

    entries = AuditEntry.objects.select_related("actor").order_by("-created_at", "-id")
    if actor:
        entries = entries.filter(actor__username__iexact=actor)
    if action:
        entries = entries.filter(action__startswith=action)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if target_id:
        entries = entries.filter(target_id=target_id)
    return entries.filter(within_days("created_at", date_from, date_to))


def audit_target_types() -> list[str]:
    return list(AuditEntry.objects.order_by("target_type").values_list("target_type", flat=True).distinct())
