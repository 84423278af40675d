"""The admin is the fallback: methods are edited here as on the staff pages; payments and gateway events are
read only, since a change by hand would bypass the conditional UPDATEs and the ledger."""

from django.contrib import admin

from core.admin_base import AuditedAdmin, ReadOnlyAdmin

from .models import GatewayEvent, Payment, PaymentMethod


@admin.register(PaymentMethod)
class PaymentMethodAdmin(AuditedAdmin):
    list_display = ["name", "gateway", "enabled", "min_amount", "max_amount", "fee_percent", "bonus_percent",
                    "display_order"]
    list_filter = ["gateway", "enabled"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "user", "method", "total", "currency", "status", "credited"]
    list_filter = ["status", "gateway"]
    search_fields = ["user__username", "gateway_ref", "reference"]


@admin.register(GatewayEvent)
class GatewayEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "received_at", "gateway", "kind", "source", "payment", "outcome"]
    list_filter = ["gateway", "source"]
    search_fields = ["event_id"]
