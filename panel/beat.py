"""Celery beat's scheduler, with a heartbeat and a watch on polling.

Each tick notes that beat is alive (at most once a half-minute), so the back office can tell a stopped beat
from a stopped worker; and once a minute beat looks at whether polling still moves (an order asked about
lately, a worker alive) and announces it when not (core.events.polling_stopped): beat is the process left
standing when the worker is down, so it is the one that can tell."""

import logging
import time
from datetime import timedelta

from celery.beat import PersistentScheduler

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 30.0
WATCH_EVERY = 60.0
WORKER_SILENT_AFTER = timedelta(minutes=3)


class HeartbeatScheduler(PersistentScheduler):
    _last_beat = 0.0
    _last_watch = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT_EVERY:
            self._last_beat = now
            self._safely(_heartbeat)
        if now - self._last_watch >= WATCH_EVERY:
            self._last_watch = now
            self._safely(watch_polling)
        return super().tick(*args, **kwargs)

    @staticmethod
    def _safely(step) -> None:
        from django.db import close_old_connections

        try:
            # As Django does around each request: a connection the database dropped (a restart) is closed
            # and the next query opens a new one, rather than every tick failing on it for good.
            close_old_connections()
            step()
        except Exception:  # the database down must not stop beat from sending what it can
            log.warning("beat: %s failed", step.__name__, exc_info=True)


def _heartbeat() -> None:
    from core.services import heartbeat

    heartbeat("beat")


def watch_polling() -> bool:
    """Announce that polling stopped: no order asked about for five intervals, or no worker heard of for
    three minutes while orders wait. Returns whether it did."""
    from django.db import transaction
    from django.utils import timezone

    from core import events
    from core.models import Heartbeat
    from orders.selectors import polling_overview

    overview = polling_overview()
    worker = Heartbeat.objects.filter(name="worker").values_list("at", flat=True).first()
    since = overview.quiet_since
    if since is None and overview.waiting and (worker is None or timezone.now() - worker > WORKER_SILENT_AFTER):
        since = worker or timezone.now()
    if since is None:
        return False
    with transaction.atomic():
        events.polling_stopped.send(sender=None, since=since, waiting=overview.waiting, worker_seen=worker)
    return True
