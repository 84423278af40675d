"""Notifications: who is told what, by which channel, once per event.

The rows are an outbox (support.models.Notification), written in the transaction of the event: one in-app
row per recipient (the bell, delivered by being written), one email row per recipient who takes email for
that kind, and one Telegram row for the staff chat when it is configured. The unique key per channel,
recipient and event makes the same event told twice write nothing more. After the commit one Celery task is
dispatched for all the rows of the transaction (support.tasks sends them); with the broker down, the sweep
sends them a minute later. Nothing here sends anything or calls out: the action that caused the event is
never slowed or broken by its notifications.

Call inside the event's transaction. Rows are written by one multi-row INSERT that skips the rows whose key
already exists (polling tells of a hundred orders at a time).
"""

import functools
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from core.bulk import MAX_PARAMS, _field_by_attname, _prepared_columns, _preparer, _unnest, pg_array

from .models import Notification, NotificationPreference

log = logging.getLogger(__name__)

Channel = Notification.Channel
Status = Notification.Status

# What a customer may switch off by email (the preference's field of the same name). The bell shows them all.
PREFERENCE_KINDS = ("ticket_reply", "order_finished", "payment_credited", "refill_finished")

SEND_TASK = "support.send_notifications"  # support.tasks.send_notifications, named: the tasks import us
TELEGRAM_RECIPIENT = "telegram"

# The columns written, in the order of a row's tuple (see _row).
COLUMNS = ("channel", "recipient_id", "recipient_key", "kind", "key", "subject", "body", "url", "status",
           "attempts", "last_error", "created_at", "sent_at")


def user_key(user_id: int) -> str:
    return f"user:{user_id}"


# --- What the ticket pages (and the receivers) call ---------------------------------------------------------

def notify_customer(*, user, kind: str, key: str, subject: str, body: str = "", url: str = "") -> None:
    """Tell a customer of an event: in the panel's bell, and by email unless they switched this kind off.
    Call inside the event's transaction; sending happens after the commit. Once per (kind's) key."""
    email = wants_email(user, kind)
    write(customer_rows(user_id=user.pk, email=email, kind=kind, key=key, subject=subject, body=body, url=url))


def notify_staff(*, kind: str, key: str, subject: str, body: str = "", url: str = "", now=None,
                 deliver_now: bool = False) -> None:
    """Tell staff of an event: every staff member's bell, email, and the Telegram chat when configured.
    Call inside the event's transaction; sending happens after the commit. Once per key.

    `deliver_now`: the email and Telegram rows are also sent by this process right after the commit (beat
    tells of a stopped worker, which would never run the task)."""
    from accounts.models import User

    staff = User.objects.filter(is_staff=True, is_active=True).order_by("pk").values_list("pk", "email")
    write(staff_rows(staff=list(staff), kind=kind, key=key, subject=subject, body=body, url=url, now=now),
          deliver_now=deliver_now)


def wants_email(user, kind: str) -> bool:
    """An active customer with an address who has not switched this kind off (no preference row: all on)."""
    if not user.email or not user.is_active:
        return False
    if kind not in PREFERENCE_KINDS:
        return True
    chosen = NotificationPreference.objects.filter(user_id=user.pk).values_list(kind, flat=True).first()
    return chosen is None or chosen


def preference_for(user) -> NotificationPreference:
    """The customer's preference row, created on demand with everything on."""
    return NotificationPreference.objects.get_or_create(user=user)[0]


# --- Rows ------------------------------------------------------------------------------------------------

# Plain strings, not the choices' members: a str subclass costs the INSERT a preparation per value.
_INAPP, _SENT, _PENDING = Channel.INAPP.value, Status.SENT.value, Status.PENDING.value


def _row(channel: str, user_id: int | None, recipient_key: str, kind: str, key: str, subject: str, body: str,
         url: str, now) -> tuple:
    # In the panel a row is delivered by being written: sent at once, never held, never sent by a task.
    inapp = channel == _INAPP
    return (str(channel), user_id, recipient_key, str(kind), key[:200], _one_line(subject)[:255], body, url[:500],
            _SENT if inapp else _PENDING, 0, "", now, now if inapp else None)


def _one_line(text: str) -> str:
    return " ".join(str(text).split()) if ("\n" in text or "\r" in text) else text


def customer_rows(*, user_id: int, email: bool, kind: str, key: str, subject: str, body: str = "", url: str = "",
                  now=None) -> list[tuple]:
    now = now or timezone.now()
    recipient = user_key(user_id)
    rows = [_row(Channel.INAPP, user_id, recipient, kind, key, subject, body, url, now)]
    if email:
        rows.append(_row(Channel.EMAIL, user_id, recipient, kind, key, subject, body, url, now))
    return rows


def staff_rows(*, staff: Iterable[tuple[int, str]], kind: str, key: str, subject: str, body: str = "",
               url: str = "", now=None) -> list[tuple]:
    """`staff`: (user ID, email) of every active staff member."""
    now = now or timezone.now()
    rows = []
    for user_id, email in staff:
        recipient = user_key(user_id)
        rows.append(_row(Channel.INAPP, user_id, recipient, kind, key, subject, body, url, now))
        if email:
            rows.append(_row(Channel.EMAIL, user_id, recipient, kind, key, subject, body, url, now))
    if telegram_configured():
        rows.append(_row(Channel.TELEGRAM, None, TELEGRAM_RECIPIENT, kind, key, subject, body, url, now))
    return rows


def telegram_configured() -> bool:
    return bool(getattr(settings, "TELEGRAM_BOT_TOKEN", "") and getattr(settings, "TELEGRAM_CHAT_ID", ""))


def write(rows: list[tuple], *, deliver_now: bool = False) -> None:
    """Write the rows (those whose channel, recipient and key exist already are skipped) and have what is
    to be sent sent after the commit: one task for the transaction, however many calls wrote rows in it."""
    if not rows:
        return
    insert_rows(rows)
    if any(row[0] != Channel.INAPP for row in rows):
        dispatch_after_commit()
        if deliver_now:
            keys = sorted({row[4] for row in rows})
            transaction.on_commit(functools.partial(_deliver_now, keys), robust=True)


def insert_rows(rows: list[tuple]) -> None:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING (on PostgreSQL from one array per column): the same
    key twice writes nothing new, and a hundred orders' rows cost one statement, not a model instance each."""
    connection = connections[router.db_for_write(Notification)]
    fields, head, row_sql = _insert_sql(connection.alias)
    preps = [_preparer(field, connection) for field in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(f"c{i}" for i in range(len(fields)))
            cursor.execute(f"{head}SELECT {names} FROM {_unnest(fields, connection, ordinality=True)} ORDER BY n "
                           "ON CONFLICT DO NOTHING", [pg_array(column) for column in _prepared_columns(rows, preps)])
            return
        step = max(1, MAX_PARAMS // len(fields))
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            params = [value for row in zip(*_prepared_columns(chunk, preps), strict=True) for value in row]
            cursor.execute(f"{head}VALUES {', '.join([row_sql] * len(chunk))} ON CONFLICT DO NOTHING", params)


@functools.cache
def _insert_sql(alias: str) -> tuple[list, str, str]:
    connection = connections[alias]
    meta = Notification._meta
    fields = [_field_by_attname(meta, name) for name in COLUMNS]
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(field.column) for field in fields)}) "
    return fields, head, "(" + ", ".join(["%s"] * len(fields)) + ")"


# --- Sending after the commit -------------------------------------------------------------------------------

class _Dispatch:
    """The after-commit callback of one transaction: registered once however many writes it has."""

    __slots__ = ("ran",)

    def __init__(self):
        self.ran = False

    def __call__(self):
        self.ran = True
        dispatch()


def dispatch_after_commit() -> None:
    connection = transaction.get_connection(router.db_for_write(Notification))
    if connection.in_atomic_block:
        pending = getattr(connection, "_support_notify_dispatch", None)
        if pending is not None and not pending.ran and any(func is pending for _, func, _ in connection.run_on_commit):
            return  # this transaction already has its task coming
        pending = _Dispatch()
        connection._support_notify_dispatch = pending
        transaction.on_commit(pending, using=connection.alias, robust=True)
    else:
        dispatch()


def dispatch() -> bool:
    """Have a worker send what is pending. With the broker down, the sweep sends it within a minute or two."""
    from celery import current_app as celery_app  # the project's app (panel.celery)

    try:
        celery_app.send_task(SEND_TASK, retry=False)
    except Exception:  # any broker failure: the rows are safe in the database, the sweep sends them
        log.warning("broker unavailable, notifications left to the sweep")
        return False
    return True


def _deliver_now(keys: list[str]) -> None:
    """Send these events' email and Telegram rows from this process, now (after the commit). Never raises."""
    from .sending import send_due

    try:
        send_due(keys=keys)
    except Exception as exc:  # the database, most likely: the task and the sweep try again
        log.warning("notifications %s could not be sent at once (%s); left to the task and the sweep", keys,
                    type(exc).__name__)
