"""The one Celery app. Tasks live in <app>/tasks.py; the beat schedule is assembled here."""

import logging
import os
from pathlib import Path

from celery import Celery

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
