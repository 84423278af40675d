"""The API and the pages are one logic: the same orders, charged, sent, polled and refunded the same way."""

import json
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import responses
from django.urls import reverse

from accounts.models import LedgerEntry
from orders.models import Order
from orders.polling import run_cycle
from orders.services import order_place, order_send
from tests.factories import FAKE_PROVIDER_URL

from .conftest import LINK, balance_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def upstream():
    """The fake provider: `add` answers order "U-1"; `status` answers whatever `answers` holds."""
    answers = {}

    def reply(request):
        fields = {name: values[0] for name, values in parse_qs(request.body).items()}
        if fields["action"] == "add":
            return 200, {}, json.dumps({"order": "U-1"})
        return 200, {}, json.dumps({order_id: answers[order_id] for order_id in fields["orders"].split(",")})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.POST, FAKE_PROVIDER_URL, callback=reply)
        yield answers


def test_an_order_placed_by_api_shows_on_the_customers_pages(client, call, funded, service, no_broker):
    order_id = call("add", service=service.pk, link="https://instagram.com/p/from-the-api", quantity=1000)["order"]
    client.force_login(funded)
    assert "from-the-api" in client.get(reverse("orders:list")).content.decode()
    assert client.get(reverse("orders:detail", args=[order_id])).status_code == 200
    charge = LedgerEntry.objects.get(order_id=order_id, kind="charge")
    assert charge.amount == Decimal("-2.00000")


def test_an_order_placed_on_the_pages_shows_in_the_api(call, funded, service, no_broker):
    order = order_place(user=funded, service=service, fields={"link": LINK, "quantity": "500"})
    assert call("status", order=order.pk) == {"charge": "1.00000", "start_count": "0", "status": "Pending",
                                              "remains": "500", "currency": "USD"}
    assert call("balance")["balance"] == "9.00000"


def test_an_api_order_is_sent_polled_and_refunded_like_any_other(call, funded, service, no_broker, upstream):
    order_id = call("add", service=service.pk, link=LINK, quantity=1000)["order"]
    assert order_send(order_id) == Order.State.PLACED
    upstream["U-1"] = {"charge": "0.5", "start_count": "120", "status": "Partial", "remains": "250",
                       "currency": "USD"}
    run_cycle()
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.refunded) == ("Partial", Decimal("0.50000"))
    assert balance_of(funded) == Decimal("8.50000")
    assert call("status", order=order_id) == {"charge": "1.50000", "start_count": "120", "status": "Partial",
                                              "remains": "250", "currency": "USD"}
