from django.contrib import admin

from .models import StaffNotice


@admin.register(StaffNotice)
class StaffNoticeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "level", "subject", "resolved_at"]
    list_filter = ["level"]
