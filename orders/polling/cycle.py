"""A polling cycle: which providers and orders are due, and, in one process, every batch of a provider with
up to Provider.poll_concurrency calls in flight at once, their answers applied as they come.

The claims and (on SQLite) the writes run on the cycle's own thread; only the calls go to the pool's
threads, which touch no database. On PostgreSQL the writes have two threads of their own as well (_Writes).
Every guarantee of a batch holds however many are in flight: each batch's orders are claimed before its call
goes out, and written only where they still hold what the claim read (orders.polling.statuses).
"""

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import F, Q
from django.utils import timezone

from catalog import backoff
from catalog.models import Provider

from ..models import Order
from . import extras, statuses
from .report import Report
from .statuses import pollable_orders

log = logging.getLogger(__name__)


def providers_due() -> list[Provider]:
    now = timezone.now()
    return list(Provider.objects.filter(is_active=True).filter(
        Q(poll_backoff_until__isnull=True) | Q(poll_backoff_until__lte=now)))


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


AHEAD = 2


def run_cycle() -> Report:
    """One full cycle in this process: each provider's cancels and refills to send and poll, then its order
    statuses. A provider backed off (enough calls failed in a row) is skipped until its backoff ends."""
    report = Report()
    for provider in providers_due():
        with provider.client() as client:  # its connections, shared by all of this provider's calls, then closed
            report.add(extras.poll_provider_extras(provider.pk, client=client))
            provider.refresh_from_db(fields=["poll_failures", "poll_backoff_until"])
            if not backoff.backed_off(provider):
                poll_statuses(provider, client, report)
    return report


def poll_statuses(provider: Provider, client, report: Report) -> None:
    """Every due batch of the provider: claimed on this thread, its call made on one of the pool's
    poll_concurrency threads, its answers applied (and written, see _Writes) here as each call ends."""
    batches = iter(plan_order_batches(provider))
    slots = max(1, provider.poll_concurrency)
    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix=f"poll-{provider.pk}") as wire, \
            _Writes(provider, report) as writes:
        in_flight: dict[Future[statuses.Answers], statuses.ClaimedBatch] = {}

        def send_more():
            # Claimed ahead of the pool by as many again: while this thread writes one batch's answers, a
            # call that ends is followed at once by the next, rather than waiting for the write.
            while len(in_flight) < AHEAD * slots and not backoff.backed_off(provider):
                batch = next(batches, None)
                if batch is None:
                    return
                claimed = guarded(provider, report, statuses.claim_batch, batch)
                if claimed:
                    claimed.answers = wire.submit(claimed.fetch, client)
                    in_flight[claimed.answers] = claimed

        send_more()
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                guarded(provider, report, statuses.finish_batch, provider, in_flight.pop(future), report, writes)
            if backoff.backed_off(provider):
                _call_off(in_flight)
            send_more()


def _call_off(in_flight: dict) -> None:
    """The provider was just backed off: the batches claimed ahead whose call has not started are not sent;
    their orders get back the stamp their claim replaced (a call already on the wire is let finish)."""
    for future in list(in_flight):
        if future.cancel():
            statuses.unclaim(in_flight.pop(future))


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
                guarded(self.provider, self.report, *job)
        finally:
            connections.close_all()  # this thread's own connection, not the caller's

    def submit(self, write: Callable[..., None], *args: Any) -> None:
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


def guarded(provider: Provider, report: Report, step, *args):
    try:
        return step(*args)
    except Exception as exc:  # one batch's trouble must not stop the cycle; its orders are asked again later
        log.exception("polling a batch of %s failed", provider.name)
        report.errors.append(f"{provider.name}: batch failed: {exc.__class__.__name__}")
        return None
