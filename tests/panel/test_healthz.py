"""/healthz answers 200 when the database, the cache, the broker and the heartbeats are fine and 503 when one
is not, never cached, never with a host name or a password in it; /healthz/live asks only the database and
the cache; `manage.py healthcheck --role web|worker|beat` exits 0 or 1 for Docker's healthchecks."""

import io
import json
import socket
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from core.models import Heartbeat
from core.services import heartbeat
from panel import health

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@pytest.fixture
def alive(db):
    heartbeat("beat")
    heartbeat("worker")


@pytest.fixture
def embedded_broker(settings, tmp_path):
    """The file-system broker with its folders in tmp_path (CI's second run sets a Redis broker)."""
    folders = {key: tmp_path / key for key in health.BROKER_FOLDERS}
    for folder in folders.values():
        folder.mkdir()
    settings.CELERY_BROKER_URL = "filesystem://localhost/"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {key: str(folder) for key, folder in folders.items()}
    return folders


@pytest.fixture
def silent_server():
    """A port that accepts connections and never says a word: a hung broker."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def _get(client, url="/healthz"):
    response = client.get(url)
    return response, json.loads(response.content)


def _beat_seen(seconds_ago):
    Heartbeat.objects.update_or_create(name="beat", defaults={"at": timezone.now() - timedelta(seconds=seconds_ago)})


def test_everything_up_answers_200_with_every_check_and_is_never_cached(client, alive, embedded_broker):
    response, body = _get(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "beat", "worker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["beat"]["age_seconds"] < 5


def test_it_needs_no_login_and_takes_only_get_and_head(client, alive, embedded_broker):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_a_dead_cache_fails_with_503(client, settings, alive, embedded_broker):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    response, body = _get(client)
    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"
    assert body["status"] == "failing"
    assert body["checks"]["cache"] == {"ok": False, "error": "unavailable (ConnectionError)",
                                       "ms": body["checks"]["cache"]["ms"]}
    assert body["checks"]["database"]["ok"] and body["checks"]["beat"]["ok"]


def test_a_dead_broker_fails_at_once_without_its_address_or_password(client, settings, alive):
    settings.CELERY_BROKER_URL = "redis://:broker-s3cret@127.0.0.1:1/0"
    started = time.monotonic()
    response, body = _get(client)
    assert time.monotonic() - started < health.BROKER_TIMEOUT + 1
    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"].startswith("unavailable (")
    assert "broker-s3cret" not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


def test_a_broker_that_never_answers_fails_within_the_timeout(client, settings, monkeypatch, alive, silent_server):
    monkeypatch.setattr(health, "BROKER_TIMEOUT", 0.5)
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent_server}/0"
    started = time.monotonic()
    response, body = _get(client)
    assert time.monotonic() - started < 2.5
    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is False


def test_a_live_redis_broker_passes(client, settings, alive):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    assert _get(client)[1]["checks"]["broker"]["ok"] is True


def test_the_embedded_broker_fails_when_a_folder_is_missing(client, alive, embedded_broker):
    embedded_broker["control_folder"].rmdir()
    response, body = _get(client)
    assert response.status_code == 503
    assert body["checks"]["broker"]["error"] == "the embedded broker's control folder is missing or not writable"
    assert str(embedded_broker["control_folder"]) not in response.content.decode()


def test_a_stale_beat_fails_and_says_how_old_its_heartbeat_is(client, alive, embedded_broker):
    _beat_seen(health.HEARTBEAT_MAX_AGE + 1)
    response, body = _get(client)
    assert response.status_code == 503
    beat = body["checks"]["beat"]
    assert beat["ok"] is False and beat["error"] == "stale"
    assert beat["age_seconds"] >= health.HEARTBEAT_MAX_AGE + 1
    assert beat["max_age_seconds"] == health.HEARTBEAT_MAX_AGE


def test_a_beat_seen_just_within_the_limit_passes(client, alive, embedded_broker):
    _beat_seen(health.HEARTBEAT_MAX_AGE - 10)
    response, body = _get(client)
    assert response.status_code == 200, body


def test_a_beat_never_seen_fails_as_never(client, alive, embedded_broker):
    Heartbeat.objects.filter(name="beat").delete()
    response, body = _get(client)
    assert response.status_code == 503
    assert body["checks"]["beat"]["error"] == "never"
    assert body["checks"]["beat"]["age_seconds"] is None


def test_a_dead_worker_fails_the_full_view(client, alive, embedded_broker):
    Heartbeat.objects.filter(name="worker").update(at=timezone.now() - timedelta(hours=1))
    response, body = _get(client)
    assert response.status_code == 503
    assert body["checks"]["worker"]["error"] == "stale"


def test_a_dead_database_fails_without_its_host_or_password_in_the_body_or_the_log(
        client, settings, monkeypatch, caplog, alive, embedded_broker):
    settings.CELERY_BROKER_URL = "redis://:db-s3cret@127.0.0.1:1/0"  # a password the log must mask
    error = OperationalError('connection to server at "db.internal" (10.1.2.3), port 5432 failed: '
                             'FATAL: password authentication failed for user "panel" (db-s3cret)')
    monkeypatch.setattr(health, "connection", mock.Mock(cursor=mock.Mock(side_effect=error)))
    response, body = _get(client)
    text = response.content.decode()
    assert response.status_code == 503
    assert body["checks"]["database"] == {"ok": False, "error": "unavailable (OperationalError)",
                                          "ms": body["checks"]["database"]["ms"]}
    assert "db.internal" not in text and "10.1.2.3" not in text and "db-s3cret" not in text
    assert "db-s3cret" not in caplog.text
    assert "db.internal" in caplog.text  # the operator's log says what failed


def test_the_body_never_holds_the_database_or_broker_settings(client, settings, alive, embedded_broker):
    database = settings.DATABASES["default"]
    settings.CELERY_BROKER_URL = "redis://user:br0ker-pass@broker.internal:1/0"
    text = client.get("/healthz").content.decode()
    for value in ("br0ker-pass", "broker.internal", str(database["NAME"]), database.get("PASSWORD") or "",
                  database.get("HOST") or ""):
        if value:
            assert value not in text


def test_an_unexpected_error_in_a_check_is_a_503_not_a_500(client, monkeypatch, alive, embedded_broker):
    monkeypatch.setitem(health.CHECKS, "cache", mock.Mock(side_effect=RuntimeError("boom")))
    response, body = _get(client)
    assert response.status_code == 503
    assert body["checks"]["cache"]["error"] == "unavailable (RuntimeError)"


def test_live_asks_only_the_database_and_the_cache(client, settings, db):
    settings.CELERY_BROKER_URL = DEAD_REDIS  # and no heartbeat at all: the stack is still coming up
    response, body = _get(client, "/healthz/live")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert set(body["checks"]) == {"database", "cache"}


def test_live_fails_when_the_cache_is_dead(client, settings, db):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    assert client.get("/healthz/live").status_code == 503


# --- manage.py healthcheck -----------------------------------------------------------------------------------

def _healthcheck(*args):
    """Run the command: its exit code and what it wrote."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("healthcheck", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue() + err.getvalue()


def test_beat_role_is_healthy_with_a_fresh_heartbeat(db):
    heartbeat("beat")
    code, text = _healthcheck("--role", "beat")
    assert code == 0 and "beat: healthy" in text


def test_beat_role_fails_on_a_stale_or_missing_heartbeat(db):
    code, text = _healthcheck("--role", "beat")
    assert code == 1 and "never" in text
    _beat_seen(health.HEARTBEAT_MAX_AGE + 60)
    code, text = _healthcheck("--role", "beat")
    assert code == 1 and "old" in text


def test_worker_role_pings_this_hosts_worker(db):
    node = f"celery@{socket.gethostname()}"
    with mock.patch("panel.celery.app.control.ping", return_value=[{node: {"ok": "pong"}}]) as ping:
        code, text = _healthcheck("--role", "worker", "--timeout", "1")
    assert code == 0 and node in text
    assert ping.call_args.kwargs["destination"] == [node]


def test_worker_role_fails_when_the_worker_is_silent_or_the_broker_down(db):
    with mock.patch("panel.celery.app.control.ping", return_value=[]):
        assert _healthcheck("--role", "worker", "--timeout", "1")[0] == 1
    with mock.patch("panel.celery.app.control.ping", side_effect=OSError("refused")):
        code, text = _healthcheck("--role", "worker", "--timeout", "1")
    assert code == 1 and "OSError" in text


@pytest.mark.django_db(transaction=True)
def test_web_role_asks_the_running_server_with_a_host_it_accepts(live_server, settings):
    settings.ALLOWED_HOSTS = [".panel.example.com", "127.0.0.1"]  # a request for 'localhost' would be a 400
    code, text = _healthcheck("--role", "web", "--url", f"{live_server.url}/healthz/live")
    assert code == 0, text
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    code, text = _healthcheck("--role", "web", "--url", f"{live_server.url}/healthz/live")
    assert code == 1 and "503" in text and "cache unavailable" in text


def test_web_role_fails_when_nothing_listens(db):
    code, text = _healthcheck("--role", "web", "--url", "http://127.0.0.1:1/healthz/live", "--timeout", "1")
    assert code == 1 and "did not answer" in text
