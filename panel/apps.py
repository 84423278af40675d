from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "panel"
    verbose_name = "Panel"

    def ready(self):
        from . import lookups  # noqa: F401 - registers `__any`

        _require_sqlite_with_returning()


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
