"""The notification outbox's Celery tasks: thin wrappers over support.sending, which claims, sends and marks."""

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from .notify import SEND_TASK, dispatch
from .sending import SWEEP_AFTER, claim, give_up_abandoned, make_digests, send_due

__all__ = ["claim", "send_due", "send_notifications", "sweep", "sweep_notifications"]


# --- Tasks ---------------------------------------------------------------------------------------------------

@shared_task(name=SEND_TASK, ignore_result=True, autoretry_for=(DatabaseError,), retry_backoff=5,
             retry_backoff_max=120, max_retries=3)
def send_notifications(keys: list[str] | None = None) -> dict:
    """After a commit: send what is pending (of these events' keys, or all that is due)."""
    counts = send_due(keys=keys)
    if counts.pop("more"):
        dispatch()
    return counts


@shared_task(name="support.sweep_notifications")
def sweep_notifications() -> dict:
    """Beat: what a lost dispatch or a dead worker left pending, tries that are due again, and the digests."""
    return sweep()


def sweep() -> dict:
    now = timezone.now()
    abandoned = give_up_abandoned(now)
    digests = make_digests(now)
    counts = send_due(older_than=SWEEP_AFTER, now=now)
    if counts.pop("more"):
        dispatch()
    return {**counts, "digests": digests, "abandoned": abandoned}
