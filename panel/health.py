"""Health: `/healthz` for monitors and `/healthz/live` for the web container's own healthcheck.

`/healthz` asks the database (a `SELECT 1`), the cache (set, get and delete a key), the broker (a connection
within BROKER_TIMEOUT seconds; with the embedded file-system broker, that its folders are there and writable)
and the last heartbeats of beat and the worker (failing when older than HEARTBEAT_MAX_AGE, or never seen).
`/healthz/live` asks only what a page needs, the database and the cache: compose's web healthcheck must not
wait on beat, the broker or a worker, or the stack could never come up while one of them is down.

Both answer JSON, 200 when every check passes and 503 otherwise, never cached. A failure is named by a fixed
phrase and the exception's class: no host name, URL or password ever reaches the body (the full error goes
to the log, with known passwords masked). Written here rather than with django-health-check 4.x, whose view
answers 500 rather than 503, keys its JSON by each check's repr (the Redis check's names host and port), puts
a database error's text in the body, has no heartbeat check, and runs synchronous checks in executor threads
(a new database connection on every call)."""

import logging
import os
import time
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)

BROKER_TIMEOUT = 2.0  # seconds to connect to the broker and hear back
# Beat notes its heartbeat every 30 s and has the worker note one every 30 s: six missed in a row fail.
HEARTBEAT_MAX_AGE = 180
BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


class CheckFailed(Exception):
    """A check's failure: words safe to show anyone, and the details that go with them."""

    def __init__(self, error: str, **detail):
        super().__init__(error)
        self.error, self.detail = error, detail


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise CheckFailed("unexpected answer")
    return {}


def check_cache() -> dict:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=30)
    try:
        if cache.get(key) != "1":
            raise CheckFailed("a value set was not read back")
    finally:
        cache.delete(key)
    return {}


def check_broker() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        return _check_broker_folders()
    from kombu import Connection

    options = {"socket_timeout": BROKER_TIMEOUT, "socket_connect_timeout": BROKER_TIMEOUT}
    with Connection(url, connect_timeout=BROKER_TIMEOUT, transport_options=options) as conn:
        conn.ensure_connection(max_retries=0)  # one try: a dead broker fails within the timeout
    return {}


def _check_broker_folders() -> dict:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in BROKER_FOLDERS:
        folder = options.get(key)
        if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
            raise CheckFailed(f"the embedded broker's {key.replace('_', ' ')} is missing or not writable")
    return {}


def heartbeat_age(name: str) -> float | None:
    """Seconds since the process `name` ('beat', 'worker') noted its heartbeat; None when it never did."""
    from core.models import Heartbeat

    at = Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()
    return None if at is None else max(0.0, (timezone.now() - at).total_seconds())


def _check_heartbeat(name: str) -> dict:
    age = heartbeat_age(name)
    if age is None:
        raise CheckFailed("never", age_seconds=None)
    detail = {"age_seconds": round(age), "max_age_seconds": HEARTBEAT_MAX_AGE}
    if age > HEARTBEAT_MAX_AGE:
        raise CheckFailed("stale", **detail)
    return detail


def check_beat() -> dict:
    return _check_heartbeat("beat")


def check_worker() -> dict:
    return _check_heartbeat("worker")


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "beat": check_beat,
    "worker": check_worker,
}
LIVE_CHECKS = ("database", "cache")


def run_checks(names=None) -> tuple[bool, dict]:
    """Run the named checks (all by default): whether all passed, and a report safe to show anyone."""
    report = {}
    for name in names or CHECKS:
        started = time.perf_counter()
        try:
            result = {"ok": True, **CHECKS[name]()}
        except CheckFailed as failure:
            log.warning("healthz: %s failed: %s", name, failure.error)
            result = {"ok": False, "error": failure.error, **failure.detail}
        except Exception as exc:  # any failure is a failing check, never a 500
            log.warning("healthz: %s failed: %s: %s", name, type(exc).__name__, _masked(str(exc)))
            result = {"ok": False, "error": f"unavailable ({type(exc).__name__})"}
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        report[name] = result
    return all(result["ok"] for result in report.values()), report


def _masked(text: str) -> str:
    """The text with every password this process knows (database, broker, cache) replaced by ***."""
    secrets = {settings.DATABASES["default"].get("PASSWORD")}
    for url in (settings.CELERY_BROKER_URL, *(str(c.get("LOCATION", "")) for c in settings.CACHES.values())):
        try:
            secrets.add(urlsplit(url).password)
        except ValueError:
            pass
    for secret in secrets - {None, ""}:
        text = text.replace(secret, "***")
    return text


def _respond(names) -> JsonResponse:
    ok, report = run_checks(names)
    response = JsonResponse({"status": "ok" if ok else "failing", "checks": report}, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's private flag; each failing check logged its warning: no "Service Unavailable" error too
    return response


@require_safe
def healthz(request):
    return _respond(None)


@require_safe
def healthz_live(request):
    return _respond(LIVE_CHECKS)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/live", healthz_live, name="healthz-live"),
]
