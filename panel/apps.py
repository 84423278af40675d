import sys

from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "panel"
    verbose_name = "Panel"

    def ready(self):
        _require_sqlite_with_returning()
        refuse_unsafe_production()


def _require_sqlite_with_returning(databases: dict | None = None):
    """Polling writes with `UPDATE ... FROM` and `RETURNING` (SQLite 3.35, 2021); Django alone asks for 3.31."""
    import sqlite3

    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    databases = settings.DATABASES if databases is None else databases
    uses_sqlite = any(db["ENGINE"] == "django.db.backends.sqlite3" for db in databases.values())
    if uses_sqlite and sqlite3.sqlite_version_info < (3, 35):
        raise ImproperlyConfigured(f"SQLite 3.35 or newer is needed; this Python has {sqlite3.sqlite_version}. "
                                   "Use a newer Python build, or PostgreSQL (DATABASE_URL).")


CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"


def refuse_unsafe_production(config=None):
    """With DEBUG off, refuse to start on settings that would lose mail or leak it: the console backend prints
    every message, password-reset links included, into the log (an account takeover for whoever reads it)
    and no customer ever gets one."""
    from django.conf import settings

    config = settings if config is None else config
    if config.DEBUG:
        return
    if config.EMAIL_BACKEND == CONSOLE_MAIL:
        # One line, as for a missing SECRET_KEY (panel.settings): an operator reads it, not a traceback.
        sys.exit(
            "Refusing to start: DEBUG is off and mail goes to the console backend, which writes every message "
            "(password-reset links too) into the log and delivers none. Set EMAIL_URL, e.g. "
            "smtp+tls://user:password@smtp.example.com:587 (or EMAIL_BACKEND and EMAIL_HOST).")
