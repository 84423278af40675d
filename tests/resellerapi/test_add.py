"""`add` takes every service type the panel sells, and a retried request_id places and charges once."""

from decimal import Decimal

import pytest

from accounts.models import LedgerEntry
from orders.models import Order
from smmapi import ServiceType
from tests.factories import ProviderServiceFactory, ServiceFactory

from .conftest import LINK, balance_of

pytestmark = pytest.mark.django_db

# One valid `add` per type, as a reseller's form fields, with the units it orders in all.
FIELDS_BY_TYPE = {
    "Default": ({"quantity": "100"}, 100),
    "Package": ({}, 1),
    "Custom Comments": ({"comments": "\r\n".join(f"Great {n}" for n in range(10))}, 10),
    "Custom Comments Package": ({"comments": "one\ntwo"}, 2),
    "Web Traffic": ({"quantity": "1000", "country": "United States", "device": "4", "type_of_traffic": "1",
                     "google_keyword": "shoes"}, 1000),
    "Poll": ({"quantity": "100", "answer_number": "1"}, 100),
    "Subscriptions": ({"username": "cats", "min": "100", "max": "100", "posts": "2", "delay": "0",
                       "expiry": "31/12/2030"}, 200),
    "Mentions": ({"quantity": "100", "usernames": "alice\nbob"}, 100),
    "Mentions with Hashtags": ({"quantity": "100", "usernames": "alice", "hashtags": "#cats"}, 100),
    "Mentions Custom List": ({"usernames": "\n".join(f"user{n}" for n in range(10))}, 10),
    "Mentions Hashtag": ({"quantity": "100", "hashtag": "cats"}, 100),
    "Mentions User Followers": ({"quantity": "100", "username": "https://instagram.com/alice"}, 100),
    "Mentions Media Likers": ({"quantity": "100", "media": "https://instagram.com/p/xyz"}, 100),
    "SEO": ({"quantity": "100", "keywords": "shoes\nboots"}, 100),
    "Comment Likes": ({"quantity": "100", "username": "commenter"}, 100),
    "Comment Replies": ({"username": "commenter", "comments": "hi\nthere"}, 2),
}


def test_every_known_service_type_is_covered_here():
    assert set(FIELDS_BY_TYPE) == {str(t) for t in ServiceType if t != ServiceType.OTHER}


@pytest.mark.parametrize("service_type", list(FIELDS_BY_TYPE))
def test_add_places_an_order_of_every_type_through_order_place(call, funded, no_broker, service_type):
    fields, units = FIELDS_BY_TYPE[service_type]
    service = ServiceFactory(rate=Decimal("4"), provider_service=ProviderServiceFactory(
        type=service_type, min_quantity=1, max_quantity=10000))
    answer = call("add", service=service.pk, link=LINK, **fields)
    order = Order.objects.get()
    assert answer == {"order": order.pk}
    package = service_type in ("Package", "Custom Comments Package")
    charge = Decimal("4") if package else Decimal("4") * units / 1000
    assert (order.units, order.charge) == (units, charge)
    assert balance_of(funded) == Decimal("10") - charge


def test_add_with_drip_feed_charges_quantity_times_runs(call, funded, no_broker):
    service = ServiceFactory(rate=Decimal("2"), provider_service=ProviderServiceFactory(dripfeed=True))
    order_id = call("add", service=service.pk, link=LINK, quantity=100, runs=5, interval=30)["order"]
    order = Order.objects.get(pk=order_id)
    assert (order.quantity, order.runs, order.interval, order.units, order.charge) == (
        100, 5, 30, 500, Decimal("1.00000"))


def test_a_web_traffic_order_without_its_keyword_is_an_incorrect_request(call, funded):
    service = ServiceFactory(provider_service=ProviderServiceFactory(type="Web Traffic"))
    answer = call("add", service=service.pk, link=LINK, quantity=100, country="US", device=1, type_of_traffic=1)
    assert answer == {"error": "Incorrect request"}
    assert not Order.objects.exists()


def test_a_retried_request_id_returns_the_first_order_and_charges_once(call, funded, service, no_broker):
    first = call("add", service=service.pk, link=LINK, quantity=1000, request_id="r-1")
    again = call("add", service=service.pk, link=LINK, quantity=1000, request_id="r-1")
    assert first == again == {"order": Order.objects.get().pk}
    assert LedgerEntry.objects.filter(kind="charge").count() == 1
    assert balance_of(funded) == Decimal("8.00000")


def test_a_different_request_id_places_a_second_order(call, funded, service, no_broker):
    first = call("add", service=service.pk, link=LINK, quantity=1000, request_id="r-1")
    second = call("add", service=service.pk, link=LINK, quantity=1000, request_id="r-2")
    assert first != second and Order.objects.count() == 2


def test_without_a_request_id_each_add_is_a_new_order(call, funded, service, no_broker):
    call("add", service=service.pk, link=LINK, quantity=1000)
    call("add", service=service.pk, link=LINK, quantity=1000, request_id="   ")
    assert Order.objects.count() == 2 and not Order.objects.exclude(request_id=None).exists()


def test_request_ids_are_per_customer(call, funded, bob_key, service, no_broker):
    mine = call("add", service=service.pk, link=LINK, quantity=1000, request_id="same")
    bobs = call("add", service=service.pk, link=LINK, quantity=1000, request_id="same", key=bob_key)
    assert mine != bobs and Order.objects.count() == 2
