from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customers and wallets"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import twofactor

        user_logged_in.connect(twofactor.on_login, dispatch_uid="accounts.two_factor_pending")
