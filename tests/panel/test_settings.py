"""The process refuses to start in production mode without a secret, or on an SQLite too old for polling."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start_django(code="print('started')", **env_overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "DEBUG", "SANDBOX_ENABLED", "EMAIL_URL", "EMAIL_BACKEND")}
    if env_overrides.get("DEBUG") == "0":
        env["EMAIL_URL"] = "smtp://mail.example:25"  # production refuses the console mail backend
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "panel.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_secret_key_when_debug_is_off():
    result = _start_django(DEBUG="0")
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SECRET_KEY" in lines[0]


def test_it_starts_with_a_secret_key_when_debug_is_off():
    result = _start_django(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


@pytest.mark.parametrize(("gap", "interval", "kept"), [("-5", "60", "0.0"), ("120", "60", "54.0"), ("10", "60", "10.0")])
def test_the_repoll_gap_is_kept_between_zero_and_the_poll_interval(gap, interval, kept):
    code = "from django.conf import settings; print(settings.POLL_REPOLL_SECONDS)"
    result = _start_django(code, POLL_REPOLL_SECONDS=gap, POLL_INTERVAL_SECONDS=interval)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == kept


def test_it_starts_with_dev_defaults():
    result = _start_django()
    assert result.returncode == 0, result.stderr


def test_an_sqlite_without_returning_is_refused_at_start_with_a_clear_message(monkeypatch):
    import sqlite3

    from django.core.exceptions import ImproperlyConfigured

    from panel.apps import _require_sqlite_with_returning

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")
    with pytest.raises(ImproperlyConfigured, match="SQLite 3.35 or newer is needed; this Python has 3.34.1"):
        _require_sqlite_with_returning({"default": {"ENGINE": "django.db.backends.sqlite3"}})
    # On PostgreSQL the Python's SQLite does not matter.
    _require_sqlite_with_returning({"default": {"ENGINE": "django.db.backends.postgresql"}})


@pytest.mark.parametrize(("env", "sandbox"), [({"DEBUG": "0", "SECRET_KEY": "x" * 50}, "False"),
                                              ({"DEBUG": "1"}, "True"),
                                              ({"DEBUG": "0", "SECRET_KEY": "x" * 50, "SANDBOX_ENABLED": "1"}, "True")])
def test_the_sandbox_and_its_test_card_are_off_in_production_unless_asked_for(env, sandbox):
    code = "from django.conf import settings; from payments import gateways; " \
           "print(settings.SANDBOX_ENABLED, gateways.configured('sandbox'))"
    result = _start_django(code, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [sandbox, sandbox]


def test_it_refuses_to_start_in_production_with_mail_going_to_the_log_in_one_line():
    result = _start_django(DEBUG="0", SECRET_KEY="x" * 50, EMAIL_URL="consolemail://")
    assert result.returncode != 0 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Refusing to start" in lines[0] and "EMAIL_URL" in lines[0], result.stderr
