"""A balance being changed must not hold up rows that merely point at its user (PostgreSQL's row locks).

Django checks foreign keys at COMMIT, taking FOR KEY SHARE on the row pointed at. A balance locked FOR UPDATE
blocks that, and polling batches refunding customers in user order deadlocked through it (bench/load.py:
one batch's COMMIT checking a ledger row's user that another held while waiting for one the first held)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from accounts.models import User
from accounts.services import wallet_refund_orders
from support.notify import notify_customer
from tests.factories import OrderFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (set DATABASE_URL)"),
]


def hold_balance_lock(user_id: int, locked: threading.Event, release: threading.Event):
    """Another worker's refund batch: the user's balance locked, the transaction left open until `release`."""
    try:
        order = OrderFactory(user=User.objects.get(pk=user_id), charge=Decimal("5"))
        with transaction.atomic():
            wallet_refund_orders([(order.pk, user_id, Decimal("1"), "refund of a Partial")])
            locked.set()
            release.wait(10)
    finally:
        connections.close_all()


def test_a_row_pointing_at_a_user_commits_while_another_transaction_changes_that_users_balance(alice):
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_balance_lock, args=(alice.pk, locked, release))
    holder.start()
    try:
        assert locked.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            # A notification row for alice: its foreign key is checked at this COMMIT.
            notify_customer(user=alice, kind="order_finished", key="order:1:finished", subject="Order #1 completed")
    finally:
        release.set()
        holder.join(15)
