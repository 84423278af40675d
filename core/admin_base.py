"""The admin is the fallback, not a side door: what it may change is audited as the back office's actions
are, and what a change would put out of step with the ledger is shown read only."""

from django.contrib import admin

from .services import audit

HIDDEN = ("api_key", "password", "secret")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: the ledger, orders, payments and trails."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete made in the admin writes an audit row, in the admin's own transaction."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        names = list(form.changed_data) if change else list(form.fields)
        before = {name: _shown(name, form.initial.get(name)) for name in names} if change else {}
        after = {name: _shown(name, form.cleaned_data.get(name)) for name in names}
        audit(actor=request.user, action=f"admin.{obj._meta.model_name}.{'change' if change else 'add'}",
              target=obj, before=before, after=after)

    def delete_model(self, request, obj):
        audit(actor=request.user, action=f"admin.{obj._meta.model_name}.delete", target=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit(actor=request.user, action=f"admin.{obj._meta.model_name}.delete", target=obj)
        super().delete_queryset(request, queryset)


def _shown(name: str, value):
    if any(word in name for word in HIDDEN):
        return "(hidden)"
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (list, tuple, set)) or hasattr(value, "__iter__") and not isinstance(value, (dict, bytes)):
        return [_shown(name, item) for item in value]
    return str(value)
