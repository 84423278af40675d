"""Celery beat's scheduler, with a heartbeat: each tick notes that beat is alive (at most once a half-minute),
so the back office can tell a stopped beat from a stopped worker."""

import logging
import time

from celery.beat import PersistentScheduler

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 30.0


class HeartbeatScheduler(PersistentScheduler):
    _last_beat = 0.0

    def tick(self, *args, **kwargs):
        if time.monotonic() - self._last_beat >= HEARTBEAT_EVERY:
            self._last_beat = time.monotonic()
            try:
                from panel.services import heartbeat

                heartbeat("beat")
            except Exception:  # the database down must not stop beat from sending what it can
                log.warning("beat: could not record its heartbeat", exc_info=True)
        return super().tick(*args, **kwargs)
