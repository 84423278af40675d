"""A customer watches an order move on its page without reloading (HTMX polling)."""

from decimal import Decimal
from unittest import mock

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import wallet_deposit
from orders.models import Order, Refill
from orders.services import order_place
from tests.factories import OrderFactory, ServiceFactory

from .conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_the_order_page_goes_from_pending_to_in_progress_to_completed_without_a_reload(live_server, browser_page,
                                                                                     settings):
    settings.LIVE_REFRESH_SECONDS = 1
    customer = User.objects.create_user("frank", "frank@example.com", "frank-pass-123")
    wallet_deposit(user=customer, amount=Decimal("10"))
    with mock.patch("orders.services.celery_app.send_task"):
        order = order_place(user=customer, service=ServiceFactory(), fields={"link": "https://x.com/f",
                                                                             "quantity": "1000"})
    page = browser_page
    log_in(page, live_server, "frank", "frank-pass-123")
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(page.locator("h1 + .status")).to_have_text("Pending")
    page.evaluate("window.notReloaded = true")

    Order.objects.filter(pk=order.pk).update(state="placed", status="In progress", remains=600, start_count=42)
    expect(page.locator("h1 + .status")).to_have_text("In progress")
    Order.objects.filter(pk=order.pk).update(status="Completed", remains=0)
    expect(page.locator("h1 + .status")).to_have_text("Completed")
    assert page.evaluate("window.notReloaded") is True  # the same page, its part swapped in place
    expect(page.locator("#order-live[hx-trigger]")).to_have_count(0)  # final: the part asks no more


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_orders_list_shows_each_status_on_screen_and_keeps_it_live(live_server, browser_page, settings):
    settings.LIVE_REFRESH_SECONDS = 1
    customer = User.objects.create_user("gina", "gina@example.com", "gina-pass-123")
    wallet_deposit(user=customer, amount=Decimal("10"))
    with mock.patch("orders.services.celery_app.send_task"):
        orders = [order_place(user=customer, service=ServiceFactory(name=f"Followers, a long service name {i}"),
                              fields={"link": f"https://instagram.com/p/a-rather-long-post-path-{i}", "quantity": "1000"})
                  for i in range(2)]
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "gina", "gina-pass-123")
    page.goto(f"{live_server.url}/orders/")

    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")  # nothing beyond the right edge
    for order in orders:
        status = page.locator(f"#order-{order.pk} .status")
        expect(status).to_have_text("Pending")
        box = status.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        remains = page.locator(f"#order-{order.pk} td[data-label='Remains']")
        assert remains.evaluate("el => getComputedStyle(el, '::before').content") == '"Remains"'  # labelled

    Order.objects.filter(pk=orders[0].pk).update(state="placed", status="In progress", remains=600)
    expect(page.locator(f"#order-{orders[0].pk} .status")).to_have_text("In progress")
    expect(page.locator(f"#order-{orders[0].pk} td[data-label='Remains']")).to_contain_text("600")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")  # the swapped rows are laid out alike


@pytest.mark.django_db(transaction=True)
def test_the_customers_lists_fit_a_phone_with_every_line_labelled(live_server, browser_page):
    customer = User.objects.create_user("hana", "hana@example.com", "hana-pass-123")
    wallet_deposit(user=customer, amount=Decimal("10"))
    service = ServiceFactory(name="Instagram Followers [Real, lifetime refill, 30 days guarantee]", rate=Decimal("1.5"),
                             description="Starts within an hour.\nUp to 5k a day.")
    order = OrderFactory(user=customer, service=service, status="Completed", remains=0,
                         link="https://instagram.com/p/a-very-long-post-path-that-would-not-fit-a-phone")
    Refill.objects.create(order=order, status=Refill.Status.REJECTED, error="Refill is not available for this order")
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "hana", "hana-pass-123")
    for path, row, label in (("/services/", f"#service-{service.pk}", "Rate per 1000"),
                             ("/accounts/transactions/", "tbody tr", "Balance after"),
                             ("/orders/", f"#order-{order.pk}", "Status"),
                             ("/orders/refills/", "tbody tr", "Note")):
        page.goto(live_server.url + path)
        expect(page.locator(row).first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        for wrap in page.locator(".table-wrap").all():
            assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), path
        cell = page.locator(f"{row} td[data-label='{label}']").first
        assert cell.evaluate("el => getComputedStyle(el, '::before').content") == f'"{label}"', path
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, path
