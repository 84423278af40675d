"""A batch of order statuses: claim up to 100 orders, one `status` call, apply the answers, one write.

Claim: one UPDATE stamps `last_polled_at` on the batch's orders that nobody asked about in the last
POLL_REPOLL_SECONDS (keeping the stamp it replaced, for a failed call to put back), and answers what
polling needs of them. Two overlapping cycles therefore split the orders. The answers are then written
only for the orders they change, by one UPDATE that also requires each row to still hold what was read at
the claim (status, remains, errors, flag, refunded, ...): a row that changed meanwhile (another poller got
there first, staff cleared its flag) is left alone until the next cycle, and its events and refund are not
written either. An order that did not change costs one write per cycle, the claim's; nothing is released.
"""

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any, ClassVar, Protocol, TypeAlias

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

import smmapi
from accounts.money import db_money, to_money
from accounts.services import wallet_refund_orders
from catalog import backoff
from catalog.models import Provider
from core import events as announce
from core.bulk import bulk_insert_rows, bulk_update_rows, cast_db_type, concrete_field, pg_array
from core.services import notice_once

from ..models import Order, OrderEvent
from .refunds import plan_refund
from .report import Report

# Plain strings, not the choices' members: they are written to the database in bulk, where a str subclass
# costs the driver an adaptation per value.
STATUS_MAP = {key: status.value for key, status in {
    smmapi.OrderStatus.PENDING: Order.Status.PENDING,
    smmapi.OrderStatus.IN_PROGRESS: Order.Status.IN_PROGRESS,
    smmapi.OrderStatus.PROCESSING: Order.Status.PROCESSING,
    smmapi.OrderStatus.COMPLETED: Order.Status.COMPLETED,
    smmapi.OrderStatus.PARTIAL: Order.Status.PARTIAL,
    smmapi.OrderStatus.CANCELED: Order.Status.CANCELED,
}.items()}


# The `status` call's answer: each order's status, or the error the provider gave for that order alone.
Answers: TypeAlias = dict[str, smmapi.OrderStatusInfo | smmapi.ItemError]


class Writes(Protocol):
    """Where a cycle hands the writes of its batches (orders.polling.cycle._Writes)."""

    def submit(self, write: Callable[..., None], /, *args: Any) -> None: ...


@dataclass
class ClaimedBatch:
    orders: list["PolledOrder"]
    asked_at: datetime
    answers: "Future[Answers] | None" = None  # the call, once it is on its way
    retry: backoff.Retry = field(default_factory=backoff.Retry)

    def fetch(self, client: smmapi.Client) -> Answers:
        """The `status` call, tried again after a failure it is safe to repeat (it is a read). Runs on a
        thread of the cycle's pool, so it must not touch the database."""
        ids = [order.external_id for order in self.orders]
        return self.retry(lambda: client.statuses(ids), safe=backoff.safe_to_repeat_read)


def pollable_orders(provider_id: int) -> "QuerySet[Order]":
    """The provider's orders that polling asks about: placed, and not finished there."""
    return Order.objects.filter(provider_id=provider_id, state=Order.State.PLACED).exclude(
        status__in=Order.FINAL_STATUSES)


def claim_batch(order_ids: list[int]) -> ClaimedBatch | None:
    now = timezone.now()
    connection = connections[router.db_for_write(Order)]
    sql, ids = _claim_sql(connection.alias, connection.vendor, len(order_ids))
    stamp = Order._meta.get_field("last_polled_at").get_db_prep_save
    params = [stamp(now, connection), *ids(order_ids), Order.State.PLACED, *Order.FINAL_STATUSES,
              stamp(now - timedelta(seconds=settings.POLL_REPOLL_SECONDS), connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    orders = sorted(map(PolledOrder.from_row, rows), key=attrgetter("id"))
    return ClaimedBatch(orders, asked_at=now) if orders else None


@functools.cache
def _claim_sql(alias: str, vendor: str, count: int):
    """The claim's statement, written once: a hundred of them a cycle need not go through the ORM.

    By primary key only, so the database looks the hundred rows up by their IDs (the planned batch is
    already this provider's) rather than walking the provider's whole index.
    """
    connection = connections[alias]
    qn = connection.ops.quote_name
    meta = Order._meta
    column = {name: qn(concrete_field(meta, name).column) for name in ("last_polled_at", "state", "status")}
    if vendor == "postgresql":  # one array parameter: see core.lookups
        ids_sql, ids = f"= ANY(%s::{cast_db_type(meta.pk, connection)}[])", (lambda order_ids: [pg_array(order_ids)])
    else:
        ids_sql, ids = f"IN ({', '.join(['%s'] * count)})", list
    finals = ", ".join(["%s"] * len(Order.FINAL_STATUSES))
    returning = ", ".join(qn(concrete_field(meta, name).column) for name in PolledOrder.READ)
    last = column["last_polled_at"]
    sql = (f"UPDATE {qn(meta.db_table)} SET {qn(meta.get_field('previous_polled_at').column)} = {last}, {last} = %s "
           f"WHERE {qn(meta.pk.column)} {ids_sql} AND {column['state']} = %s AND {column['status']} NOT IN ({finals}) "
           f"AND ({last} IS NULL OR {last} < %s) RETURNING {returning}")
    return sql, ids


def unclaim(claimed: ClaimedBatch) -> None:
    """The call failed: the orders were not asked after all, so they get back the stamp the claim replaced."""
    Order.objects.filter(pk__any=[order.pk for order in claimed.orders], last_polled_at=claimed.asked_at).update(
        last_polled_at=F("previous_polled_at"))


def finish_batch(provider: Provider, claimed: ClaimedBatch, report: Report, writes: "Writes | None" = None) -> None:
    """Apply the answers of a claimed batch's call (handed to `writes`, else written at once); or, if the
    call failed after its retries, let its orders go and count the failure against the provider."""
    report.count(calls=1)
    assert claimed.answers is not None, "a batch is finished once its call went out"
    try:
        answers = claimed.answers.result()
    except smmapi.SmmApiError as exc:
        unclaim(claimed)
        provider_call_failed(provider, exc, report)
        return
    backoff.provider_answered(provider)
    changes = apply_statuses(provider, claimed.orders, answers, report)
    if changes and writes:
        writes.submit(write_changes, *changes, report)
    elif changes:
        write_changes(*changes, report)


def provider_call_failed(provider: Provider, exc: Exception, report: Report) -> None:
    """A failed call touches no order; it is recorded on the provider, which is backed off once enough
    calls failed in a row."""
    report.count(failed_calls=1)
    report.errors.append(f"{provider.name}: {exc}")
    backoff.provider_failed(provider, exc)


def poll_order_batch(provider_id: int, order_ids: list[int]) -> Report:
    """One `status` call for up to 100 orders of one provider, and one transaction to apply the answers: the
    unit of work of a fanned-out cycle, which workers share. A provider backed off since the cycle was
    planned is not called; the call waits for one of the provider's slots (catalog.backoff.call_slot)."""
    report = Report()
    provider = Provider.objects.get(pk=provider_id)
    if backoff.backed_off(provider):
        return report
    claimed = claim_batch(order_ids)
    if claimed:
        claimed.answers = Future()
        with backoff.call_slot(provider):
            try:
                claimed.answers.set_result(claimed.fetch(backoff.client_for(provider)))
            except smmapi.SmmApiError as exc:
                claimed.answers.set_exception(exc)
        finish_batch(provider, claimed, report)
    return report


@dataclass(slots=True)
class PolledOrder:
    """The columns polling reads and writes of one order: a plain object, not a model instance (a hundred of
    those, with Django's conversions, cost more than the whole status call)."""

    id: int
    user_id: int
    external_id: str
    units: int
    charge: Decimal
    status: str
    start_count: int | None
    remains: int | None
    cost: Decimal | None
    refunded: Decimal
    poll_errors: int
    needs_attention: bool
    updated_at: datetime | None = None  # written, never read
    expected: tuple[Any, ...] = ()  # what the row held at the claim (_POLL_STATE), required when its changes are written
    progressed: bool = False  # status, start count or remains moved

    READ: ClassVar[tuple[str, ...]] = ("id", "user_id", "external_id", "units", "charge", "status", "start_count",
                                       "remains", "cost", "refunded", "poll_errors", "needs_attention")
    MONEY: ClassVar[tuple[int, ...]] = (4, 8, 9)  # positions of charge, cost and refunded in READ

    @property
    def pk(self) -> int:
        return self.id

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "PolledOrder":
        if type(row[cls.MONEY[0]]) is not Decimal:  # SQLite answers numbers, PostgreSQL Decimals
            row = list(row)
            for i in cls.MONEY:
                if row[i] is not None:
                    row[i] = _money_from_number(row[i])
        return cls(*row)


# SQLite's number for an amount, as the ORM would read it; once per distinct amount (a batch repeats a few).
_money_from_number = functools.lru_cache(maxsize=4096)(db_money)


# What an answer may change on an order; written only for the orders it did change, and only where the row
# still holds what the claim read.
POLL_STATE_FIELDS = ["status", "start_count", "remains", "cost", "refunded", "poll_errors", "needs_attention"]
_POLL_STATE = attrgetter(*POLL_STATE_FIELDS)


# What a batch's answers change, as the one write of the batch takes them (see _write_in_transaction).
EventRow: TypeAlias = tuple[int, str, str, bool]  # order_id, kind, message, staff_only (the time added there)
RefundRow: TypeAlias = tuple["PolledOrder", Decimal, str]  # the order, the amount, the ledger's note
NoticeRow: TypeAlias = tuple[int, str, str]  # order_id, subject, body
Changes: TypeAlias = tuple[list["PolledOrder"], list[EventRow], list[RefundRow], list[NoticeRow], datetime]


def apply_statuses(provider: Provider, orders: list[PolledOrder], answers: Answers, report: Report) -> Changes | None:
    """Work out what the answers change; returns what write_changes is to write, if anything."""
    now = timezone.now()
    events: list[EventRow] = []
    refunds: list[RefundRow] = []
    notices: list[NoticeRow] = []
    changed: list[PolledOrder] = []
    item_errors = 0
    for order in orders:
        order.expected = _POLL_STATE(order)
        answer = answers.get(order.external_id, _MISSING)
        if isinstance(answer, smmapi.ItemError):
            item_errors += 1
            _item_error(order, answer.message, events, notices)
        else:
            order.poll_errors = 0
            _apply_one(provider, order, answer, events, refunds)
        if _POLL_STATE(order) != order.expected:
            order.updated_at = now
            changed.append(order)
    report.count(polled=len(orders), item_errors=item_errors)
    return (changed, events, refunds, notices, now) if changed else None


def write_changes(changed: list[PolledOrder], events: list[EventRow], refunds: list[RefundRow],
                  notices: list[NoticeRow], now: datetime, report: Report) -> None:
    # Counted once committed: a batch whose write failed changed nothing.
    report.count_written(*_write_in_transaction(changed, events, refunds, notices, now))


@transaction.atomic
def _write_in_transaction(changed: list[PolledOrder], events: list[EventRow], refunds: list[RefundRow],
                          notices: list[NoticeRow], now: datetime) -> tuple[int, int]:
    written = bulk_update_rows(changed, [*POLL_STATE_FIELDS, "updated_at"], model=Order, expect=POLL_STATE_FIELDS)
    bulk_insert_rows(OrderEvent, ["order_id", "kind", "message", "staff_only", "created_at"],
                     [(*event, now) for event in events if event[0] in written])
    for order_id, subject, body in notices:
        if order_id in written:
            notice_once(subject, body)
    due = [(order.pk, order.user_id, amount, note) for order, amount, note in refunds if order.pk in written]
    wallet_refund_orders(due)
    finished = [order.pk for order in changed if order.pk in written and order.status in Order.FINAL_STATUSES
                and order.expected[0] not in Order.FINAL_STATUSES]
    if finished:
        announce.orders_finished.send(sender=Order, order_ids=finished)
    return sum(order.progressed for order in changed if order.pk in written), len(due)


_MISSING = smmapi.ItemError(smmapi.MISSING_FROM_ANSWER)


def _event(order_id: int, kind: str, message: str, *, staff_only: bool = False) -> EventRow:
    """A timeline line, as the row bulk_insert_rows writes (the time is added there)."""
    return (order_id, kind, message, staff_only)


def _item_error(order: PolledOrder, message: str, events: list[EventRow], notices: list[NoticeRow]) -> None:
    """A per-item error touches only its order; repeated, it puts the order in front of staff."""
    order.poll_errors += 1
    if order.poll_errors >= settings.POLL_ERROR_LIMIT and not order.needs_attention:
        order.needs_attention = True
        events.append(_event(order.pk, "poll_error", f"The provider answered “{message}” {order.poll_errors} "
                                                     "times in a row.", staff_only=True))
        notices.append((order.pk, f"Order #{order.pk}: the provider keeps answering “{message}”"[:255],
                        "It stays as it is until someone checks it with the provider."))


def _apply_one(provider: Provider, order: PolledOrder, info: smmapi.OrderStatusInfo, events: list[EventRow],
               refunds: list[RefundRow]) -> None:
    before = (order.status, order.start_count, order.remains)
    status = STATUS_MAP.get(info.status)
    if status is None:  # Error or a spelling nobody knows: keep the status, tell staff once
        if not order.needs_attention:
            order.needs_attention = True
            events.append(_event(order.pk, "provider_status", f"The provider reports the status “{info.status_raw}”.",
                                 staff_only=True))
        return
    if info.start_count is not None:
        order.start_count = info.start_count
    if info.remains is not None:
        order.remains = min(info.remains, order.units)
    if info.charge is not None:
        order.cost = to_money(info.charge * provider.exchange_rate)
    order.status = status
    if (order.status, order.start_count, order.remains) == before:
        return
    order.progressed = True
    if status != before[0]:
        events.append(_event(order.pk, "status", _status_message(order, before[0])))
    if status in (Order.Status.CANCELED, Order.Status.PARTIAL):
        plan_refund(order, events, refunds, _event)


def _status_message(order: PolledOrder, previous: str) -> str:
    if order.status == Order.Status.PARTIAL and order.remains is not None:
        return f"{previous} → Partial: {order.remains} of {order.units} not delivered."
    return f"{previous} → {order.status}."
