"""Writes of the site shell."""

from .models import StaffNotice


def staff_notice_create(*, subject: str, body: str = "", level: str = StaffNotice.Level.WARNING) -> StaffNotice:
    """Put something in front of staff. Callers run it inside their own transaction."""
    return StaffNotice.objects.create(subject=subject[:255], body=body, level=level)
