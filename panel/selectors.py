"""Reads of the site shell."""

from .models import StaffNotice


def staff_notices_unresolved(*, limit: int = 100):
    """What staff still has to look at, newest first."""
    return list(StaffNotice.objects.filter(resolved_at__isnull=True).order_by("-created_at", "-id")[:limit])
