"""The one Celery app. Tasks live in <app>/tasks.py; the beat schedule is assembled here."""

import logging
import os
from pathlib import Path

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings")

app = Celery("panel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_embedded_broker_folders() -> None:
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            try:
                Path(options[key]).mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # the process still starts: the broker says so when used, and recovers
                logging.getLogger(__name__).warning("embedded broker: cannot make %s (%s)", options[key],
                                                    exc.__class__.__name__)


if str(app.conf.broker_url).startswith("filesystem://"):
    _ensure_embedded_broker_folders()


@signals.task_prerun.connect(weak=False, dispatch_uid="panel.close_old_connections.prerun")
@signals.task_postrun.connect(weak=False, dispatch_uid="panel.close_old_connections.postrun")
def _close_old_connections(task=None, **_kwargs) -> None:
    """What Django does around each request, around each task: close a database connection that errored and
    no longer answers (the server restarted) or outlived CONN_MAX_AGE. Celery's own fixup does this only when
    it closes every connection after each task; with CELERY_DB_REUSE_MAX it keeps them, and a worker whose
    connections the database had dropped failed every task on them until it was restarted (bench/faults.py,
    "database restarted")."""
    from django.db import connections

    if task is not None and getattr(task.request, "is_eager", False):
        return  # run in the caller's process (tests), inside its transaction: its connection is not ours
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
