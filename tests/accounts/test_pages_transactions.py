from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse

from accounts.services import wallet_adjust, wallet_deposit
from orders.services import order_place
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_transactions_show_only_the_users_own_rows_newest_first(client, alice, bob, carol):
    wallet_deposit(user=alice, amount=Decimal("5"), note="first top-up")
    wallet_adjust(user=alice, amount=Decimal("-1.5"), note="goodwill correction", created_by=carol)
    wallet_deposit(user=bob, amount=Decimal("99"), note="bob's money")
    client.force_login(alice)
    response = client.get(reverse("transactions"))
    html = response.content.decode()
    entries = list(response.context["page"])
    assert [e.note for e in entries] == ["goodwill correction", "first top-up"]
    assert "bob&#x27;s money" not in html and "99.00000" not in html
    assert "+5.00000" in html and "-1.50000" in html and "3.50000" in html
    assert f'href="{reverse("payments:add")}"' in html


def test_a_charge_links_to_its_order(client, alice):
    wallet_deposit(user=alice, amount=Decimal("5"))
    with mock.patch("orders.services.celery_app.send_task"):
        order = order_place(user=alice, service=ServiceFactory(), fields={"link": "https://x.com/a", "quantity": "100"})
    client.force_login(alice)
    html = client.get(reverse("transactions")).content.decode()
    assert f'href="{reverse("orders:detail", args=[order.pk])}"' in html and "Order charge" in html


def test_transactions_are_paginated_25_a_page_in_a_fixed_number_of_queries(
    client, alice, django_assert_max_num_queries
):
    for n in range(30):
        wallet_deposit(user=alice, amount=Decimal("1"), note=f"deposit {n}")
    client.force_login(alice)
    with django_assert_max_num_queries(6):
        first = client.get(reverse("transactions"))
    assert len(first.context["page"]) == 25 and first.context["page"].paginator.num_pages == 2
    second = client.get(reverse("transactions"), {"page": 2})
    assert [e.note for e in second.context["page"]] == [f"deposit {n}" for n in (4, 3, 2, 1, 0)]


def test_transactions_need_a_login(client):
    assert client.get(reverse("transactions")).status_code == 302
