"""Escaping (issue #16): text the panel did not write (a provider's service and category names and
descriptions, a ticket's subject and messages, a customer's order link) holding markup is shown as text on
every page that shows it, customers' and staff's, the notifications and the admin: the raw markup never
reaches the page, its escaped form does. The CSV exports need no HTML escaping, but a cell a spreadsheet
would run as a formula is written as text."""

import csv
import io
from decimal import Decimal

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import wallet_adjust, wallet_deposit
from catalog.models import Provider, Service
from catalog.sync import sync_catalog
from orders.models import Order, Refill
from support.services import ticket_open, ticket_reply_by_staff
from tests.catalog.conftest import FAKE_URL, FakeCatalog, upstream
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
EVIL = f"{SCRIPT} {IMG}"
RAW = (SCRIPT, "<img src=x onerror=alert(1)>")
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")


def assert_escaped(response, where: str):
    assert response.status_code == 200, (where, response.status_code)
    body = response.content.decode()
    for raw in RAW:
        assert raw not in body, f"raw markup on {where}"
    assert any(escaped in body for escaped in ESCAPED), f"the text itself is missing from {where}"


@pytest.fixture
def evil(alice, carol, no_broker):
    """A provider whose catalog holds markup, alice's order with markup in its link, her ticket about it."""
    provider = Provider.objects.create(name="Upstream", api_url=FAKE_URL, api_key="k", markup_percent=Decimal("50"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeCatalog(rsps).items = [upstream(7, name=f"Followers {EVIL}", category=f"Insta {EVIL}",
                                            description=f"Fast {EVIL}", refill=True, cancel=True)]
        assert sync_catalog(provider).ok
    service = Service.objects.get()
    assert service.enabled and SCRIPT in service.name + service.category.name + service.description
    wallet_deposit(user=alice, amount=Decimal("50"))
    order = OrderFactory(user=alice, service=service, provider_service=service.provider_service, provider=provider,
                         link=f"https://x.com/{IMG}{SCRIPT}", status=Order.Status.COMPLETED)
    Refill.objects.create(order=order)
    ticket = ticket_open(customer=alice, subject=f"Help {SCRIPT}"[:200], topic="order", body=f"Look: {EVIL}",
                         order_ids=[order.pk])
    ticket_reply_by_staff(ticket_id=ticket.pk, staff=carol, body=f"On it {EVIL}")
    return {"service": service, "order": order, "ticket": ticket}


def customer_pages(evil):
    service, order, ticket = evil["service"], evil["order"], evil["ticket"]
    return [
        ("get", reverse("catalog:services"), {}, {}),
        ("get", reverse("catalog:services"), {"q": "Followers"}, {}),
        ("get", reverse("orders:new"), {}, {}),
        ("get", reverse("orders:new"), {"service": service.pk}, {}),
        ("get", reverse("orders:service_options"), {"category": service.category_id}, {}),
        ("get", reverse("orders:service_fields"), {"service": service.pk}, {}),
        ("post", reverse("orders:new"), {"service": service.pk, "link": "https://x.com/a", "quantity": "1",
                                         "category": service.category_id}, {}),  # refused: shown again
        ("post", reverse("orders:mass"), {"text": f"{service.pk} | https://x.com/a | 100", "action": "preview"}, {}),
        ("get", reverse("orders:list"), {}, {}),
        ("get", reverse("orders:list"), {"live": "1"}, {"HX-Request": "true"}),
        ("get", reverse("orders:detail", args=[order.pk]), {}, {}),
        ("get", reverse("orders:detail", args=[order.pk]), {"live": "1"}, {"HX-Request": "true"}),
        ("get", reverse("orders:refills"), {}, {}),
        ("get", reverse("dashboard"), {}, {}),
        ("get", reverse("support:tickets"), {}, {}),
        ("get", reverse("support:ticket", args=[ticket.pk]), {}, {}),
        ("get", reverse("support:ticket_orders", args=[ticket.pk]), {}, {"HX-Request": "true"}),
        ("get", reverse("support:ticket_new"), {}, {}),
        ("get", reverse("support:ticket_new"), {"order": order.pk}, {}),
        ("get", reverse("notifications:list"), {}, {}),
    ]


def staff_pages(evil):
    service, order, ticket = evil["service"], evil["order"], evil["ticket"]
    today = timezone.localdate().isoformat()
    return [
        ("get", reverse("staff_orders:list"), {}, {}),
        ("get", reverse("staff_orders:list"), {"q": "x.com"}, {}),
        ("get", reverse("orders:detail", args=[order.pk]), {}, {}),
        ("get", reverse("backoffice:customer", args=[order.user_id]), {}, {}),
        ("get", reverse("staff_catalog:services"), {}, {}),
        ("get", reverse("staff_catalog:service_edit", args=[service.pk]), {}, {}),
        ("get", reverse("staff_catalog:categories"), {}, {}),
        ("get", reverse("staff_tickets:list"), {}, {}),
        ("get", reverse("staff_tickets:detail", args=[ticket.pk]), {}, {}),
        ("get", reverse("backoffice:reports"), {"date_from": today, "date_to": today, "group": "service"}, {}),
        ("get", reverse("backoffice:reports"), {"date_from": today, "date_to": today, "group": "category"}, {}),
        ("get", reverse("notifications:list"), {}, {}),
    ]


def admin_pages(evil):
    service, order = evil["service"], evil["order"]
    return [
        ("get", reverse("admin:catalog_service_changelist"), {}, {}),
        ("get", reverse("admin:catalog_service_change", args=[service.pk]), {}, {}),
        ("get", reverse("admin:catalog_providerservice_changelist"), {}, {}),
        ("get", reverse("admin:catalog_category_changelist"), {}, {}),
        ("get", reverse("admin:orders_order_changelist"), {}, {}),
        ("get", reverse("admin:orders_order_change", args=[order.pk]), {}, {}),
    ]


def test_every_customer_page_shows_the_markup_as_text(client, alice, evil):
    client.force_login(alice)
    for method, url, data, headers in customer_pages(evil):
        assert_escaped(getattr(client, method)(url, data, headers=headers), f"{method} {url} {data}")


def test_every_staff_page_shows_the_markup_as_text(client, carol, evil):
    client.force_login(carol)
    for method, url, data, headers in staff_pages(evil):
        assert_escaped(getattr(client, method)(url, data, headers=headers), f"{method} {url} {data}")


def test_the_admin_shows_the_markup_as_text(client, evil):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "root-pass-123"))
    for method, url, data, headers in admin_pages(evil):
        assert_escaped(getattr(client, method)(url, data, headers=headers), f"{method} {url} {data}")


def test_the_bell_menu_shows_a_ticket_subject_as_text(client, alice, carol, evil):
    for user in (alice, carol):
        client.force_login(user)
        body = client.get(reverse("notifications:bell")).content.decode()
        assert all(raw not in body for raw in RAW)


def test_a_messages_addresses_become_links_but_markup_inside_one_stays_text(client, alice, evil):
    ticket_reply_by_staff(ticket_id=evil["ticket"].pk, staff=evil["ticket"].messages.last().author,
                          body='See https://x.com/a"onmouseover="alert(1) and javascript:alert(1)')
    client.force_login(alice)
    body = client.get(reverse("support:ticket", args=[evil["ticket"].pk])).content.decode()
    assert 'onmouseover="alert(1)' not in body and 'href="javascript:' not in body
    assert 'href="https://x.com/a"' in body


# ---------------------------------------------------------------- CSV exports


FORMULAS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1", '=HYPERLINK("https://evil.example","click")']


def export(client, kind: str) -> list[dict]:
    today = timezone.localdate().isoformat()
    response = client.get(reverse("backoffice:export", args=[kind]), {"date_from": today, "date_to": today})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_orders_export_writes_a_customers_formula_as_text(client, alice, carol, formula, no_broker):
    provider = Provider.objects.create(name="Upstream", api_url=FAKE_URL, api_key="k")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeCatalog(rsps).items = [upstream(7, name=formula)]
        assert sync_catalog(provider).ok
    service = Service.objects.get()
    OrderFactory(user=alice, service=service, provider_service=service.provider_service, provider=provider,
                 link=formula)
    client.force_login(carol)
    row = export(client, "orders")[0]
    synced = service.name  # the sync may have dropped control characters from the provider's name
    assert row["link"] == "'" + formula
    assert row["service"] == ("'" + synced if synced[:1] in "=+-@\t\r" else synced)
    assert row["charge"] == "2.00000"  # numbers stay numbers


def test_a_negative_amount_in_the_ledger_export_stays_a_number(client, alice, carol):
    wallet_deposit(user=alice, amount=Decimal("10"))
    wallet_adjust(user=alice, amount=Decimal("-3"), note="=cmd|' /C calc'!A0", created_by=carol)
    client.force_login(carol)
    rows = export(client, "ledger")
    adjustment = next(row for row in rows if row["amount"].startswith("-"))
    assert adjustment["amount"] == "-3.00000"
    assert adjustment["note"] == "'=cmd|' /C calc'!A0"
