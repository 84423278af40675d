from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from core.admin_base import AuditedAdmin, ReadOnlyAdmin

from .models import LedgerEntry, User


@admin.register(User)
class PanelUserAdmin(AuditedAdmin, UserAdmin):
    """The balance, the ledger and the key are read only here: money moves through the back office."""

    readonly_fields = ["balance", "api_last_used_at", "flagged_at", "last_login", "date_joined"]
    list_display = ["username", "email", "is_staff", "is_active", "balance", "flagged_at"]
    fieldsets = [*(UserAdmin.fieldsets or ()), ("Panel", {"fields": ["balance", "discount_percent", "discount_below_cost",
                                                           "flagged_at", "flag_reason", "api_last_used_at"]})]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "amount", "balance_after", "order", "payment", "note"]
    list_filter = ["kind"]
    search_fields = ["user__username", "note"]
    list_select_related = ["user"]
