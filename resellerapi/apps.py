from django.apps import AppConfig


class ResellerApiConfig(AppConfig):
    name = "resellerapi"
    verbose_name = "Reseller API v2"
