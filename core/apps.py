from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares (the bottom layer, above Django only): bulk writes, lookups, the staff
    decorator, text and date helpers, the events apps announce, client addresses, rate limits, staff
    notices, the audit trail, site settings and heartbeats. See ARCHITECTURE.md."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import lookups  # noqa: F401 - registers `__any`
