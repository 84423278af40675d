"""Sending the notification outbox (support.notify writes it): claimed, sent, marked. The Celery tasks that
run it are in support.tasks.

A row is claimed by one conditional UPDATE (still pending, not claimed by anyone else, attempts left) that
stamps its lease; only the rows the UPDATE answered (RETURNING) are this worker's, so two workers, or a task
and beat, never send the same row. A sent row is marked sent; a failed one is tried again later (a backoff
doubling from NOTIFY_RETRY_SECONDS) until NOTIFY_MAX_ATTEMPTS, then marked failed with its error (never a
secret). A worker that died mid-send leaves its lease to expire, and the row is tried again.

While a row is pending, `sent_at` holds when it may next be claimed (its lease, or its next try): the model
has no column of its own for that. Once sent, it is when it was sent.

Rate: per channel and recipient, at most NOTIFY_MAX_PER_KIND messages of one kind go out one by one in
NOTIFY_WINDOW_SECONDS; beyond, rows are held, and the sweep sends one digest of them (at most one per kind,
recipient and window: the digest's key names the window) and marks them sent.
"""

import logging
import re
import time
from datetime import datetime, timedelta
from typing import TypeAlias

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from core.bulk import concrete_field

from . import delivery
from .models import Notification

log = logging.getLogger(__name__)

Group: TypeAlias = tuple[str, str, str]  # a notification's channel, recipient and kind

Channel = Notification.Channel
Status = Notification.Status
Kind = Notification.Kind

CLAIM_CHUNK = 20  # rows claimed at once: each is sent before the next chunk is claimed, well within the lease
SEND_LIMIT = 200  # rows one task run looks at; what is left goes to the next run
SEND_BUDGET_SECONDS = 60.0  # no new chunk is claimed after this long: the task stays far below its time limit
SWEEP_AFTER = timedelta(seconds=60)  # a pending row this old lost its task (or its worker)
DIGEST_LINES = 50

DIGEST_WHAT: dict[str, str] = {
    Kind.ORDER_FINISHED: "orders finished",
    Kind.REFILL_FINISHED: "refills finished",
    Kind.PAYMENT_CREDITED: "top-ups credited",
    Kind.TICKET_REPLY: "replies to your tickets",
    Kind.NEW_TICKET: "new tickets",
    Kind.TICKET_MESSAGE: "customer messages on tickets",
    Kind.ORDER_FAILED: "orders waiting for a decision",
    Kind.PROVIDER_LOW_BALANCE: "providers low on balance",
    Kind.PROVIDER_FAILING: "providers failing",
    Kind.POLLING_STOPPED: "polling alerts",
    Kind.PAYMENT_REVIEW: "payments to check",
}
# Kinds whose key names the thing by its number (order:12:finished): the digest's subject lists them.
NUMBERED = {Kind.ORDER_FINISHED, Kind.REFILL_FINISHED, Kind.ORDER_FAILED, Kind.PAYMENT_REVIEW, Kind.NEW_TICKET}
KEY_NUMBER = re.compile(r"^[\w-]+:(\d+)(?::|$)")


def send_due(*, keys: list[str] | None = None, older_than: timedelta | None = None, now=None,
             limit: int = SEND_LIMIT, budget: float = SEND_BUDGET_SECONDS) -> dict:
    """Claim, send and mark the due email and Telegram rows (of these event keys, or pending longer than
    `older_than`, else all), oldest first. Returns the counts, and `more` when rows were left for later."""
    started = time.monotonic()
    now = now or timezone.now()
    due = (Notification.objects.filter(status=Status.PENDING, attempts__lt=settings.NOTIFY_MAX_ATTEMPTS)
           .exclude(channel=Channel.INAPP).filter(Q(sent_at__isnull=True) | Q(sent_at__lte=now)))
    if older_than is not None:
        due = due.filter(Q(sent_at__isnull=False) | Q(created_at__lte=now - older_than))
    if keys:
        due = due.filter(key__in=list(keys))
    candidates = list(due.order_by("created_at", "id").values_list("pk", flat=True)[:limit + 1])
    more = len(candidates) > limit
    counts = {"sent": 0, "held": 0, "retried": 0, "failed": 0}
    recent: dict[Group, list[int]] = {}  # (channel, recipient, kind) -> [sent in the window, held rows waiting]
    candidates = candidates[:limit]
    for start in range(0, len(candidates), CLAIM_CHUNK):
        if time.monotonic() - started > budget:
            more = True
            break
        claimed = claim(candidates[start:start + CLAIM_CHUNK])
        if not claimed:
            continue
        for notification in Notification.objects.filter(pk__in=list(claimed)).select_related("recipient").order_by(
                "created_at", "id"):
            notification.attempts = claimed[notification.pk]
            counts[_send_one(notification, recent)] += 1
    return {**counts, "more": more}


def claim(pks: list[int]) -> dict[int, int]:
    """Take these rows for sending, if they are still pending, due and not someone else's: one UPDATE, whose
    RETURNING names the rows taken (with their attempts, this one counted). A row taken is leased for
    NOTIFY_LEASE_SECONDS: a worker that dies holding it delays it by that much, no more."""
    if not pks:
        return {}
    now = timezone.now()
    connection = connections[router.db_for_write(Notification)]
    meta = Notification._meta
    qn = connection.ops.quote_name
    stamp = meta.get_field("sent_at").get_db_prep_save
    column = {name: qn(concrete_field(meta, name).column) for name in ("attempts", "sent_at", "status")}
    sql = (f"UPDATE {qn(meta.db_table)} SET {column['attempts']} = {column['attempts']} + 1, "
           f"{column['sent_at']} = %s WHERE {qn(meta.pk.column)} IN ({', '.join(['%s'] * len(pks))}) "
           f"AND {column['status']} = %s AND {column['attempts']} < %s "
           f"AND ({column['sent_at']} IS NULL OR {column['sent_at']} <= %s) "
           f"RETURNING {qn(meta.pk.column)}, {column['attempts']}")
    params = [stamp(now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS), connection), *pks, Status.PENDING.value,
              settings.NOTIFY_MAX_ATTEMPTS, stamp(now, connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _send_one(notification: Notification, recent: dict[Group, list[int]]) -> str:
    now = timezone.now()
    group = (notification.channel, notification.recipient_key, notification.kind)
    if notification.kind != Kind.DIGEST:
        if group not in recent:
            recent[group] = _recently(group, now)
        sent, held = recent[group]
        if held or sent >= settings.NOTIFY_MAX_PER_KIND:
            # Beyond the rate: it waits for the sweep's digest (not a try: the claim's attempt is given back).
            record_outcome(notification, status=Status.HELD, sent_at=None, attempts=notification.attempts - 1)
            recent[group][1] = held + 1
            return "held"
    try:
        delivery.deliver(notification)
    except Exception as exc:
        error = str(exc) if isinstance(exc, delivery.DeliveryError) else f"Unexpected {type(exc).__name__}"
        return _failed(notification, delivery.scrub(error)[:500], now)
    record_outcome(notification, status=Status.SENT, sent_at=timezone.now(), last_error="")
    if group in recent:
        recent[group][0] += 1
    return "sent"


def _recently(group: Group, now: datetime) -> list[int]:
    """Of one channel, recipient and kind: the messages sent in the window, and the rows held for a digest."""
    channel, recipient_key, kind = group
    window = now - timedelta(seconds=settings.NOTIFY_WINDOW_SECONDS)
    counts = Notification.objects.filter(channel=channel, recipient_key=recipient_key, kind=kind).aggregate(
        sent=Count("pk", filter=Q(status=Status.SENT, sent_at__gte=window)),
        held=Count("pk", filter=Q(status=Status.HELD)))
    return [counts["sent"], counts["held"]]


def _failed(notification: Notification, error: str, now) -> str:
    attempts = notification.attempts
    if attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        record_outcome(notification, status=Status.FAILED, sent_at=None, last_error=error)
        log.warning("notification %s (%s to %s by %s) failed for good after %s attempts: %s", notification.pk,
                    notification.kind, notification.recipient_key, notification.channel, attempts, error)
        return "failed"
    delay = min(settings.NOTIFY_RETRY_SECONDS * 2 ** (attempts - 1), 3600.0)
    record_outcome(notification, sent_at=now + timedelta(seconds=delay), last_error=error)
    log.warning("notification %s (%s to %s by %s) not sent, attempt %s, next in %.0f s: %s", notification.pk,
                notification.kind, notification.recipient_key, notification.channel, attempts, delay, error)
    return "retried"


def record_outcome(notification: Notification, **changes: object) -> None:
    """Write the outcome of this worker's claim (the row is pending and ours while the lease lasts)."""
    Notification.objects.filter(pk=notification.pk, status=Status.PENDING).update(**changes)
    for name, value in changes.items():
        setattr(notification, name, value)


def give_up_abandoned(now) -> int:
    """Rows whose last allowed attempt was claimed and never finished (the worker died mid-send): failed."""
    return Notification.objects.filter(status=Status.PENDING, attempts__gte=settings.NOTIFY_MAX_ATTEMPTS,
                                       sent_at__lte=now).exclude(channel=Channel.INAPP).update(
        status=Status.FAILED, sent_at=None,
        last_error=f"Given up after {settings.NOTIFY_MAX_ATTEMPTS} attempts: the last one never finished.")


# --- Digests -------------------------------------------------------------------------------------------------

def make_digests(now) -> int:
    """One digest per channel, recipient and kind of the held rows, which are marked sent with it; then the
    digests are sent. At most one per window: its key names the window, and a second is left for the next."""
    window = max(1, int(settings.NOTIFY_WINDOW_SECONDS))
    bucket = int(now.timestamp()) // window
    groups = (Notification.objects.filter(status=Status.HELD).order_by()
              .values_list("channel", "recipient_key", "recipient_id", "kind").distinct())
    keys = []
    for channel, recipient_key, recipient_id, kind in list(groups):
        key = f"digest:{kind}:{bucket}"
        try:
            with transaction.atomic():
                made = _digest(channel, recipient_key, recipient_id, kind, key, now)
        except (IntegrityError, _Raced):  # another sweep made this digest, or took these rows, meanwhile
            continue
        if made:
            keys.append(key)
    if keys:
        send_due(keys=sorted(set(keys)), now=now)
    return len(keys)


class _Raced(Exception):
    pass


def _digest(channel: str, recipient_key: str, recipient_id: int | None, kind: str, key: str, now) -> bool:
    if Notification.objects.filter(channel=channel, recipient_key=recipient_key, key=key).exists():
        return False  # this window's digest went already: the rows wait for the next window's
    held = list(Notification.objects.filter(status=Status.HELD, channel=channel, recipient_key=recipient_key,
                                            kind=kind).order_by("created_at", "id"))
    if not held:
        return False
    if Notification.objects.filter(pk__in=[row.pk for row in held], status=Status.HELD).update(
            status=Status.SENT, sent_at=now) != len(held):
        raise _Raced  # rolls the digest back: the next sweep makes it from what is left
    subject, body = digest_text(kind, held)
    Notification.objects.create(channel=channel, recipient_id=recipient_id, recipient_key=recipient_key,
                                kind=Kind.DIGEST, key=key, subject=subject[:255], body=body,
                                url=reverse("notifications:list"), status=Status.PENDING)
    return True


def digest_text(kind: str, rows: list[Notification]) -> tuple[str, str]:
    """"12 orders finished: #1, #2, ..." and a line per row (the first DIGEST_LINES of them)."""
    count = len(rows)
    if count == 1:  # a digest of one is that one message
        row = rows[0]
        address = delivery.link(row)
        return row.subject, "\n\n".join(part for part in (row.body.strip() or row.subject, address) if part)
    what = DIGEST_WHAT.get(kind, Notification.Kind(kind).label if kind in Kind.values else kind)
    subject = f"{count} {what}"
    if kind in NUMBERED:
        numbers = [match.group(1) for match in map(KEY_NUMBER.match, (row.key for row in rows)) if match]
        if numbers:
            subject = _fit(f"{subject}: " + ", ".join(f"#{number}" for number in numbers), 255)
    lines = []
    for row in rows[:DIGEST_LINES]:
        address = delivery.link(row)
        lines.append(f"- {row.subject}" + (f"\n  {address}" if address else ""))
    if count > DIGEST_LINES:
        lines.append(f"... and {count - DIGEST_LINES} more: {delivery.link(Notification(url=reverse('notifications:list')))}")
    return subject, f"{count} {what}:\n\n" + "\n".join(lines)


def _fit(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    cut = text[:length - 4]
    return cut[:cut.rfind(",")] + ", …" if "," in cut else cut + "…"
