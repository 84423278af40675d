"""Panel behind panel: panel B resells panel A through A's own /api/v2, and A resells the sandbox.

Both panels live in one Django process and one database here, told apart by their providers: "Sandbox"
(A's upstream, the simulated provider) and "PanelA" (B's upstream: A's /api/v2 with a reseller's key).
An end customer's order on B travels B → A → sandbox, settles Partial, and both panels refund their share.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.services import api_key_rotate, wallet_deposit
from catalog.models import Service
from catalog.services import provider_create
from catalog.sync import sync_catalog
from orders.models import Order
from orders.polling import run_cycle
from orders.services import order_place, order_send
from sandbox.catalog import ensure_catalog
from sandbox.services import create_account

# Like tests/sandbox's live_server tests: the server thread must see what the test wrote.
pytestmark = pytest.mark.django_db(transaction=True)

PARTIAL_LINK = "https://instagram.com/p/partial-delivery"


def customer(name: str, funds: str) -> User:
    user = User.objects.create_user(name, f"{name}@example.com", "pass-123-word")
    wallet_deposit(user=user, amount=Decimal(funds))
    return user


def test_an_order_on_panel_b_travels_through_panel_a_to_the_sandbox_and_both_refund_a_partial(
        live_server, settings, no_broker):
    settings.SANDBOX_ORDER_SECONDS = 0
    ensure_catalog()
    sandbox_account = create_account(name="panel-a", balance="1000")
    sandbox = provider_create(name="Sandbox", api_url=live_server.url + "/sandbox/api/v2",
                              api_key=sandbox_account.api_key)
    assert sync_catalog(sandbox).ok
    a_services = {s.provider_service.external_id: s for s in Service.objects.select_related("provider_service")}

    reseller = customer("reseller", "100")
    panel_a = provider_create(name="PanelA", api_url=live_server.url + "/api/v2", api_key=api_key_rotate(user=reseller))
    run = sync_catalog(panel_a)
    assert run.ok and run.new == len(a_services)
    b_services = {s.provider_service.external_id: s for s in Service.objects.filter(
        provider_service__provider=panel_a).select_related("provider_service")}
    # B mirrors A: one service per A service, under A's service ID, at A's price plus B's markup.
    assert set(b_services) == {str(s.pk) for s in a_services.values()}
    a_followers = a_services["1"]
    b_followers = b_services[str(a_followers.pk)]
    assert (b_followers.type, b_followers.min_quantity, b_followers.max_quantity) == (
        a_followers.type, a_followers.min_quantity, a_followers.max_quantity)
    assert b_followers.rate == (a_followers.rate * Decimal("1.5")).quantize(Decimal("0.00001"))

    end_customer = customer("endcustomer", "100")
    b_order = order_place(user=end_customer, service=b_followers, fields={"link": PARTIAL_LINK, "quantity": "900"})
    assert order_send(b_order.pk) == Order.State.PLACED  # reaches A's /api/v2 `add`
    a_order = Order.objects.get(user=reseller)
    assert (a_order.service, a_order.link, a_order.units) == (a_followers, PARTIAL_LINK, 900)
    b_order.refresh_from_db()
    assert b_order.external_id == str(a_order.pk)
    assert order_send(a_order.pk) == Order.State.PLACED  # A sends it on to the sandbox

    for _ in range(5):
        run_cycle()
        if Order.objects.filter(status=Order.Status.PARTIAL).count() == 2:
            break
    a_order.refresh_from_db()
    b_order.refresh_from_db()
    # The sandbox delivers two thirds: 300 of 900 remain, a third of each charge comes back.
    assert (a_order.status, a_order.remains) == (Order.Status.PARTIAL, 300)
    assert a_order.refunded == (a_order.charge / 3).quantize(Decimal("0.00001")) > 0
    assert (b_order.status, b_order.remains) == (Order.Status.PARTIAL, 300)
    assert b_order.refunded == (b_order.charge / 3).quantize(Decimal("0.00001")) > 0
    assert b_order.cost == a_order.charge - a_order.refunded  # what B paid A, from A's status answer
    reseller.refresh_from_db()
    end_customer.refresh_from_db()
    assert reseller.balance == Decimal("100") - a_order.charge + a_order.refunded
    assert end_customer.balance == Decimal("100") - b_order.charge + b_order.refunded
    call_command("check_ledger")
