from django import forms
from django.contrib import admin

from core.admin_base import AuditedAdmin, ReadOnlyAdmin

from .models import Category, CustomerRate, Provider, ProviderCall, ProviderService, Service, SyncRun


class ProviderAdminForm(forms.ModelForm):
    # Write-only: the stored key is never rendered; leaving the field empty keeps it.
    api_key = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the current key."
    )

    class Meta:
        model = Provider
        fields = [
            "name", "api_url", "api_key", "currency", "exchange_rate", "markup_percent", "is_active",
            "http_method", "body_format", "key_field",
        ]

    def clean_api_key(self):
        key = self.cleaned_data.get("api_key")
        if not key:
            if not self.instance.pk:
                raise forms.ValidationError("A new provider needs its API key.")
            return self.instance.api_key
        return key


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    form = ProviderAdminForm
    list_display = ["name", "api_url", "is_active", "markup_percent", "balance", "last_success_at", "last_error_at"]


@admin.register(ProviderService)
class ProviderServiceAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "provider", "name", "type", "rate", "gone_since"]
    list_filter = ["provider", "type"]
    search_fields = ["name", "external_id"]
    readonly_fields = [f.name for f in ProviderService._meta.fields]


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ["name", "sort_order"]
    list_editable = ["sort_order"]


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ["id", "name", "category", "type", "rate", "enabled", "disabled_reason"]
    list_filter = ["enabled", "category", "provider_service__provider"]
    search_fields = ["name"]
    raw_id_fields = ["provider_service"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["provider", "started_at", "ok", "new", "changed", "gone", "skipped", "error"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]


@admin.register(CustomerRate)
class CustomerRateAdmin(AuditedAdmin):
    list_display = ["user", "service", "rate", "below_cost_confirmed", "created_at"]
    raw_id_fields = ["user", "service"]


@admin.register(ProviderCall)
class ProviderCallAdmin(ReadOnlyAdmin):
    list_display = ["at", "provider", "action", "answered", "ms"]
    list_filter = ["provider", "answered"]
