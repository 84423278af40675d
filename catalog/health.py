"""A provider's health: when it last answered, when and how it last failed, its balance, how its calls go."""

import logging
import threading
import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from .models import Provider

log = logging.getLogger(__name__)


def record_success(provider: Provider, *, balance: Decimal | None = None, currency: str | None = None) -> None:
    fields: dict[str, object] = {"last_success_at": timezone.now()}
    if balance is not None:
        fields.update(balance=balance, balance_currency=currency or "")
        level = provider.low_balance_warning
        was_low = level is not None and provider.balance is not None and provider.balance < level
        if level is not None and balance < level and not was_low:
            from core import events

            events.provider_balance_low.send(sender=Provider, provider_id=provider.pk, balance=balance,
                                             currency=currency or "")
    Provider.objects.filter(pk=provider.pk).update(**fields)
    for name, value in fields.items():
        setattr(provider, name, value)


def record_failure(provider: Provider, error: Exception) -> None:
    # smmapi errors never carry the key, so their text is safe to keep and show.
    fields = {"last_error_at": timezone.now(), "last_error": f"{error.__class__.__name__}: {error}"[:2000]}
    Provider.objects.filter(pk=provider.pk).update(**fields)
    for name, value in fields.items():
        setattr(provider, name, value)


# --- Every call's outcome and time, for the dashboard (error rate, median latency) ---------------------------
# smmapi tells Provider.client()'s observer of each call; rows are kept here and written in one INSERT per
# FLUSH_AT calls, at the end of each Celery task, of each command and of the staff actions that call a provider,
# so that polling writes no row per call.

FLUSH_AT = 200
KEEP_CALLS = timedelta(days=7)
_pending: list = []
_lock = threading.Lock()


def record_call(provider_id: int, action: str, answered: bool, seconds: float) -> None:
    from .models import ProviderCall

    call = ProviderCall(provider_id=provider_id, at=timezone.now(), action=action[:20], answered=answered,
                        ms=max(0, round(seconds * 1000)))
    with _lock:
        _pending.append(call)
        full = len(_pending) >= FLUSH_AT
    if full:
        flush_calls()


FLUSH_EVERY = 10.0  # seconds: a worker's tasks (a thousand a minute) write their timings together
_last_flush = [0.0]


def flush_calls_now_and_then(**_signal_kwargs) -> int:
    """At the end of a task: write the calls noted so far if the last write is FLUSH_EVERY seconds old."""
    if time.monotonic() - _last_flush[0] < FLUSH_EVERY:
        return 0
    return flush_calls()


def flush_calls(**_signal_kwargs) -> int:
    """Write the calls noted so far. Never raises: losing a few timings must not fail a request or a task."""
    from .models import ProviderCall

    with _lock:
        calls, _pending[:] = list(_pending), []
        _last_flush[0] = time.monotonic()
    if not calls:
        return 0
    try:
        ProviderCall.objects.bulk_create(calls)
    except Exception:
        log.warning("could not keep %d provider call timings", len(calls), exc_info=True)
        return 0
    return len(calls)


def forget_old_calls() -> int:
    from .models import ProviderCall

    return ProviderCall.objects.filter(at__lt=timezone.now() - KEEP_CALLS).delete()[0]
