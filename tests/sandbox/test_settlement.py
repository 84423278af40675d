"""The sandbox refunds its own balance when an order settles Partial or Canceled, and exactly once."""

import threading
from decimal import Decimal

import pytest
import requests

from sandbox.models import OrderStatus, SandboxAccount, SandboxOrder
from sandbox.progress import Progress
from sandbox.services import _settle

LINK = "https://instagram.com/p/abc"


def balance_of(account) -> Decimal:
    return SandboxAccount.objects.get(pk=account.pk).balance


@pytest.mark.django_db
def test_partial_order_refunds_undelivered_share_once(call, account, instant):
    order = call("add", service=1, link=LINK + "/partial", quantity=900)["order"]
    assert balance_of(account) == Decimal("99.19000")
    call("status", order=order)
    call("status", orders=str(order))
    assert balance_of(account) == Decimal("99.46000")  # 0.81 x 300 / 900 = 0.27 back
    assert SandboxOrder.objects.get(pk=order).refunded == Decimal("0.27000")


@pytest.mark.django_db
def test_canceled_order_refunds_in_full_once(call, account, instant):
    order = call("add", service=1, link=LINK + "/cancel", quantity=900)["order"]
    for _ in range(3):
        call("status", order=order)
    assert balance_of(account) == Decimal("100")
    assert SandboxOrder.objects.get(pk=order).refunded == Decimal("0.81000")


@pytest.mark.django_db
def test_completed_order_refunds_nothing(call, account, instant):
    order = call("add", service=1, link=LINK, quantity=900)["order"]
    call("status", order=order)
    assert balance_of(account) == Decimal("99.19000")


@pytest.mark.django_db
def test_nothing_is_refunded_before_the_order_is_final(call, account, clock):
    order = call("add", service=1, link=LINK + "/cancel", quantity=900)["order"]
    clock.advance(50)
    call("status", order=order)
    assert balance_of(account) == Decimal("99.19000")
    clock.advance(50)
    call("status", order=order)
    assert balance_of(account) == Decimal("100")


@pytest.mark.django_db
def test_settling_the_same_order_from_two_stale_copies_refunds_once(call, account, instant):
    order_id = call("add", service=1, link=LINK + "/cancel", quantity=900)["order"]
    first, second = SandboxOrder.objects.get(pk=order_id), SandboxOrder.objects.get(pk=order_id)
    outcome = Progress(OrderStatus.CANCELED, 900)
    _settle(first, outcome, first.created_at)
    _settle(second, outcome, second.created_at)
    assert balance_of(account) == Decimal("100")
    assert second.final_status == OrderStatus.CANCELED


@pytest.mark.django_db
def test_a_refund_is_rounded_to_five_places(call, account, instant):
    order = call("add", service=16, link=LINK + "/partial", quantity=101)["order"]  # 0.00101 charged
    call("status", order=order)
    # 0.00101 x 33 / 101 = 0.00033
    assert SandboxOrder.objects.get(pk=order).refunded == Decimal("0.00033")


@pytest.mark.django_db(transaction=True)
def test_concurrent_status_reads_over_http_refund_once(live_server, settings):
    from sandbox.catalog import ensure_catalog
    from sandbox.services import create_account

    settings.SANDBOX_ORDER_SECONDS = 0
    ensure_catalog()
    account = create_account(name="racer", balance="100")
    url = live_server.url + "/sandbox/api/v2"
    base = {"key": account.api_key}
    orders = [
        requests.post(
            url, data={**base, "action": "add", "service": 1, "link": link, "quantity": 900}
        ).json()["order"]
        for link in (LINK + "/partial", LINK + "/cancel")
    ]
    answers = []
    barrier = threading.Barrier(12)

    def read():
        barrier.wait()
        answer = requests.post(
            url, data={**base, "action": "status", "orders": ",".join(map(str, orders))}, timeout=10
        )
        answers.append(answer.json())

    threads = [threading.Thread(target=read) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 12
    assert all(answer[str(orders[0])]["status"] == "Partial" for answer in answers)
    assert balance_of(account) == Decimal("100") - Decimal("0.81") + Decimal("0.27")
