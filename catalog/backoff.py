"""How the panel treats a provider that fails, beside its health (catalog.health).

- A failed call is tried again within the cycle, at most POLL_RETRIES times, after a short jittered pause,
  before it counts; only calls that are safe to repeat (reads; writes that surely did not go out).
- A provider is backed off only after POLL_FAILURES_BEFORE_BACKOFF failed calls in a row, for
  POLL_BACKOFF_SECONDS, doubling with each further failure up to POLL_BACKOFF_MAX_SECONDS; its first
  success ends the backoff.
- At most Provider.poll_concurrency calls of one provider are in flight at once (providers rate-limit): a
  cycle in one process keeps to it with a pool of that size; workers sharing a cycle take a slot (`call_slot`),
  counted in the cache (shared between processes when CACHE_URL is Redis).
- One client (and its kept-alive connections) per provider per worker process (`client_for`).
"""

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

import smmapi
from core import events

from . import health
from .models import Provider

log = logging.getLogger(__name__)
T = TypeVar("T")


# --- Backoff ----------------------------------------------------------------------------------------------

def backed_off(provider: Provider) -> bool:
    return provider.poll_backoff_until is not None and provider.poll_backoff_until > timezone.now()


def provider_failed(provider: Provider, exc: Exception) -> bool:
    """A call failed (after its retries): count it, and back the provider off once enough failed in a row.
    Returns whether the provider is backed off now."""
    health.record_failure(provider, exc)
    Provider.objects.filter(pk=provider.pk).update(poll_failures=F("poll_failures") + 1)
    provider.refresh_from_db(fields=["poll_failures"])
    beyond = provider.poll_failures - settings.POLL_FAILURES_BEFORE_BACKOFF
    if beyond < 0:
        return False
    if beyond == 0:  # it has just started failing: said once, not at every doubling of its backoff
        events.provider_failing.send(sender=Provider, provider_id=provider.pk, error=str(exc)[:500])
    delay = min(settings.POLL_BACKOFF_SECONDS * 2 ** beyond, settings.POLL_BACKOFF_MAX_SECONDS)
    until = timezone.now() + timedelta(seconds=delay)
    Provider.objects.filter(pk=provider.pk).update(poll_backoff_until=until)
    provider.poll_backoff_until = until
    return True


HEALTH_WRITE_EVERY = timedelta(seconds=30)


def provider_answered(provider: Provider) -> None:
    """A call succeeded: the failures in a row, and any backoff, end here."""
    if provider.poll_failures or provider.poll_backoff_until:
        Provider.objects.filter(pk=provider.pk).update(poll_failures=0, poll_backoff_until=None)
        provider.poll_failures, provider.poll_backoff_until = 0, None
    # A hundred batches a minute need not write "still fine" a hundred times.
    last = provider.last_success_at
    if last is None or timezone.now() - last > HEALTH_WRITE_EVERY or (provider.last_error_at or last) > last:
        health.record_success(provider)


# --- Retries within the cycle -----------------------------------------------------------------------------

def safe_to_repeat_read(exc: smmapi.SmmApiError) -> bool:
    """A read (status, refill_status) may be asked again after any failure but a real refusal: a timeout,
    a dropped connection, an HTML error page, broken JSON, "Too many requests"."""
    return not isinstance(exc, smmapi.ProviderRefused) or smmapi.is_transient_refusal(exc.message)


def safe_to_repeat_write(exc: smmapi.SmmApiError) -> bool:
    """A write (refill, cancel) is sent again only when it surely did not go out: never after an answer
    that may have been lost (smmapi.Ambiguous)."""
    if isinstance(exc, smmapi.NotSent):
        return True
    return isinstance(exc, smmapi.ProviderRefused) and smmapi.is_transient_refusal(exc.message)


@dataclass
class Retry:
    """Calls `call`, and again after a failure `safe` allows, up to `retries` more times, pausing
    `pause` × the attempt's number × a jitter of 0.5 to 1.5 between tries. `sleep` and `jitter` are
    seams for tests (a fake clock)."""

    retries: int = field(default_factory=lambda: settings.POLL_RETRIES)
    pause: float = field(default_factory=lambda: settings.POLL_RETRY_SECONDS)
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def __call__(self, call: Callable[[], T], *, safe: Callable[[smmapi.SmmApiError], bool]) -> T:
        attempt = 0
        while True:
            try:
                return call()
            except smmapi.SmmApiError as exc:
                attempt += 1
                if attempt > self.retries or not safe(exc):
                    raise
                log.info("provider call failed (%s), trying again (%d of %d)", type(exc).__name__, attempt,
                         self.retries)
                self.sleep(self.pause * attempt * (0.5 + self.jitter()))


# --- Calls in flight, across workers --------------------------------------------------------------------------

@contextmanager
def call_slot(provider: Provider, *, wait: float | None = None):
    """Hold one of the provider's poll_concurrency slots while a call is made; wait for one to free. Yields
    whether a slot was had (False after `wait` seconds: the caller goes on, and the limit is exceeded once
    rather than a batch lost). A slot is a cache key with a lease: a crashed worker's slot runs out."""
    lease = settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT + 5
    wait = lease if wait is None else wait
    token, deadline, key = uuid.uuid4().hex, time.monotonic() + wait, None
    while key is None:
        for n in range(max(1, provider.poll_concurrency)):
            if cache.add(f"poll-slot:{provider.pk}:{n}", token, timeout=lease):
                key = f"poll-slot:{provider.pk}:{n}"
                break
        else:
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)
    try:
        yield key is not None
    finally:
        if key is not None:  # ours: its lease outlasts any call (connect + read timeouts), so it cannot have passed on
            cache.delete(key)


# --- One client per provider per worker -------------------------------------------------------------------

_clients: dict[tuple, smmapi.Client] = {}
_clients_lock = threading.Lock()


def client_for(provider: Provider) -> smmapi.Client:
    """This process's client of the provider, made once and kept (with its connections) while the
    provider's settings stay the same; a changed setting (URL, key, transport, timeouts) makes a new one."""
    key = (provider.pk, provider.api_url, provider.api_key, provider.http_method, provider.body_format,
           provider.key_field, settings.PROVIDER_CONNECT_TIMEOUT, settings.PROVIDER_READ_TIMEOUT)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            for old in [k for k in _clients if k[0] == provider.pk]:
                _clients.pop(old).close()
            client = _clients[key] = provider.client()
        return client


def close_clients(**_signal_kwargs) -> None:
    """Close every kept client (a worker shutting down)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
