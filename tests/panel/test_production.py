"""Production settings (DEBUG=0), checked in a fresh process as the operator starts it: the headers every
page carries, the cookies, the refusal to start without a mail backend, static files served without a manual
collectstatic, and logs as one JSON object a line with the request id and no secrets."""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from panel.logs import JsonFormatter, RedactSecrets, RequestIdFilter, redact

ROOT = Path(__file__).resolve().parents[2]
PROD = {"DEBUG": "0", "SECRET_KEY": "a-production-secret-of-some-length-0123456789",
        "EMAIL_URL": "smtp://mail.example:25", "ALLOWED_HOSTS": "panel.example",
        "SITE_URL": "https://panel.example", "DATABASE_URL": "sqlite:///:memory:"}

PROBE = r"""
import json, os, sys, tempfile
import django
from django.test.utils import override_settings
os.environ["DJANGO_SETTINGS_MODULE"] = "panel.settings"
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
with override_settings(STATIC_ROOT=tempfile.mkdtemp()):  # nothing collected
    page = Client().get("/", HTTP_HOST="panel.example", secure=True, HTTP_X_REQUEST_ID="edge-1234abcd")
    plain = Client().get("/", HTTP_HOST="panel.example")
    login = Client().get("/accounts/login/", HTTP_HOST="panel.example", secure=True)
css = Client().get("/static/css/panel.css", HTTP_HOST="panel.example", secure=True)
print(json.dumps({
    "status": page.status_code, "headers": dict(page.headers), "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""), "login_cookies": {k: dict(v) for k, v in login.cookies.items()},
    "css": css.status_code, "body_static": sorted(set(__import__("re").findall(r'/static/[^"]+', page.content.decode()))),
    "settings": {k: getattr(settings, k) for k in ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY", "SECURE_HSTS_SECONDS", "SANDBOX_ENABLED", "LOG_FORMAT"]},
}))
"""


def run_probe(env_overrides: dict, script: str = PROBE):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.pop("DATABASE_URL", None)
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def prod():
    done = run_probe(PROD)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_pages_carry_the_security_headers_with_debug_off(prod):
    result, _ = prod
    headers = result["headers"]
    assert result["status"] == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    # The proxy's request id is answered back (and stamped on the log lines).
    assert headers["X-Request-ID"] == "edge-1234abcd"


def test_plain_http_is_sent_to_https_and_cookies_are_secure_and_out_of_scripts_reach(prod):
    result, _ = prod
    assert result["plain_status"] == 301 and result["plain_location"].startswith("https://panel.example/")
    assert result["settings"]["SESSION_COOKIE_SECURE"] and result["settings"]["CSRF_COOKIE_SECURE"]
    assert result["settings"]["SESSION_COOKIE_HTTPONLY"] and result["settings"]["CSRF_COOKIE_HTTPONLY"]
    csrf = result["login_cookies"]["csrftoken"]
    assert csrf["secure"] is True and csrf["httponly"] is True and csrf["samesite"] == "Lax"


def test_the_sandbox_is_off_and_logs_are_json_in_production(prod):
    result, _ = prod
    assert result["settings"]["SANDBOX_ENABLED"] is False
    assert result["settings"]["LOG_FORMAT"] == "json"


def test_pages_and_their_static_files_are_served_without_a_manual_collectstatic(prod):
    result, stderr = prod
    assert result["status"] == 200 and result["css"] == 200
    assert "/static/css/panel.css" in result["body_static"]
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any("collectstatic" in line["message"] for line in lines)


def test_production_refuses_to_start_with_mail_going_to_the_log():
    env = dict(PROD)
    env.pop("EMAIL_URL")
    done = run_probe(env, "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='panel.settings'; django.setup()")
    assert done.returncode != 0
    assert "Refusing to start" in done.stderr and "EMAIL_URL" in done.stderr


def test_a_local_trial_over_plain_http_keeps_cookies_usable():
    env = dict(PROD, SITE_URL="http://127.0.0.1:8000", ALLOWED_HOSTS="127.0.0.1")
    script = ("import django, os, json; os.environ['DJANGO_SETTINGS_MODULE']='panel.settings'; django.setup();"
              "from django.conf import settings as s; print(json.dumps([s.SESSION_COOKIE_SECURE, "
              "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS]))")
    done = run_probe(env, script)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [False, False, 0]


def test_no_template_holds_inline_script_style_or_handlers():
    """The Content-Security-Policy allows scripts and styles from files only: inline ones would be blocked."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\son[a-z]+\s*=", r"\sstyle\s*=",
                        r"javascript:", r"hx-on"):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


# --- Logs --------------------------------------------------------------------------------------------------

def _line(message, *args, exc_info=None, name="smmapi"):
    record = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, exc_info)
    for step in (RedactSecrets(), RequestIdFilter()):
        step.filter(record)
    return json.loads(JsonFormatter().format(record))


def test_a_log_line_is_one_json_object_with_the_request_id(client, alice):
    client.force_login(alice)
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record)

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    logging.getLogger("django").addHandler(handler)
    try:
        response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="<script>")  # not a sane id: replaced
    finally:
        logging.getLogger("django").removeHandler(handler)
    rid = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert any(getattr(record, "request_id", "") == rid for record in seen)
    line = _line("Provider %s answered", "Upstream")
    assert set(line) == {"time", "level", "logger", "message", "request_id"}
    assert line["message"] == "Provider Upstream answered"


@pytest.mark.parametrize("text", [
    "POST /api/v2 key=5f2b9c0e7d1a4b3c&action=add",
    'payload {"key": "5f2b9c0e7d1a4b3c", "action": "status"}',
    "login failed password=5f2b9c0e7d1a4b3c",
    "Authorization: Bearer 5f2b9c0e7d1a4b3c",
    "sign: 5f2b9c0e7d1a4b3c",
])
def test_secrets_are_blanked_in_every_log_line(text):
    assert "5f2b9c0e7d1a4b3c" not in redact(text)
    assert "5f2b9c0e7d1a4b3c" not in _line("%s", text)["message"]


def test_the_secret_key_and_secrets_in_a_traceback_never_reach_the_log(settings):
    settings.SECRET_KEY = "the-real-secret-key-of-this-panel-0123"
    try:
        raise RuntimeError(f"boom with {settings.SECRET_KEY} and api_key=abcdef0123456789")
    except RuntimeError:
        line = _line("failed", exc_info=sys.exc_info())
    assert "the-real-secret-key" not in json.dumps(line) and "abcdef0123456789" not in json.dumps(line)
    assert "RuntimeError" in line["exception"]
