"""Orders, refills and timelines are read only here: a hand-made change would put an order out of step with
its ledger rows. Staff decide on orders in the back office (/staff/orders/), where each decision is audited."""

from django.contrib import admin

from core.admin_base import ReadOnlyAdmin

from .models import Order, OrderEvent, Refill


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "user", "service", "provider", "charge", "refunded", "status", "state"]
    list_filter = ["status", "state", "provider"]
    search_fields = ["id", "external_id", "link", "user__username"]
    list_select_related = ["user", "service", "provider"]


@admin.register(Refill)
class RefillAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "status", "external_id", "created_at"]
    list_filter = ["status"]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "created_at", "kind", "message", "staff_only"]
    list_filter = ["kind", "staff_only"]
