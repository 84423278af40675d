"""Writes of the site shell."""

from django.utils import timezone

from .models import StaffNotice


def staff_notice_create(*, subject: str, body: str = "", level: str = StaffNotice.Level.WARNING) -> StaffNotice:
    """Put something in front of staff. Callers run it inside their own transaction."""
    return StaffNotice.objects.create(subject=subject[:255], body=body, level=level)


def notice_once(subject: str, body: str = "", level: str = StaffNotice.Level.WARNING) -> None:
    """Put something in front of staff unless the same subject is still unresolved there."""
    subject = subject[:255]
    if not StaffNotice.objects.filter(subject=subject, resolved_at__isnull=True).exists():
        staff_notice_create(subject=subject, body=body, level=level)


def staff_notice_resolve(*, notice_id: int) -> bool:
    """Mark a staff notice resolved. False when it was already resolved (or does not exist)."""
    return StaffNotice.objects.filter(pk=notice_id, resolved_at__isnull=True).update(resolved_at=timezone.now()) == 1
