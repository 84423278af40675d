"""Orders sent to the sandbox provider over real HTTP, with its faults, then polled to the end."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.services import wallet_deposit
from catalog.models import Provider, Service
from catalog.sync import sync_catalog
from orders import polling
from orders.models import Order
from orders.services import order_place, order_send
from sandbox import faults
from sandbox.catalog import ensure_catalog
from sandbox.models import SandboxOrder
from sandbox.services import create_account
from tests.waiting import live_server_idle, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(live_server, alice, settings, no_broker):
    settings.SANDBOX_ORDER_SECONDS = 0  # sandbox orders settle at once
    settings.PROVIDER_READ_TIMEOUT = 0.5
    ensure_catalog()
    account = create_account(name="panel", balance="100")
    provider = Provider.objects.create(name="Sandbox", api_url=live_server.url + "/sandbox/api/v2",
                                       api_key=account.api_key)
    assert sync_catalog(provider).ok
    wallet_deposit(user=alice, amount=Decimal("50"))
    service = Service.objects.filter(type="Default", dripfeed=False).order_by("id").first()
    return alice, service


def place(user, service, link):
    return order_place(user=user, service=service, fields={"link": link, "quantity": str(service.min_quantity)})


def test_an_order_goes_to_the_sandbox_and_a_partial_comes_back_refunded(world):
    user, service = world
    order = place(user, service, "https://instagram.com/p/partial")
    assert order_send(order.pk) == "placed"
    polling.run_cycle()
    order.refresh_from_db()
    assert order.status == "Partial" and order.refunded > 0 and order.cost is not None
    call_command("check_ledger")


@pytest.mark.parametrize("kind", ["broken_json", "drop", "html_500"])
def test_an_ambiguous_answer_parks_the_order_and_it_is_never_resent(world, kind):
    user, service = world
    order = place(user, service, "https://instagram.com/p/ambiguous")
    faults.inject(kind, action="add")
    assert order_send(order.pk) == "failed"
    call_command("place_orders")
    expected = 0 if kind == "html_500" else 1  # broken JSON and drops happen after the sandbox took it
    assert SandboxOrder.objects.count() == expected
    assert Order.objects.get(pk=order.pk).refunded == 0


def test_a_slow_answer_past_the_read_timeout_is_ambiguous(world):
    user, service = world
    order = place(user, service, "https://instagram.com/p/slow")
    faults.inject("slow", action="add", seconds=1.0)
    assert order_send(order.pk) == "failed"
    wait_until(live_server_idle, what="the sandbox to finish its slow answer")  # before the flush


def test_a_refusal_for_lack_of_funds_upstream_keeps_the_order_queued(world):
    user, service = world
    order = place(user, service, "https://instagram.com/p/later")
    faults.inject("refuse", action="add", message="Not enough funds on balance")
    assert order_send(order.pk) == "queued"
    assert Order.objects.get(pk=order.pk).refunded == 0


def test_a_refusal_about_the_order_cancels_it_with_a_full_refund(world):
    user, service = world
    order = place(user, service, "https://instagram.com/p/x")
    faults.inject("refuse", action="add", message="Incorrect link")
    assert order_send(order.pk) == "rejected"
    order.refresh_from_db()
    assert order.status == "Canceled" and order.refunded == order.charge and order.reason == "Incorrect link"
