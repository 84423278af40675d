"""Staff can look at everything the sandbox holds; they edit only accounts (top-ups), services and faults."""

from django.contrib import admin

from .models import SandboxAccount, SandboxCheckout, SandboxFault, SandboxOrder, SandboxRefill, SandboxService


class ReadOnlyAdmin(admin.ModelAdmin):
    # Orders and refills are the simulated provider's history: changing them by hand would break the
    # exactly-once refund bookkeeping, so the admin only shows them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SandboxAccount)
class SandboxAccountAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "balance", "currency"]
    search_fields = ["name"]
    # The key is the one a panel keeps as this provider's key: like every provider key, no page shows it
    # (`manage.py provider` and seed_demo read it from the database). The end tells accounts apart.
    exclude = ["api_key"]
    readonly_fields = ["api_key_ending"]

    @admin.display(description="API key")
    def api_key_ending(self, account):
        return f"set, ending in …{account.api_key[-4:]}" if account.api_key else "none"


@admin.register(SandboxService)
class SandboxServiceAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "type",
        "category",
        "rate",
        "min",
        "max",
        "refill",
        "cancel",
        "dripfeed",
        "active",
    ]
    list_filter = ["type", "category", "refill", "cancel", "dripfeed", "active"]
    search_fields = ["name", "category"]


@admin.register(SandboxOrder)
class SandboxOrderAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "account",
        "service",
        "quantity",
        "charge",
        "created_at",
        "final_status",
        "refunded",
    ]
    list_filter = ["final_status", "service__type"]
    search_fields = ["link"]
    list_select_related = ["account", "service"]


@admin.register(SandboxRefill)
class SandboxRefillAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "created_at", "outcome"]


@admin.register(SandboxFault)
class SandboxFaultAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "action", "times", "message", "seconds", "created_at"]


@admin.register(SandboxCheckout)
class SandboxCheckoutAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "amount", "currency", "status", "refunded", "reference"]
    list_filter = ["status"]
