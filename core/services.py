"""Writes of the site shell: staff notices and the audit trail."""

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from .models import AuditEntry, SiteSettings, StaffNotice

if TYPE_CHECKING:
    from accounts.models import User

# Who did it: a user, a visitor not logged in, or None for the command line (recorded as None but a user).
Actor: TypeAlias = "User | AnonymousUser | None"
# What an audit entry is about: a model instance, or (type, id, text) for what is not one row.
AuditTarget = Model | tuple[str, object, object]
# An audit entry's before and after: field name -> value (JSON with Django's encoder).
Fields = dict[str, Any]


def staff_notice_create(*, subject: str, body: str = "", level: str = StaffNotice.Level.WARNING) -> StaffNotice:
    """Put something in front of staff. Callers run it inside their own transaction."""
    return StaffNotice.objects.create(subject=subject[:255], body=body, level=level)


def notice_once(subject: str, body: str = "", level: str = StaffNotice.Level.WARNING) -> None:
    """Put something in front of staff unless the same subject is still unresolved there."""
    subject = subject[:255]
    if not StaffNotice.objects.filter(subject=subject, resolved_at__isnull=True).exists():
        staff_notice_create(subject=subject, body=body, level=level)


@transaction.atomic
def staff_notice_resolve(*, notice_id: int, actor: Actor = None) -> bool:
    """Mark a staff notice resolved. False when it was already resolved (or does not exist)."""
    notice = StaffNotice.objects.filter(pk=notice_id, resolved_at__isnull=True).first()
    if notice is None or not StaffNotice.objects.filter(pk=notice_id, resolved_at__isnull=True).update(
            resolved_at=timezone.now()):
        return False
    audit(actor=actor, action="notice.resolve", target=notice)
    return True


def audit(*, actor: Actor, action: str, target: AuditTarget, before: Fields | None = None, after: Fields | None = None,
          note: str = "") -> AuditEntry:
    """Record a staff action on `target` (a model instance, or a (type, id, text) triple). Only inside the
    action's own transaction: the record and the change are kept together or not at all."""
    if not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        raise TransactionManagementError("an audit entry is written in the transaction of the action it records")
    if isinstance(target, tuple):
        target_type, target_id, target_repr = target
    else:
        target_type, target_id, target_repr = target._meta.model_name or "", target.pk, str(target)
    return AuditEntry.objects.create(
        actor=_recorded(actor), action=action[:100], target_type=target_type[:50],
        target_id=str(target_id or "")[:64], target_repr=str(target_repr)[:255], before=before or {},
        after=after or {}, note=note[:500])


def _recorded(actor: Actor) -> "User | None":
    """The user an audit entry names: none for the command line, nor for a visitor not logged in."""
    if actor is None or isinstance(actor, AnonymousUser) or not actor.pk:
        return None
    return actor


def snapshot(obj: object, fields: Iterable[str]) -> Fields:
    """The named fields of an object, as an audit entry keeps them."""
    return {name: getattr(obj, name) for name in fields}


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Fields, Fields]:
    """Only the fields that differ, before and after."""
    names = [name for name in after if before.get(name) != after[name]]
    return {name: before.get(name) for name in names}, {name: after[name] for name in names}


SITE_SETTING_FIELDS = ("new_services_on_sale",)


@transaction.atomic
def site_settings_update(*, actor: Actor, **values: Any) -> SiteSettings:
    """Change the settings staff set on a page, with an audit row of what changed."""
    unknown = set(values) - set(SITE_SETTING_FIELDS)
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    row = SiteSettings.objects.select_for_update(no_key=True).get_or_create(pk=1)[0]
    before = snapshot(row, SITE_SETTING_FIELDS)
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    was, now = changed(before, snapshot(row, SITE_SETTING_FIELDS))
    if now:
        audit(actor=actor, action="settings.update", target=row, before=was, after=now)
    return row


def heartbeat(name: str) -> None:
    """Note that a background process (`beat`, `worker`) is alive now."""
    from .models import Heartbeat

    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})
