"""The admin is the fallback, not a side door: what it may change is audited as the back office's actions
are, and what a change would put out of step with the ledger is shown read only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from .services import audit

HIDDEN = ("api_key", "password", "secret")

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Any]  # generic in django-stubs only: the admin takes no [] at run time
else:
    ModelAdmin = admin.ModelAdmin


class ReadOnlyAdmin(ModelAdmin):
    """Shown, never added, changed or deleted here: the ledger, orders, payments and trails."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class AuditedAdmin(ModelAdmin):
    """Every add, change and delete made in the admin writes an audit row, in the admin's own transaction."""

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm[Any], change: bool) -> None:
        super().save_model(request, obj, form, change)
        names = list(form.changed_data) if change else list(form.fields)
        before = {name: _shown(name, form.initial.get(name)) for name in names} if change else {}
        after = {name: _shown(name, form.cleaned_data.get(name)) for name in names}
        audit(actor=request.user, action=f"admin.{obj._meta.model_name}.{'change' if change else 'add'}",
              target=obj, before=before, after=after)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        audit(actor=request.user, action=f"admin.{obj._meta.model_name}.delete", target=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            audit(actor=request.user, action=f"admin.{obj._meta.model_name}.delete", target=obj)
        super().delete_queryset(request, queryset)


def _shown(name: str, value: object) -> object:
    """A form value as an audit entry keeps it: secrets hidden, rows by key, lists item by item, else text."""
    if any(word in name for word in HIDDEN):
        return "(hidden)"
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (list, tuple, set)) or hasattr(value, "__iter__") and not isinstance(value, (dict, bytes)):
        return [_shown(name, item) for item in value]
    return str(value)
