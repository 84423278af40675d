from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "panel"
    verbose_name = "Panel"

    def ready(self):
        from . import lookups  # noqa: F401 - registers `__any`
