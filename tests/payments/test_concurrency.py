"""Notifications arriving at the same moment, on PostgreSQL's real row locks (SQLite serialises writers)."""

import json
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from accounts.models import LedgerEntry, User
from payments import services
from payments.gateways.base import Notice, Outcome
from payments.models import GatewayEvent, Payment, PaymentMethod
from sandbox.gateway import sign

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (set DATABASE_URL)"),
]


def at_once(count, work):
    barrier = threading.Barrier(count)
    results = []

    def worker(n):
        try:
            barrier.wait()
            results.append(work(n))
        except Exception as exc:  # collected, asserted on below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def payment():
    customer = User.objects.create_user("racer", password="x")
    method = PaymentMethod.objects.create(name="Test card", gateway="sandbox")
    return Payment.objects.create(user=customer, method=method, gateway="sandbox", amount=Decimal("50"),
                                  total=Decimal("50"), bonus=Decimal("5"), currency="USD", gateway_ref="cs_race",
                                  redirect_url="https://gateway.example/cs_race")


def test_the_same_webhook_eight_times_at_once_credits_once(payment):
    body = json.dumps({"id": "evt_race", "type": "checkout.paid", "data": {
        "id": "cs_race", "status": "paid", "amount": "50.00", "currency": "USD",
        "reference": str(payment.reference)}}).encode()
    url = reverse("payments:webhook", args=["sandbox"])

    answers = at_once(8, lambda n: Client().post(url, body, content_type="application/json",
                                                  HTTP_SANDBOX_SIGNATURE=sign(body)).status_code)

    assert answers == [200] * 8
    payment.user.refresh_from_db()
    assert payment.user.balance == Decimal("55")
    assert LedgerEntry.objects.filter(payment=payment).count() == 2
    assert GatewayEvent.objects.count() == 1
    call_command("check_ledger")


def test_different_notices_saying_paid_at_once_credit_once(payment):
    def paid(n):
        return services.notice_apply(gateway="sandbox", notice=Notice(
            event_id=f"evt_{n}", outcome=Outcome.PAID, reference=str(payment.reference), amount=Decimal("50"),
            currency="USD"))

    outcomes = at_once(8, paid)

    assert sum(str(outcome).startswith("credited") for outcome in outcomes) == 1, outcomes
    payment.refresh_from_db()
    assert payment.status == "paid" and LedgerEntry.objects.filter(payment=payment, kind="deposit").count() == 1
    assert GatewayEvent.objects.count() == 8
    call_command("check_ledger")


def test_refunds_and_a_dispute_at_once_take_back_no_more_than_was_credited(payment):
    services.notice_apply(gateway="sandbox", notice=Notice(event_id="evt_paid", outcome=Outcome.PAID,
                                                           reference=str(payment.reference), amount=Decimal("50"),
                                                           currency="USD"))

    def take_back(n):
        outcome = Outcome.DISPUTED if n % 2 else Outcome.REFUNDED
        return services.notice_apply(gateway="sandbox", notice=Notice(
            event_id=f"evt_back_{n}", outcome=outcome, reference=str(payment.reference), amount=Decimal("50"),
            currency="USD", refunded=Decimal("50")))

    at_once(6, take_back)

    payment.refresh_from_db()
    payment.user.refresh_from_db()
    assert payment.taken_back == Decimal("55") and payment.user.balance == Decimal("0")
    call_command("check_ledger")
