"""Bad input found by trying the panel as an attacker would (issue #16): each answered with a clear message,
never a 500, nothing half-saved."""

from decimal import Decimal

import pytest
import responses
from django.urls import reverse

from accounts.services import api_key_rotate, wallet_deposit
from catalog.models import Provider, Service
from catalog.sync import sync_catalog
from orders.models import Order
from tests.catalog.conftest import FAKE_URL, FakeCatalog, upstream
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

ODD_DIGITS = ["%C2%B2", "1%C2%B2", "%E2%91%A0", "9" * 30, "#%D9%A3"]  # ², 1², ①, too long, Arabic-Indic 3


@pytest.fixture
def rich(alice):
    wallet_deposit(user=alice, amount=Decimal("50"))
    return alice


@pytest.mark.parametrize("q", ODD_DIGITS)
def test_searches_with_digits_that_are_not_ascii_answer_a_page_not_a_500(client, rich, carol, q):
    ServiceFactory(name="Followers")
    assert client.get(f"{reverse('catalog:services')}?q={q}").status_code == 200
    client.force_login(rich)
    assert client.get(f"{reverse('orders:list')}?q={q}").status_code == 200
    client.force_login(carol)
    for name in ("staff_orders:list", "staff_catalog:services"):
        assert client.get(f"{reverse(name)}?q={q}").status_code == 200


@pytest.mark.parametrize("field", ["runs", "interval"])
def test_a_drip_feed_number_too_big_for_the_database_is_refused_on_the_page_and_the_api(client, rich, field,
                                                                                       no_broker):
    service = ServiceFactory(dripfeed=True, provider_service__dripfeed=True)
    fields = {"service": service.pk, "link": "https://x.com/a", "quantity": "100", "runs": "2", "interval": "10",
              field: "2147483648"}
    client.force_login(rich)
    page = client.post(reverse("orders:new"), fields)
    assert page.status_code == 200 and "can be at most" in page.content.decode()
    key = api_key_rotate(user=rich)
    answer = client.post("/api/v2", {"key": key, "action": "add", **fields}).json()
    assert "error" in answer and "Internal" not in answer["error"]
    assert not Order.objects.exists()


def test_a_staff_bulk_action_with_an_id_too_long_for_the_database_is_refused_not_a_500(client, carol):
    service = ServiceFactory()
    client.force_login(carol)
    response = client.post(reverse("staff_catalog:services_bulk"), {"action": "disable",
                                                                     "services": [service.pk, "9" * 30]})
    assert response.status_code in (200, 302)
    assert Service.objects.get(pk=service.pk).enabled
    response = client.post(reverse("staff_orders:bulk"), {"action": "complete", "orders": ["9" * 30]}, follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize("link", ["https://x.com/a\nb", "https://x.com/a\tb", "https://x.com/<script>",
                                  "https://x.com/a\u202egnp.exe", "https://x.com/a b"])
def test_links_with_control_characters_or_markup_are_refused(client, rich, link, no_broker):
    service = ServiceFactory()
    client.force_login(rich)
    page = client.post(reverse("orders:new"), {"service": service.pk, "link": link, "quantity": "100"})
    assert page.status_code == 200 and "The link holds" in page.content.decode()
    key = api_key_rotate(user=rich)
    assert client.post("/api/v2", {"key": key, "action": "add", "service": service.pk, "link": link,
                                   "quantity": "100"}).json() == {"error": "Incorrect link"}
    assert not Order.objects.exists()


def test_a_providers_text_with_a_right_to_left_override_is_neutralised_on_sync(db):
    provider = Provider.objects.create(name="Upstream", api_url=FAKE_URL, api_key="k",
                                       markup_percent=Decimal("50"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeCatalog(rsps)
        fake.items = [upstream(1, name="Likes \u202egnp.exe", category="Insta\u202egram\nFollowers",
                               description="Fast.\nReal\u202e users")]
        assert sync_catalog(provider).ok
    service = Service.objects.get()
    assert "\u202e" not in service.name + service.category.name + service.description
    assert service.name == "Likes  gnp.exe" and service.description == "Fast.\nReal  users"


@pytest.mark.parametrize("q", ODD_DIGITS)
def test_ticket_searches_and_order_numbers_with_odd_digits_are_refused_not_a_500(client, rich, carol, q):
    from urllib.parse import unquote

    client.force_login(rich)
    assert client.get(f"{reverse('support:ticket_new')}?order={q}").status_code == 200
    page = client.post(reverse("support:ticket_new"), {"subject": "Help", "topic": "order", "body": "Where?",
                                                        "order_ids": unquote(q), "recent_orders": [unquote(q)]})
    assert page.status_code == 200
    from support.models import Ticket

    assert not Ticket.objects.exists()
    client.force_login(carol)
    assert client.get(f"{reverse('staff_tickets:list')}?q={q}").status_code == 200
