from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent
from tests.factories import ServiceFactory
from tests.pages import rendered

pytestmark = pytest.mark.django_db


def make_order(user, service=None, *, link="https://instagram.com/alice", status=Order.Status.PENDING, **fields):
    """An order row as placement and polling leave it (no money moves: these tests only read)."""
    service = service or ServiceFactory()
    values = {"quantity": 1000, "units": 1000, "rate": Decimal("2"), "charge": Decimal("2"), **fields}
    return Order.objects.create(user=user, service=service, provider_id=service.provider_service.provider_id,
                                provider_service=service.provider_service, link=link, status=status, **values)


def listed(response):
    return [order.pk for order in response.context["page"]]


def test_the_orders_list_shows_only_the_customers_own_orders_newest_first(client, alice, bob):
    service = ServiceFactory(name="IG Followers")
    mine = [make_order(alice, service), make_order(alice, service)]
    make_order(bob, service, link="https://instagram.com/bobs-secret")
    client.force_login(alice)
    response = client.get(reverse("orders:list"))
    assert listed(response) == [mine[1].pk, mine[0].pk]
    html = response.content.decode()
    assert "bobs-secret" not in html and "IG Followers" in html and "2.00000" in html


def test_bobs_list_never_shows_alices_orders_whatever_the_filter_or_search(client, alice, bob):
    alices = make_order(alice, link="https://instagram.com/alice-only")
    client.force_login(bob)
    for query in ({}, {"status": "Pending"}, {"q": str(alices.pk)}, {"q": "alice-only"}):
        response = client.get(reverse("orders:list"), query)
        assert listed(response) == [] and "https://instagram.com/alice-only" not in response.content.decode()


@pytest.mark.parametrize("status", [s for s, _ in Order.Status.choices])
def test_the_status_tabs_filter_the_list(client, alice, status):
    service = ServiceFactory()
    by_status = {s: make_order(alice, service, status=s) for s, _ in Order.Status.choices}
    client.force_login(alice)
    response = client.get(reverse("orders:list"), {"status": status})
    assert listed(response) == [by_status[status].pk]
    assert f'aria-current="page">{Order.Status(status).label}</a>' in response.content.decode()


def test_an_unknown_status_shows_all_orders(client, alice):
    orders = [make_order(alice, status=Order.Status.COMPLETED), make_order(alice)]
    client.force_login(alice)
    assert len(listed(client.get(reverse("orders:list"), {"status": "Bogus"}))) == len(orders)


def test_search_finds_an_order_by_its_id_or_part_of_its_link(client, alice):
    service = ServiceFactory()
    first = make_order(alice, service, link="https://instagram.com/p/sunset")
    second = make_order(alice, service, link="https://tiktok.com/@dancer")
    client.force_login(alice)
    assert listed(client.get(reverse("orders:list"), {"q": str(first.pk)})) == [first.pk]
    assert listed(client.get(reverse("orders:list"), {"q": f"#{second.pk}"})) == [second.pk]
    assert listed(client.get(reverse("orders:list"), {"q": "DANCER"})) == [second.pk]
    assert listed(client.get(reverse("orders:list"), {"q": "nothing-like-it"})) == []


def test_the_list_is_paginated_25_a_page_keeping_the_filter(client, alice):
    service = ServiceFactory()
    orders = [make_order(alice, service, status=Order.Status.COMPLETED) for _ in range(30)]
    make_order(alice, service)
    client.force_login(alice)
    first = client.get(reverse("orders:list"), {"status": "Completed"})
    assert len(listed(first)) == 25 and first.context["page"].paginator.num_pages == 2
    assert "?status=Completed&amp;page=2" in first.content.decode()
    second = client.get(reverse("orders:list"), {"status": "Completed", "page": 2})
    assert listed(second) == [o.pk for o in reversed(orders[:5])]


@pytest.mark.parametrize("count", [5, 40])
def test_the_orders_list_takes_the_same_number_of_queries_for_5_or_40_orders(
    client, alice, django_assert_max_num_queries, count
):
    for n in range(count):
        make_order(alice, ServiceFactory(name=f"Service {n}"))
    client.force_login(alice)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("orders:list"))
    assert len(listed(response)) == min(count, 25)


@pytest.mark.parametrize("count", [5, 40])
def test_the_dashboard_takes_the_same_number_of_queries_for_5_or_40_orders(
    client, alice, django_assert_max_num_queries, count
):
    for n in range(count):
        make_order(alice, ServiceFactory(name=f"Service {n}"))
    client.force_login(alice)
    with django_assert_max_num_queries(3):
        response = client.get(reverse("dashboard"))
    rendered(response, "<h1>Hello,")


def test_the_order_page_shows_its_fields_money_and_customer_timeline(client, alice):
    service = ServiceFactory(name="IG Comments", provider_service__type="Custom Comments")
    order = make_order(alice, service, status=Order.Status.PARTIAL, start_count=350, remains=40,
                       refunded=Decimal("0.08"), params={"comments": "nice\ngreat"})
    OrderEvent.objects.create(order=order, kind="created", message="Ordered 1000 for 2.00000.")
    OrderEvent.objects.create(order=order, kind="requeued", message="Provider down, retry soon", staff_only=True)
    client.force_login(alice)
    html = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    for text in ("IG Comments", "https://instagram.com/alice", "2.00000", "0.08000", "350", "40",
                 "status-partial", "Ordered 1000 for 2.00000.", "nice<br>great"):
        assert text in html, text
    assert "Provider down" not in html


def test_the_order_page_names_web_traffic_choices(client, alice):
    service = ServiceFactory(provider_service__type="Web Traffic")
    order = make_order(alice, service, params={"type_of_traffic": 2, "device": 3, "country": "US",
                                               "referring_url": "https://ref.example/"})
    client.force_login(alice)
    html = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "<dt>Device</dt><dd>Mobile (iOS)</dd>" in html and "<dd>Custom referrer</dd>" in html
    assert html.index("<dt>Country</dt>") < html.index("<dt>Device</dt>") < html.index("<dt>Type of traffic</dt>")


def test_staff_see_any_order_with_its_staff_only_events(client, alice, carol):
    order = make_order(alice, state=Order.State.FAILED, reason="No clear answer from the provider")
    OrderEvent.objects.create(order=order, kind="failed", message="Timed out after sending", staff_only=True)
    client.force_login(carol)
    html = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Timed out after sending" in html and "staff only" in html and "alice" in html
    assert "No clear answer from the provider" in html


def test_a_rejected_orders_reason_is_shown_to_its_customer(client, alice):
    order = make_order(alice, state=Order.State.REJECTED, status=Order.Status.CANCELED, reason="Link is private")
    client.force_login(alice)
    assert "Rejected by the provider:</strong> Link is private" in client.get(
        reverse("orders:detail", args=[order.pk])).content.decode()


def test_bob_gets_404_for_alices_order(client, alice, bob):
    order = make_order(alice)
    client.force_login(bob)
    assert client.get(reverse("orders:detail", args=[order.pk])).status_code == 404
    assert client.get(reverse("orders:detail", args=[order.pk + 1000])).status_code == 404


def test_order_pages_need_a_login(client, alice):
    order = make_order(alice)
    for url in (reverse("orders:list"), reverse("orders:detail", args=[order.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("events", [2, 30])
def test_the_order_page_takes_the_same_number_of_queries_however_long_its_timeline(
    client, alice, django_assert_max_num_queries, events
):
    order = make_order(alice)
    for n in range(events):
        OrderEvent.objects.create(order=order, kind="note", message=f"event {n}")
    client.force_login(alice)
    with django_assert_max_num_queries(5):  # session, user, order, events, refills
        response = client.get(reverse("orders:detail", args=[order.pk]))
    rendered(response, f"<h1>Order #{order.pk}</h1>")


def test_a_script_in_a_service_name_link_or_reason_is_shown_escaped(client, alice):
    service = ServiceFactory(name="<script>alert('name')</script>")
    order = make_order(alice, service, link="https://x.com/<script>alert('link')</script>",
                       state=Order.State.REJECTED, reason="<script>alert('reason')</script>")
    client.force_login(alice)
    for url in (reverse("orders:list"), reverse("orders:detail", args=[order.pk]), reverse("dashboard")):
        html = client.get(url).content.decode()
        assert "<script>alert(" not in html, url
        assert "&lt;script&gt;alert(" in html, url
