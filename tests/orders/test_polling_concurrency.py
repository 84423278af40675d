"""Two polling cycles at once (two beat instances, an overlap) must not double a refund or an event."""

import itertools
import threading
from decimal import Decimal
from unittest import mock

import pytest
import responses
from django.core.management import call_command
from django.db import connection

from accounts.models import LedgerEntry, User
from accounts.services import wallet_deposit
from orders import polling
from orders.models import Order, OrderEvent
from orders.polling import statuses
from orders.services import order_place
from tests.factories import ServiceFactory

from .fake_provider import FakeProvider, status
from .test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (set DATABASE_URL)"),
]


@pytest.fixture
def world(no_broker):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeProvider(rsps)
        service = ServiceFactory(rate=Decimal("2"))
        customer = User.objects.create_user("poller", password="x")
        wallet_deposit(user=customer, amount=Decimal("1000"))
        orders = []
        for i in range(150):
            order = order_place(user=customer, service=service, fields={"link": "https://x.com/a", "quantity": "1000"})
            Order.objects.filter(pk=order.pk).update(state="placed", external_id=f"E{order.pk}")
            fake.statuses[f"E{order.pk}"] = status("Canceled" if i % 2 else "Partial", remains="250")
            orders.append(order)
        yield fake, customer, orders


def _assert_each_refunded_once(customer, orders):
    assert LedgerEntry.objects.filter(kind="refund").count() == len(orders)
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        assert order.events.filter(kind="status").count() == 1
        assert order.events.filter(kind="refund").count() == 1
    customer.refresh_from_db()
    expected = Decimal("1000") - 150 * Decimal("2") + 75 * Decimal("2") + 75 * Decimal("0.5")
    assert customer.balance == expected
    call_command("check_ledger")


def test_two_cycles_at_once_refund_each_order_exactly_once(world, settings):
    settings.POLL_REPOLL_SECONDS = 30
    fake, customer, orders = world
    results = run_concurrently(2, polling.run_cycle)
    assert all(isinstance(r, polling.Report) and not r.errors for r in results), results
    _assert_each_refunded_once(customer, orders)
    assert sum(r.polled for r in results) == len(orders)  # the claim split the work: no order polled twice


def test_when_both_claim_every_order_the_guarded_write_and_the_refund_constraint_still_refund_once(world, settings):
    # A negative gap: a claim wins orders whatever the other poller stamped on them, even a moment later.
    settings.POLL_REPOLL_SECONDS = -60
    settings.POLL_BATCH_SIZE = 200  # one batch each (the fake takes more than 100 IDs), so the calls pair up
    fake, customer, orders = world
    both_asked = threading.Barrier(2, timeout=20)
    fetch = statuses.ClaimedBatch.fetch

    def fetch_once_both_have_claimed(batch, client):
        both_asked.wait()
        return fetch(batch, client)

    with mock.patch.object(statuses.ClaimedBatch, "fetch", fetch_once_both_have_claimed):
        results = run_concurrently(2, polling.run_cycle)
    assert all(isinstance(r, polling.Report) and not r.errors for r in results), results
    assert sum(r.polled for r in results) == 2 * len(orders)  # both really worked on every order
    _assert_each_refunded_once(customer, orders)
    assert OrderEvent.objects.filter(kind="status").count() == len(orders)


def _connections_to_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_on_postgresql_a_cycle_writes_from_threads_of_its_own_and_closes_their_connections(world, settings):
    settings.POLL_BATCH_SIZE = 50
    fake, customer, orders = world
    writers = []
    write = statuses.write_changes

    def recording_write(*args):
        writers.append(threading.current_thread())
        return write(*args)

    before = _connections_to_this_database()
    with mock.patch.object(statuses, "write_changes", recording_write):
        report = polling.run_cycle()
    assert not report.errors and (report.polled, report.changed, report.refunded) == (150, 150, 150)
    assert len(writers) == 3 and threading.current_thread() not in writers
    _assert_each_refunded_once(customer, orders)
    assert _connections_to_this_database() == before  # the writing threads' connections were closed


def test_a_batch_whose_write_fails_on_a_writing_thread_is_reported_and_asked_again(world, settings):
    settings.POLL_BATCH_SIZE = 50
    fake, customer, orders = world
    calls = itertools.count(1)  # two threads write at once: one counter step each, under the interpreter lock
    insert = statuses.bulk_insert_rows

    def second_insert_fails(*args):
        if next(calls) == 2:
            raise RuntimeError("the disk is full")
        return insert(*args)

    with mock.patch.object(statuses, "bulk_insert_rows", second_insert_fails):
        report = polling.run_cycle()
    assert len(report.errors) == 1 and report.errors[0].endswith("batch failed: RuntimeError"), report.errors
    assert (report.changed, report.refunded) == (100, 100)
    # The failed batch wrote nothing: its orders are still Pending, unrefunded.
    assert Order.objects.filter(status="Pending").count() == 50
    assert LedgerEntry.objects.filter(kind="refund").count() == 100
    second = polling.run_cycle()  # the failed batch's orders were stamped, not written: asked again
    assert not second.errors and second.changed == 50
    _assert_each_refunded_once(customer, orders)
