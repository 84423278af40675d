"""Days as the panel counts them: in its TIME_ZONE, from midnight to midnight."""

from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone


def day_start(day: date) -> datetime:
    """Midnight at the start of `day`, in the panel's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def within_days(field: str, date_from: date | None = None, date_to: date | None = None) -> Q:
    """`field` (a datetime) from the start of `date_from` to the end of `date_to`; either may be left open."""
    condition = Q()
    if date_from:
        condition &= Q(**{f"{field}__gte": day_start(date_from)})
    if date_to:
        condition &= Q(**{f"{field}__lt": day_start(date_to + timedelta(days=1))})
    return condition
