"""The back office's permissions, one per kind of staff work, held by a model without a table. Roles are
Django groups made of them (backoffice.roles): Support and Admin."""

from django.db import models


class StaffPermission(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_backoffice", "See every back-office page"),
            ("act_on_orders", "Resend, cancel and refund, attach, complete orders; resolve notices"),
            ("handle_tickets", "Answer customers' tickets"),
            ("manage_money", "Add or deduct funds, approve or reject payments"),
            ("manage_customers", "Disable accounts, rotate API keys, set customers' prices"),
            ("manage_catalog", "Providers, services, prices and categories"),
            ("manage_settings", "Payment methods and the panel's settings"),
        ]

    def __str__(self):
        return "back-office permissions"
