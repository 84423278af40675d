"""Live progress, cancel and refill buttons, and the refills page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order, Refill
from orders.services import order_place

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def order(funded, service, no_broker):
    return order_place(user=funded, service=service, fields={"link": "https://x.com/live", "quantity": "1000"})


def test_an_active_orders_page_refreshes_itself_and_a_final_one_stops(client, funded, order):
    client.force_login(funded)
    html = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert 'id="order-live"' in html and "hx-trigger=\"every 5s\"" in html
    Order.objects.filter(pk=order.pk).update(state="placed", status="Completed", remains=0)
    fragment = client.get(reverse("orders:detail", args=[order.pk]) + "?live=1", **HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="order-live"') and "<html" not in fragment
    assert "hx-trigger" not in fragment and "Completed" in fragment


def test_a_completed_orders_page_keeps_refreshing_while_its_refill_is_open(client, funded, order):
    client.force_login(funded)
    Order.objects.filter(pk=order.pk).update(state="placed", status="Completed", remains=0)
    refill = Refill.objects.create(order=order)  # Queued
    live = reverse("orders:detail", args=[order.pk]) + "?live=1"
    fragment = client.get(live, **HTMX).content.decode()
    assert "hx-trigger" in fragment and "Queued" in fragment
    Refill.objects.filter(pk=refill.pk).update(status=Refill.Status.IN_PROGRESS, external_id="R1")
    fragment = client.get(live, **HTMX).content.decode()
    assert "hx-trigger" in fragment and "In progress" in fragment
    Refill.objects.filter(pk=refill.pk).update(status=Refill.Status.COMPLETED)
    fragment = client.get(live, **HTMX).content.decode()
    assert "hx-trigger" not in fragment and "Completed" in fragment.split("<h2>Refills</h2>")[1]


@pytest.mark.parametrize(("state", "status", "error", "shown"), [
    ("requested", "In progress", "", "Cancel requested"),
    ("accepted", "In progress", "", "Cancel accepted by the provider"),
    ("refused", "In progress", "Order is not cancelable", "Cancel refused by the provider: Order is not cancelable"),
    ("requested", "Completed", "", "Cancel not sent: the order was already Completed."),  # it finished first
    ("requested", "Partial", "", "Cancel not sent: the order was already Partial."),
    ("refused", "Canceled", "Already canceled", None),  # the provider's status says what became of it
    ("requested", "Canceled", "", None),  # the provider canceled it before the request went
    ("accepted", "Canceled", "", "Cancel accepted by the provider"),
])
def test_the_order_page_says_what_became_of_a_cancel_request(client, funded, order, state, status, error, shown):
    Order.objects.filter(pk=order.pk).update(state="placed", status=status, cancel_state=state, cancel_error=error)
    client.force_login(funded)
    html = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    if shown is None:
        assert 'id="cancel-state"' not in html
    else:
        assert f'<p class="muted" id="cancel-state">{shown}</p>' in html


def test_the_live_fragment_shows_the_new_status_without_a_reload(client, funded, order):
    client.force_login(funded)
    Order.objects.filter(pk=order.pk).update(state="placed", status="In progress", remains=400, start_count=10)
    fragment = client.get(reverse("orders:detail", args=[order.pk]) + "?live=1", **HTMX).content.decode()
    assert "In progress" in fragment and "400" in fragment and "hx-trigger" in fragment


def test_the_orders_list_refreshes_its_rows_while_any_order_is_active(client, funded, order, service,
                                                                      django_assert_max_num_queries):
    client.force_login(funded)
    html = client.get(reverse("orders:list"), {"status": "Pending"}).content.decode()
    assert 'id="order-rows" hx-get="/orders/?live=1&amp;status=Pending"' in html
    for _ in range(10):
        order_place(user=funded, service=service, fields={"link": "https://x.com/more", "quantity": "10"})
    with django_assert_max_num_queries(6):
        rows = client.get(reverse("orders:list") + "?live=1", **HTMX).content.decode()
    assert rows.lstrip().startswith("<tbody") and rows.count("<tr ") == 11
    Order.objects.update(status="Completed", state="placed")
    assert "hx-get" not in client.get(reverse("orders:list")).content.decode().split('id="order-rows"')[1][:20]


def test_a_queued_order_shows_cancel_and_canceling_refunds_it(client, funded, order):
    client.force_login(funded)
    assert "Cancel order" in client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    response = client.post(reverse("orders:cancel", args=[order.pk]), follow=True)
    assert "canceled" in response.content.decode()
    html = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert 'id="cancel-state"' not in html  # canceled here, never sent: no word of the provider accepting it
    order.refresh_from_db()
    funded.refresh_from_db()
    assert order.status == "Canceled" and funded.balance == Decimal("10.00000")


def test_someone_else_cannot_cancel_or_refill_my_order(client, bob, order):
    client.force_login(bob)
    assert client.post(reverse("orders:cancel", args=[order.pk])).status_code == 404
    assert client.post(reverse("orders:refill", args=[order.pk])).status_code == 404
    order.refresh_from_db()
    assert order.state == "queued" and not Refill.objects.exists()


def test_a_completed_order_of_a_refill_service_shows_refill_and_the_refills_page_lists_it(client, funded, order,
                                                                                          service):
    service.refill = True
    service.save()
    Order.objects.filter(pk=order.pk).update(state="placed", status="Completed", external_id="E1")
    client.force_login(funded)
    assert ">Refill</button>" in client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    client.post(reverse("orders:refill", args=[order.pk]))
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert ">Refill</button>" not in page and "Queued" in page  # one open refill at a time
    refills = client.get(reverse("orders:refills")).content.decode()
    assert f"#{order.pk}" in refills and "Queued" in refills


def test_a_final_order_offers_no_cancel(client, funded, order, service):
    service.cancel = True
    service.save()
    Order.objects.filter(pk=order.pk).update(state="placed", status="Completed")
    client.force_login(funded)
    assert "Cancel order" not in client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    response = client.post(reverse("orders:cancel", args=[order.pk]), follow=True)
    assert "can no longer be canceled" in response.content.decode()


def test_the_refills_page_refreshes_its_rows_while_a_refill_is_open(client, funded, order,
                                                                    django_assert_max_num_queries):
    client.force_login(funded)
    Order.objects.filter(pk=order.pk).update(state="placed", status="Completed", remains=0)
    refill = Refill.objects.create(order=order)
    html = client.get(reverse("orders:refills")).content.decode()
    assert 'id="refill-rows" hx-get="/orders/refills/?live=1" hx-trigger="every 5s"' in html
    Refill.objects.filter(pk=refill.pk).update(status=Refill.Status.IN_PROGRESS, external_id="R9")
    with django_assert_max_num_queries(5):
        rows = client.get(reverse("orders:refills") + "?live=1", **HTMX).content.decode()
    assert rows.lstrip().startswith('<tbody id="refill-rows"') and "<html" not in rows and "In progress" in rows
    Refill.objects.filter(pk=refill.pk).update(status=Refill.Status.COMPLETED)
    rows = client.get(reverse("orders:refills") + "?live=1", **HTMX).content.decode()
    assert "Completed" in rows and "hx-get" not in rows  # all closed: it stops asking

