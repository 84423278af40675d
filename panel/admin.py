from django.contrib import admin

from .models import AuditEntry, StaffNotice


@admin.register(StaffNotice)
class StaffNoticeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "level", "subject", "resolved_at"]
    list_filter = ["level"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read only: the trail is written by the actions it records, never by hand."""

    list_display = ["created_at", "actor", "action", "target_type", "target_id", "target_repr"]
    list_filter = ["target_type"]
    search_fields = ["action", "target_id", "actor__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
