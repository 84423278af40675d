"""A Custom Comments Package lists min = max = 1 (packages, not lines): any number of comment lines makes one
package at the package's rate, on the page, in the mass order's verdict and through /api/v2."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.services import api_key_rotate, wallet_deposit
from orders.mass import mass_preview
from orders.models import Order
from smmapi.orders import MAX_LINES, InvalidOrder, Terms, parse_order
from smmapi.status import ServiceType
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

COMMENTS = "great post\nlove it\nwow\nso good\n🔥"


@pytest.fixture
def package(db):
    return ServiceFactory(name="IG comments package", type="Custom Comments Package", rate=Decimal("3.5"),
                          min_quantity=1, max_quantity=1, provider_service__type="Custom Comments Package",
                          provider_service__min_quantity=1, provider_service__max_quantity=1)


@pytest.fixture
def rich(alice):
    wallet_deposit(user=alice, amount=Decimal("50"))
    return alice


def test_five_lines_of_a_one_package_service_are_one_package_at_its_rate():
    terms = Terms(type=ServiceType.CUSTOM_COMMENTS_PACKAGE, rate=Decimal("3.5"), min=1, max=1)
    order = parse_order(terms, {"link": "https://instagram.com/p/1", "comments": COMMENTS})
    assert (order.charge, order.units, order.params["comments"].count("\n")) == (Decimal("3.50000"), 5, 4)
    with pytest.raises(InvalidOrder, match=f"At most {MAX_LINES} comments"):
        parse_order(terms, {"link": "https://instagram.com/p/1", "comments": "x\n" * (MAX_LINES + 1)})
    with pytest.raises(InvalidOrder, match="Enter the comments"):
        parse_order(terms, {"link": "https://instagram.com/p/1", "comments": " \n "})


def test_the_page_takes_the_package_with_many_lines(client, rich, package, no_broker):
    client.force_login(rich)
    response = client.post(reverse("orders:new"), {"service": package.pk, "link": "https://instagram.com/p/1",
                                                   "comments": COMMENTS})
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    assert order.charge == Decimal("3.50000") and "Quantity more than maximal" not in str(response.content)


def test_the_api_takes_the_package_with_many_lines(client, rich, package, no_broker):
    key = api_key_rotate(user=rich)
    answer = client.post("/api/v2", {"key": key, "action": "add", "service": package.pk,
                                     "link": "https://instagram.com/p/1", "comments": COMMENTS}).json()
    assert Order.objects.get(pk=answer["order"]).charge == Decimal("3.50000")


def test_the_mass_order_sends_the_package_to_the_new_order_page_not_to_a_quantity_error(rich, package):
    batch = mass_preview(user=rich, text=f"{package.pk} | https://instagram.com/p/1 | 1")
    assert "order this service from the New order page" in batch.lines[0].error
