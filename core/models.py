"""What every app shares: staff notices, the audit trail, the site's settings, the background processes'
heartbeats. The tables keep the names they had when these lived in `panel` (db_table)."""

from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class StaffNotice(models.Model):
    """Something staff must look at (a service disabled below cost, a provider out of balance, ...)."""

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    created_at = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.WARNING)
    subject = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "panel_staffnotice"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject


class AuditEntry(models.Model):
    """One staff action: who, when, what, on which object, before and after. Written in the transaction of
    the action it records (core.services.audit); append-only: never changed, never deleted from the panel."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="audit_entries", help_text="Empty: the command line.")
    action = models.CharField(max_length=100, db_index=True, help_text="e.g. order.cancel_refund")
    target_type = models.CharField(max_length=50)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    before = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "panel_auditentry"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.action} on {self.target_type} {self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValidationError("Audit entries are append-only.")


class SiteSettings(models.Model):
    """The settings staff change on a page (the environment holds the rest): one row."""

    new_services_on_sale = models.BooleanField(
        default=True, help_text="Services a sync brings in go on sale at once; when off they wait, disabled, "
                                "in the new services list for staff to review.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "panel_sitesettings"
        verbose_name_plural = "site settings"

    def __str__(self) -> str:
        return "Site settings"

    @classmethod
    def current(cls) -> "SiteSettings":
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row


class Heartbeat(models.Model):
    """The last sign of life of a background process: `beat` (its scheduler's tick), `worker` (a task it ran)."""

    name = models.CharField(max_length=20, primary_key=True)
    at = models.DateTimeField()

    class Meta:
        db_table = "panel_heartbeat"

    def __str__(self) -> str:
        return f"{self.name} at {self.at}"
