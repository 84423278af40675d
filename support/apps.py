from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support and notifications"

    def ready(self):
        from . import receivers  # noqa: F401 - connects the notifications to the events other apps send
