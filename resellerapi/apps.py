from django.apps import AppConfig


class ResellerApiConfig(AppConfig):
    name = "resellerapi"
    verbose_name = "Reseller API v2"

    def ready(self):
        from . import checks  # noqa: F401 - registers the rate limit's cache check
