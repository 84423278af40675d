from django.contrib import admin
from django.http import HttpRequest

from .admin_base import AuditedAdmin, ModelAdmin, ReadOnlyAdmin
from .models import AuditEntry, Heartbeat, SiteSettings, StaffNotice


@admin.register(StaffNotice)
class StaffNoticeAdmin(AuditedAdmin):
    list_display = ["created_at", "level", "subject", "resolved_at"]
    list_filter = ["level"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ModelAdmin):
    """Read only: the trail is written by the actions it records, never by hand."""

    list_display = ["created_at", "actor", "action", "target_type", "target_id", "target_repr"]
    list_filter = ["target_type"]
    search_fields = ["action", "target_id", "actor__username"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SiteSettings)
class SiteSettingsAdmin(AuditedAdmin):
    list_display = ["__str__", "new_services_on_sale", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SiteSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "at"]
