"""Concurrent spending of one balance. Real row locks need PostgreSQL; SQLite serialises writers anyway."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from accounts.models import LedgerEntry, User
from accounts.services import wallet_deposit
from orders.models import Order
from orders.services import OrderRefused, order_place
from tests.factories import ServiceFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (set DATABASE_URL)"),
]


def run_concurrently(count, work):
    barrier = threading.Barrier(count)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # collected, asserted on below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_concurrent_orders_against_a_balance_covering_seven_place_exactly_seven(no_broker):
    service = ServiceFactory(rate=Decimal("10"))  # 1000 units cost 10.00
    customer = User.objects.create_user("racer", password="x")
    wallet_deposit(user=customer, amount=Decimal("75"))

    results = run_concurrently(20, lambda: order_place(
        user=customer, service=service, fields={"link": "https://x.com/race", "quantity": "1000"}))

    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, OrderRefused)]
    assert (len(placed), len(refused)) == (7, 13), results
    customer.refresh_from_db()
    assert customer.balance == Decimal("5.00000")
    assert LedgerEntry.objects.filter(kind="charge").count() == 7
    assert Order.objects.count() == 7
