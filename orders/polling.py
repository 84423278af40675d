"""Polling: order statuses, refills and cancels, per provider, in batches of 100, with refunds exactly once.

A cycle plans batches of order IDs per provider (least recently polled first, capped); each batch is one
claim, one `status` call and, if anything changed, one transaction. Beat fans the batches out as tasks so any
number of workers share them; `poll_orders` runs the same cycle in one process, with each call on the wire
while the previous batch's answers are written. How a status batch is claimed and written is explained
under "Order statuses" below; refill and cancel requests, which must not be sent twice, are sent under the
leases of orders.claims. The refund's unique constraint is the last guard.
"""

import functools
import logging
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import ClassVar

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

import smmapi
from accounts.money import ZERO, db_money, money_str, to_money
from accounts.services import wallet_refund_orders
from catalog import health
from catalog.models import Provider
from panel.bulk import bulk_insert_rows, bulk_update_rows, pg_array
from panel.services import notice_once

from . import claims
from .models import Order, OrderEvent, Refill

log = logging.getLogger(__name__)

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
REFILL_STATUS_MAP = {
    smmapi.RefillStatus.PENDING: Refill.Status.PENDING,
    smmapi.RefillStatus.IN_PROGRESS: Refill.Status.IN_PROGRESS,
    smmapi.RefillStatus.COMPLETED: Refill.Status.COMPLETED,
    smmapi.RefillStatus.REJECTED: Refill.Status.REJECTED,
}


@dataclass
class Report:
    """What a cycle or a batch did; printed by poll_orders, returned by tasks."""

    calls: int = 0
    polled: int = 0
    changed: int = 0
    refunded: int = 0
    item_errors: int = 0
    failed_calls: int = 0
    refills_sent: int = 0
    refills_polled: int = 0
    cancels_sent: int = 0
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_written(self, changed: int, refunded: int) -> None:
        """Count a batch's write; on PostgreSQL, writes run on two threads at once (see _Writes)."""
        with self._lock:
            self.changed += changed
            self.refunded += refunded

    def add(self, other: "Report") -> None:
        for name in ("calls", "polled", "changed", "refunded", "item_errors", "failed_calls", "refills_sent",
                     "refills_polled", "cancels_sent"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def __str__(self):
        text = (f"{self.calls} provider calls, {self.polled} orders polled, {self.changed} changed, "
                f"{self.refunded} refunded, {self.item_errors} per-item errors, {self.failed_calls} failed calls, "
                f"{self.refills_sent} refills sent, {self.refills_polled} refills polled, "
                f"{self.cancels_sent} cancels sent")
        return text + "".join(f"\n  {e}" for e in self.errors)


def _lease_seconds() -> float:
    return settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT + 30


# --- Planning -------------------------------------------------------------------------------------------

def providers_due() -> list[Provider]:
    now = timezone.now()
    return list(Provider.objects.filter(is_active=True).filter(
        Q(poll_backoff_until__isnull=True) | Q(poll_backoff_until__lte=now)))


def pollable_orders(provider_id: int):
    return Order.objects.filter(provider_id=provider_id, state=Order.State.PLACED).exclude(
        status__in=Order.FINAL_STATUSES)


def _not_asked_lately(now: datetime) -> Q:
    return Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=now - timedelta(seconds=settings.POLL_REPOLL_SECONDS))


def plan_order_batches(provider: Provider) -> list[list[int]]:
    """The provider's non-final placed orders, least recently polled first, capped, in batches."""
    size, cap = settings.POLL_BATCH_SIZE, settings.POLL_MAX_ORDERS_PER_CYCLE
    ids = list(
        pollable_orders(provider.pk)
        .filter(_not_asked_lately(timezone.now()))
        .order_by(F("last_polled_at").asc(nulls_first=True), "id")
        .values_list("id", flat=True)[:cap]
    )
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def run_cycle() -> Report:
    """One full cycle in this process: cancels and refills to send and poll, then order statuses.

    A provider's status calls are pipelined: while one batch's answers are written to the database, the
    next batch's call is already on the wire (one call in flight at a time, as without the pipeline). On
    PostgreSQL the writes have threads of their own as well (see _Writes). A failed call stops the
    provider's cycle: it is backed off, and the next cycle tries again.
    """
    report = Report()
    for provider in providers_due():
        report.add(poll_provider_extras(provider.pk))
        provider.refresh_from_db(fields=["poll_failures", "poll_backoff_until"])
        if _backed_off(provider):
            continue
        client = provider.client()  # pooled connections shared by all of this provider's batches
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"poll-{provider.pk}") as wire, \
                _Writes(provider, report) as writes:
            in_flight = None
            for batch in plan_order_batches(provider):
                claimed = _guarded(provider, report, _claim_batch, batch)
                if claimed:
                    claimed.answers = wire.submit(claimed.fetch, client)
                if in_flight:
                    _guarded(provider, report, _finish_batch, provider, in_flight, report, writes)
                in_flight = claimed
                if _backed_off(provider):
                    break
            if in_flight:
                _guarded(provider, report, _finish_batch, provider, in_flight, report, writes)
    return report


class _Writes:
    """Where a cycle writes its batches' answers.

    On PostgreSQL, outside a transaction, they go to two threads of their own, each with its own
    connection: the database server writes batches while this thread claims the next and works out what
    its answers change, rather than each waiting for the other. A batch is written in one transaction
    either way; batches share no order, and refunds lock balances in user order, so two writes at once
    cannot deadlock (as two workers' batches cannot). At most MAX_PENDING batches wait to be written.
    Elsewhere they are written at once: SQLite has a single writer, which the claims need too, and inside
    a transaction (the tests') another connection would not see its rows.
    """

    THREADS = 2
    MAX_PENDING = 3

    def __init__(self, provider: Provider, report: Report):
        connection = connections[router.db_for_write(Order)]
        self.provider, self.report = provider, report
        self.threads: list[threading.Thread] = []
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.queue: queue.Queue = queue.Queue(maxsize=self.MAX_PENDING)
            self.threads = [threading.Thread(target=self._work, name=f"poll-write-{provider.pk}-{i}")
                            for i in range(self.THREADS)]
            for thread in self.threads:
                thread.start()

    def _work(self) -> None:
        try:
            while (job := self.queue.get()) is not None:
                _guarded(self.provider, self.report, *job)
        finally:
            connections.close_all()  # this thread's own connection, not the caller's

    def submit(self, write, *args) -> None:
        if self.threads:
            self.queue.put((write, *args))  # waits while MAX_PENDING batches wait: the writes set the pace
        else:
            write(*args)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for _ in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join()


def _guarded(provider: Provider, report: Report, step, *args):
    try:
        return step(*args)
    except Exception as exc:  # one batch's trouble must not stop the cycle; its orders are asked again later
        log.exception("polling a batch of %s failed", provider.name)
        report.errors.append(f"{provider.name}: batch failed: {exc.__class__.__name__}")
        return None


def _backed_off(provider: Provider) -> bool:
    return provider.poll_backoff_until is not None and provider.poll_backoff_until > timezone.now()


# --- Order statuses -------------------------------------------------------------------------------------
#
# Claim: one UPDATE stamps `last_polled_at` on the batch's orders that nobody asked about in the last
# POLL_REPOLL_SECONDS (keeping the stamp it replaced, for a failed call to put back), and answers what
# polling needs of them. Two overlapping cycles therefore split the orders. The answers are then written
# only for the orders they change, by one UPDATE that also requires each row to still hold what was read at
# the claim (status, remains, errors, flag, refunded, ...): a row that changed meanwhile (another poller got
# there first, staff cleared its flag) is left alone until the next cycle, and its events and refund are not
# written either. An order that did not change costs one write per cycle, the claim's; nothing is released.

@dataclass
class _ClaimedBatch:
    orders: list["_PolledOrder"]
    asked_at: datetime
    answers: Future | None = None

    def fetch(self, client: smmapi.Client) -> dict:
        """The `status` call; runs on the pipeline's thread, so it must not touch the database."""
        return client.statuses([order.external_id for order in self.orders])


def _claim_batch(order_ids: list[int]) -> _ClaimedBatch | None:
    now = timezone.now()
    connection = connections[router.db_for_write(Order)]
    sql, ids = _claim_sql(connection.alias, connection.vendor, len(order_ids))
    stamp = Order._meta.get_field("last_polled_at").get_db_prep_save
    params = [stamp(now, connection), *ids(order_ids), Order.State.PLACED, *Order.FINAL_STATUSES,
              stamp(now - timedelta(seconds=settings.POLL_REPOLL_SECONDS), connection)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    orders = sorted(map(_PolledOrder.from_row, rows), key=attrgetter("id"))
    return _ClaimedBatch(orders, asked_at=now) if orders else None


@functools.cache
def _claim_sql(alias: str, vendor: str, count: int):
    """The claim's statement, written once: a hundred of them a cycle need not go through the ORM.

    By primary key only, so the database looks the hundred rows up by their IDs (the planned batch is
    already this provider's) rather than walking the provider's whole index.
    """
    connection = connections[alias]
    qn = connection.ops.quote_name
    meta = Order._meta
    column = {name: qn(meta.get_field(name).column) for name in ("last_polled_at", "state", "status")}
    if vendor == "postgresql":  # one array parameter: see panel.lookups
        ids_sql, ids = f"= ANY(%s::{meta.pk.cast_db_type(connection)}[])", (lambda order_ids: [pg_array(order_ids)])
    else:
        ids_sql, ids = f"IN ({', '.join(['%s'] * count)})", list
    finals = ", ".join(["%s"] * len(Order.FINAL_STATUSES))
    returning = ", ".join(qn(meta.get_field(name).column) for name in _PolledOrder.READ)
    last = column["last_polled_at"]
    sql = (f"UPDATE {qn(meta.db_table)} SET {qn(meta.get_field('previous_polled_at').column)} = {last}, {last} = %s "
           f"WHERE {qn(meta.pk.column)} {ids_sql} AND {column['state']} = %s AND {column['status']} NOT IN ({finals}) "
           f"AND ({last} IS NULL OR {last} < %s) RETURNING {returning}")
    return sql, ids


def _unclaim(claimed: _ClaimedBatch) -> None:
    """The call failed: the orders were not asked after all, so they get back the stamp the claim replaced."""
    Order.objects.filter(pk__any=[order.pk for order in claimed.orders], last_polled_at=claimed.asked_at).update(
        last_polled_at=F("previous_polled_at"))


def _finish_batch(provider: Provider, claimed: _ClaimedBatch, report: Report, writes: "_Writes | None" = None) -> None:
    """Apply the answers of a claimed batch's call (written by `writes`, else at once); or, if the call
    failed, back the provider off."""
    report.calls += 1
    try:
        answers = claimed.answers.result()
    except smmapi.SmmApiError as exc:
        _unclaim(claimed)
        if not _backed_off(provider):  # else an earlier call failed while this one was on the wire
            _provider_failed(provider, exc, report)
        return
    _provider_answered(provider)
    changes = _apply_statuses(provider, claimed.orders, answers, report)
    if changes and writes:
        writes.submit(_write_changes, *changes, report)
    elif changes:
        _write_changes(*changes, report)


def poll_order_batch(provider_id: int, order_ids: list[int]) -> Report:
    """One `status` call for up to 100 orders of one provider, and one transaction to apply the answers.

    The unit of work of a fanned-out cycle: a provider backed off since the cycle was planned is not called.
    """
    report = Report()
    provider = Provider.objects.get(pk=provider_id)
    if _backed_off(provider):
        return report
    claimed = _claim_batch(order_ids)
    if claimed:
        claimed.answers = Future()
        try:
            claimed.answers.set_result(claimed.fetch(provider.client()))
        except smmapi.SmmApiError as exc:
            claimed.answers.set_exception(exc)
        _finish_batch(provider, claimed, report)
    return report


def _provider_failed(provider: Provider, exc: Exception, report: Report) -> None:
    """A failed call touches no order; it is recorded on the provider, which is backed off."""
    report.failed_calls += 1
    report.errors.append(f"{provider.name}: {exc}")
    health.record_failure(provider, exc)
    failures = provider.poll_failures + 1
    delay = min(settings.POLL_BACKOFF_SECONDS * 2 ** (failures - 1), settings.POLL_BACKOFF_MAX_SECONDS)
    until = timezone.now() + timedelta(seconds=delay)
    Provider.objects.filter(pk=provider.pk).update(poll_failures=F("poll_failures") + 1, poll_backoff_until=until)
    provider.poll_failures, provider.poll_backoff_until = failures, until


HEALTH_WRITE_EVERY = timedelta(seconds=30)


def _provider_answered(provider: Provider) -> None:
    if provider.poll_failures or provider.poll_backoff_until:
        Provider.objects.filter(pk=provider.pk).update(poll_failures=0, poll_backoff_until=None)
        provider.poll_failures, provider.poll_backoff_until = 0, None
    # A hundred batches a minute need not write "still fine" a hundred times.
    last = provider.last_success_at
    if last is None or timezone.now() - last > HEALTH_WRITE_EVERY or (provider.last_error_at or last) > last:
        health.record_success(provider)


@dataclass(slots=True)
class _PolledOrder:
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
    expected: tuple = ()  # what the row held at the claim (_POLL_STATE), required when its changes are written
    progressed: bool = False  # status, start count or remains moved

    READ: ClassVar[tuple[str, ...]] = ("id", "user_id", "external_id", "units", "charge", "status", "start_count",
                                       "remains", "cost", "refunded", "poll_errors", "needs_attention")
    MONEY: ClassVar[tuple[int, ...]] = (4, 8, 9)  # positions of charge, cost and refunded in READ

    @property
    def pk(self) -> int:
        return self.id

    @classmethod
    def from_row(cls, row) -> "_PolledOrder":
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


def _apply_statuses(provider: Provider, orders: list[_PolledOrder], answers: dict, report: Report) -> tuple | None:
    """Work out what the answers change; returns what _write_changes is to write, if anything."""
    now = timezone.now()
    events, refunds, notices, changed = [], [], [], []
    for order in orders:
        order.expected = _POLL_STATE(order)
        answer = answers.get(order.external_id, _MISSING)
        if isinstance(answer, smmapi.ItemError):
            _item_error(order, answer.message, events, notices, report)
        else:
            order.poll_errors = 0
            _apply_one(provider, order, answer, events, refunds)
        if _POLL_STATE(order) != order.expected:
            order.updated_at = now
            changed.append(order)
    report.polled += len(orders)
    return (changed, events, refunds, notices, now) if changed else None


def _write_changes(changed: list[_PolledOrder], events: list, refunds: list, notices: list, now: datetime,
                   report: Report) -> None:
    # Counted once committed: a batch whose write failed changed nothing.
    report.count_written(*_write_in_transaction(changed, events, refunds, notices, now))


@transaction.atomic
def _write_in_transaction(changed: list[_PolledOrder], events: list, refunds: list, notices: list,
                          now: datetime) -> tuple[int, int]:
    written = bulk_update_rows(changed, [*POLL_STATE_FIELDS, "updated_at"], model=Order, expect=POLL_STATE_FIELDS)
    bulk_insert_rows(OrderEvent, ["order_id", "kind", "message", "staff_only", "created_at"],
                     [(*event, now) for event in events if event[0] in written])
    for order_id, subject, body in notices:
        if order_id in written:
            notice_once(subject, body)
    due = [(order.pk, order.user_id, amount, note) for order, amount, note in refunds if order.pk in written]
    wallet_refund_orders(due)
    return sum(order.progressed for order in changed if order.pk in written), len(due)


_MISSING = smmapi.ItemError(smmapi.MISSING_FROM_ANSWER)


def _event(order_id: int, kind: str, message: str, *, staff_only: bool = False) -> tuple:
    """A timeline line, as the row bulk_insert_rows writes (the time is added there)."""
    return (order_id, kind, message, staff_only)


def _item_error(order: _PolledOrder, message: str, events: list, notices: list, report: Report) -> None:
    """A per-item error touches only its order; repeated, it puts the order in front of staff."""
    report.item_errors += 1
    order.poll_errors += 1
    if order.poll_errors >= settings.POLL_ERROR_LIMIT and not order.needs_attention:
        order.needs_attention = True
        events.append(_event(order.pk, "poll_error", f"The provider answered “{message}” {order.poll_errors} "
                                                     "times in a row.", staff_only=True))
        notices.append((order.pk, f"Order #{order.pk}: the provider keeps answering “{message}”"[:255],
                        "It stays as it is until someone checks it with the provider."))


def _apply_one(provider: Provider, order: _PolledOrder, info: smmapi.OrderStatusInfo, events: list,
               refunds: list) -> None:
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
        _plan_refund(order, events, refunds)


def _status_message(order: Order, previous: str) -> str:
    if order.status == Order.Status.PARTIAL and order.remains is not None:
        return f"{previous} → Partial: {order.remains} of {order.units} not delivered."
    return f"{previous} → {order.status}."


def _plan_refund(order: _PolledOrder, events: list, refunds: list) -> None:
    amount = refund_due(order)
    if amount is None:
        order.needs_attention = True
        events.append(_event(order.pk, "refund", "Partial without a usable remains: refund left to staff.",
                             staff_only=True))
        return
    if amount <= ZERO:
        return
    order.refunded = order.refunded + amount
    refunds.append((order, amount, f"Order #{order.pk} {order.status.lower()}"))
    events.append(_event(order.pk, "refund", f"Refunded {money_str(amount)} to the balance."))


def refund_due(order: Order):
    """Canceled: the whole charge; Partial: charge × remains / units ordered in all. None when unknowable."""
    if order.status == Order.Status.CANCELED:
        return order.charge - order.refunded
    if order.remains is None or order.units <= 0:
        return None
    remains = max(0, min(order.remains, order.units))
    return to_money(order.charge * remains / order.units) - order.refunded


# --- Refills and cancels ----------------------------------------------------------------------------------

def poll_provider_extras(provider_id: int) -> Report:
    """Send queued refills and cancel requests, and poll open refills, for one provider, in batches."""
    report = Report()
    provider = Provider.objects.get(pk=provider_id)
    for step in (_send_cancels, _send_refills, _poll_refills):
        try:
            step(provider, report)
        except smmapi.SmmApiError as exc:
            _provider_failed(provider, exc, report)
            return report
    return report


def _batches(queryset, size=None):
    size = size or settings.POLL_BATCH_SIZE
    ids = list(queryset.order_by("id").values_list("id", flat=True)[: settings.POLL_MAX_ORDERS_PER_CYCLE])
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _in_claimed_batches(wanted, report: Report, *, call, apply, still=None, related=(), answer_lost=None) -> int:
    """Claim the `wanted` rows batch by batch, make one provider call per batch and apply its answers.

    `still` is what a row must still be to be claimed, on its own table (default: `wanted`); `wanted` may
    go through joins to pick the rows. A failed call lets its batch go and is raised: the caller backs the
    provider off. When the provider may have acted on a failed call (smmapi.Ambiguous), `answer_lost` is
    told which rows first. Returns rows done.
    """
    done = 0
    still = wanted if still is None else still
    for batch in _batches(wanted):
        token, rows = claims.claim(still.filter(pk__any=batch), seconds=_lease_seconds(), related=related)
        if not rows:
            continue
        report.calls += 1
        try:
            answers = call(rows)
        except smmapi.SmmApiError as exc:
            if answer_lost and isinstance(exc, smmapi.Ambiguous):
                answer_lost(rows)
            claims.release(wanted.model, token, [row.pk for row in rows])
            raise
        apply(rows, answers)
        claims.release(wanted.model, token, [row.pk for row in rows])
        done += len(rows)
    return done


def _send_cancels(provider: Provider, report: Report) -> None:
    wanted = pollable_orders(provider.pk).filter(cancel_state=Order.Cancel.REQUESTED)
    client = provider.client()
    report.cancels_sent += _in_claimed_batches(
        wanted, report, call=lambda orders: client.cancel([o.external_id for o in orders]), apply=_apply_cancels)


def _send_refills(provider: Provider, report: Report) -> None:
    queued = Refill.objects.filter(status=Refill.Status.QUEUED)
    client = provider.client()
    report.refills_sent += _in_claimed_batches(
        queued.filter(order__provider=provider), report, still=queued,
        call=lambda refills: client.refills([r.order.external_id for r in refills]),
        apply=_apply_refills_sent, related=("order",), answer_lost=_refills_answer_lost)


def _refills_answer_lost(refills: list[Refill]) -> None:
    """The provider may have taken these refill requests: they go again, and a refusal then may only mean
    "already requested" (see _apply_refills_sent)."""
    Refill.objects.filter(pk__any=[refill.pk for refill in refills], status=Refill.Status.QUEUED).update(
        answer_lost_at=timezone.now())


def _poll_refills(provider: Provider, report: Report) -> None:
    open_ = Refill.objects.filter(status__in=[Refill.Status.PENDING, Refill.Status.IN_PROGRESS]).exclude(external_id="")
    client = provider.client()
    report.refills_polled += _in_claimed_batches(
        open_.filter(order__provider=provider), report, still=open_, call=lambda refills: client.refill_statuses([r.external_id for r in refills]),
        apply=_apply_refill_statuses)


@transaction.atomic
def _apply_cancels(orders: list[Order], answers: dict) -> None:
    events = []
    for order in orders:
        answer = answers.get(order.external_id, smmapi.ItemError(smmapi.MISSING_FROM_ANSWER))
        if isinstance(answer, smmapi.ItemError) or not answer:
            order.cancel_state = Order.Cancel.REFUSED
            order.cancel_error = (answer.message if isinstance(answer, smmapi.ItemError) else "not accepted")[:255]
            events.append(OrderEvent(order_id=order.pk, kind="cancel", message=f"The provider refused the cancel: "
                                                                        f"{order.cancel_error}."))
        else:
            order.cancel_state = Order.Cancel.ACCEPTED
            events.append(OrderEvent(order_id=order.pk, kind="cancel",
                                     message="The provider accepted the cancel; the refund follows its status."))
    Order.objects.bulk_update(orders, ["cancel_state", "cancel_error"])
    OrderEvent.objects.bulk_create(events)


@transaction.atomic
def _apply_refills_sent(refills: list[Refill], answers: dict) -> None:
    """Store the refill IDs the provider gave, or its refusals. A refusal of a refill whose earlier request
    went unanswered may mean the provider is refilling already ("already requested"): its order is put
    before staff, who check with the provider and then clear the flag."""
    now = timezone.now()
    events, unsure = [], []
    for refill in refills:
        answer = answers.get(refill.order.external_id, smmapi.ItemError(smmapi.MISSING_FROM_ANSWER))
        if isinstance(answer, smmapi.ItemError):
            refill.status, refill.error = Refill.Status.REJECTED, answer.message[:255]
            events.append(OrderEvent(order=refill.order, kind="refill",
                                     message=f"The provider refused the refill: {refill.error}."))
            if refill.answer_lost_at:
                unsure.append(refill)
                events.append(OrderEvent(
                    order=refill.order, kind="refill", staff_only=True,
                    message=f"An earlier request for this refill went unanswered "
                            f"({timezone.localtime(refill.answer_lost_at):%Y-%m-%d %H:%M}); the provider may be "
                            "refilling already. Check with the provider, then clear the flag."))
        else:
            refill.status, refill.external_id = Refill.Status.PENDING, str(answer)
            events.append(OrderEvent(order=refill.order, kind="refill", message="Refill requested from the provider."))
        refill.sent_at, refill.updated_at = now, now
    Refill.objects.bulk_update(refills, ["status", "error", "external_id", "sent_at", "updated_at"])
    OrderEvent.objects.bulk_create(events)
    if unsure:  # one notice for the batch: a lost answer is usually a whole call's
        order_ids = [refill.order_id for refill in unsure]
        Order.objects.filter(pk__any=order_ids).update(needs_attention=True)
        listed = ", ".join(f"#{order_id}" for order_id in order_ids)
        notice_once(f"Refills may be running at the provider for {len(unsure)} order(s): {listed}"[:255],
                    "Requests for these refills went unanswered; asked again, the provider refused them "
                    f"(“{unsure[0].error}”). Customers see them as rejected. Each order is flagged: check with "
                    "the provider, then clear the flag.")


@transaction.atomic
def _apply_refill_statuses(refills: list[Refill], answers: dict) -> None:
    now = timezone.now()
    events = []
    for refill in refills:
        answer = answers.get(refill.external_id, smmapi.ItemError(smmapi.MISSING_FROM_ANSWER))
        if isinstance(answer, smmapi.ItemError):
            refill.error, refill.poll_errors = answer.message[:255], refill.poll_errors + 1
        else:
            status = REFILL_STATUS_MAP.get(answer.status)
            if status and status != refill.status:
                refill.status, refill.error = status, ""
                events.append(OrderEvent(order_id=refill.order_id, kind="refill", message=f"Refill {status}."))
        refill.last_polled_at, refill.updated_at = now, now
    Refill.objects.bulk_update(refills, ["status", "error", "poll_errors", "last_polled_at", "updated_at"])
    OrderEvent.objects.bulk_create(events)
