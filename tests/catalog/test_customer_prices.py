"""Prices per customer: a discount and own rates, used wherever a price is shown or charged, never below the
provider's cost unless staff confirmed it."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.services import wallet_deposit
from catalog import services
from catalog.models import CustomerRate
from core.models import AuditEntry
from orders.mass import mass_preview
from orders.models import Order
from orders.services import order_place
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def followers(db):
    """2.00 per 1000 on sale; the provider charges 1.00 per 1000 (its cost)."""
    return ServiceFactory(name="Followers", rate=Decimal("2"), provider_service__rate=Decimal("1"))


@pytest.fixture
def rich(alice):
    wallet_deposit(user=alice, amount=Decimal("100"))
    alice.refresh_from_db()
    return alice


def order(user, service, quantity="1000"):
    return order_place(user=user, service=service, fields={"link": "https://x.com/a", "quantity": quantity})


def test_a_discount_lowers_what_the_customer_is_charged_and_only_them(rich, bob, carol, followers, no_broker):
    services.customer_discount_set(customer=rich, percent=Decimal("25"), below_cost=False, actor=carol)
    assert order(rich, followers).charge == Decimal("1.50000")
    wallet_deposit(user=bob, amount=Decimal("10"))
    assert order(bob, followers).charge == Decimal("2.00000")
    assert AuditEntry.objects.get(action="customer.discount").after == {"discount_percent": "25",
                                                                        "discount_below_cost": False}


def test_a_discount_stops_at_the_providers_cost_unless_confirmed(rich, carol, followers, no_broker):
    services.customer_discount_set(customer=rich, percent=Decimal("80"), below_cost=False, actor=carol)
    assert order(rich, followers).charge == Decimal("1.00000")  # 0.40 would be below the cost of 1.00
    services.customer_discount_set(customer=rich, percent=Decimal("80"), below_cost=True, actor=carol)
    assert order(rich, followers).charge == Decimal("0.40000")


def test_an_own_rate_wins_over_the_discount_and_is_refused_below_cost_unless_confirmed(rich, carol, followers,
                                                                                       no_broker):
    services.customer_discount_set(customer=rich, percent=Decimal("10"), below_cost=False, actor=carol)
    services.customer_rate_set(customer=rich, service=followers, rate=Decimal("1.2"), below_cost_confirmed=False,
                               actor=carol)
    assert order(rich, followers).charge == Decimal("1.20000")
    with pytest.raises(ValidationError, match="below the provider's cost"):
        services.customer_rate_set(customer=rich, service=followers, rate=Decimal("0.5"), below_cost_confirmed=False,
                                   actor=carol)
    services.customer_rate_set(customer=rich, service=followers, rate=Decimal("0.5"), below_cost_confirmed=True,
                               actor=carol)
    assert order(rich, followers).charge == Decimal("0.50000")
    assert Order.objects.filter(rate=Decimal("0.5")).count() == 1  # the order keeps the rate it was charged at


def test_an_own_rate_that_the_cost_overtook_is_charged_at_cost(rich, carol, followers, no_broker):
    services.customer_rate_set(customer=rich, service=followers, rate=Decimal("1.2"), below_cost_confirmed=False,
                               actor=carol)
    followers.provider_service.rate = Decimal("1.5")  # the provider raised its price
    followers.provider_service.save()
    assert order(rich, followers).charge == Decimal("1.50000")


def test_removing_the_last_own_rate_goes_back_to_list_prices(rich, carol, followers, no_broker):
    custom = services.customer_rate_set(customer=rich, service=followers, rate=Decimal("1.2"),
                                        below_cost_confirmed=False, actor=carol)
    assert services.customer_rate_delete(customer=rich, rate_id=custom.pk, actor=carol)
    rich.refresh_from_db()
    assert not rich.has_custom_rates and not CustomerRate.objects.exists()
    assert order(rich, followers).charge == Decimal("2.00000")


def test_the_pages_show_the_customers_own_prices(client, rich, carol, followers):
    services.customer_rate_set(customer=rich, service=followers, rate=Decimal("1.2"), below_cost_confirmed=False,
                               actor=carol)
    client.force_login(rich)
    assert "1.20000" in client.get(reverse("catalog:services")).content.decode()
    new_order = client.get(reverse("orders:new"), {"service": followers.pk}).content.decode()
    assert "1.20000" in new_order
    quote = client.post(reverse("orders:quote"), {"service": followers.pk, "link": "https://x.com/a",
                                                  "quantity": "1000"}).content.decode()
    assert "Charge: <strong class=\"charge\">1.20000" in quote
    client.logout()
    assert "1.20000" not in client.get(reverse("catalog:services")).content.decode()


def test_a_mass_order_is_priced_for_the_customer(rich, carol, followers):
    services.customer_discount_set(customer=rich, percent=Decimal("50"), below_cost=False, actor=carol)
    batch = mass_preview(user=rich, text=f"{followers.pk} | https://x.com/a | 1000")
    assert batch.total == Decimal("1.00000")


def test_list_prices_cost_no_query_for_a_customer_without_discount_or_rates(alice, followers,
                                                                            django_assert_num_queries):
    from catalog.selectors import apply_customer_prices

    with django_assert_num_queries(0):
        apply_customer_prices([followers], alice)
    assert followers.rate == Decimal("2")


def test_staff_have_no_prices(carol, followers):
    with pytest.raises(ValidationError):
        services.customer_discount_set(customer=carol, percent=Decimal("5"), below_cost=False, actor=carol)


def api(client, key, **fields):
    return client.post("/api/v2", {"key": key, **fields}).json()


def test_the_api_lists_and_charges_the_customers_own_prices(client, rich, carol, followers, no_broker):
    from accounts.services import api_key_rotate

    key = api_key_rotate(user=rich)
    services.customer_discount_set(customer=rich, percent=Decimal("25"), below_cost=False, actor=carol)
    listed = {item["service"]: item["rate"] for item in api(client, key, action="services")}
    assert listed[followers.pk] == "1.50000"
    placed = api(client, key, action="add", service=followers.pk, link="https://x.com/a", quantity="1000")
    assert Order.objects.get(pk=placed["order"]).charge == Decimal("1.50000")


def test_staff_set_prices_from_the_customers_page(client, rich, carol, dave, followers):
    client.force_login(carol)
    page = reverse("backoffice:customer", args=[rich.pk])
    client.post(reverse("backoffice:customer_discount", args=[rich.pk]), {"percent": "10"})
    refused = client.post(reverse("backoffice:customer_rate_add", args=[rich.pk]),
                          {"service": followers.pk, "rate": "0.5"}, follow=True).content.decode()
    assert "below the provider's cost" in refused.replace("&#x27;", "'")
    client.post(reverse("backoffice:customer_rate_add", args=[rich.pk]), {"service": followers.pk, "rate": "1.1"})
    html = client.get(page).content.decode()
    assert "10%" in html and "1.10000" in html and 'id="custom-rates"' in html
    for bad in ({"service": "999999", "rate": "1"}, {"service": followers.pk, "rate": "-1"}, {"service": "", "rate": ""}):
        client.post(reverse("backoffice:customer_rate_add", args=[rich.pk]), bad)
    assert CustomerRate.objects.get().rate == Decimal("1.1")
    client.force_login(dave)  # Support sees prices but may not change them
    assert client.post(reverse("backoffice:customer_discount", args=[rich.pk]), {"percent": "50"}).status_code == 403
    assert "Set discount" not in client.get(page).content.decode()
    rich.refresh_from_db()
    assert rich.discount_percent == Decimal("10")
