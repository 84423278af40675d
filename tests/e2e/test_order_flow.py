"""A customer places an order in a real browser: Playwright's sync API driving Debian's Chromium."""

import re
from decimal import Decimal
from unittest import mock

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import wallet_deposit
from orders.models import Order
from tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_a_funded_customer_orders_with_a_live_charge_and_lands_on_the_pending_order(live_server, browser_page):
    customer = User.objects.create_user("erin", "erin@example.com", "erin-pass-123")
    wallet_deposit(user=customer, amount=Decimal("10"))
    followers = ServiceFactory(name="IG Followers", category=CategoryFactory(name="Instagram"))
    ServiceFactory(name="TT Views", category=CategoryFactory(name="TikTok"))
    page = browser_page

    with mock.patch("orders.services.celery_app.send_task") as send:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "erin")
        page.fill("#id_password", "erin-pass-123")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#balance")).to_contain_text("10.00000")

        page.locator(".quick-links").get_by_role("link", name="New order").click()
        expect(page.locator("#id_service option")).to_have_count(3)  # the prompt and both services
        page.select_option("#id_category", label="Instagram")
        expect(page.locator("#id_service option")).to_have_count(2)  # the prompt and Instagram's one
        page.select_option("#id_service", value=str(followers.pk))
        page.locator("#id_link").fill("https://instagram.com/erin")
        page.locator("#id_quantity").press_sequentially("1500")
        expect(page.locator("#quote")).to_contain_text("Charge: 3.00000")

        page.get_by_role("button", name="Place order").click()
        expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
        expect(page.locator("h1 + .status")).to_have_text("Pending")
        expect(page.locator("#charge")).to_contain_text("3.00000")
        expect(page.locator(".nav-balance")).to_contain_text("7.00000")

    order = Order.objects.get()
    assert (order.user, order.service, order.units, order.charge) == (customer, followers, 1500, Decimal("3.00000"))
    customer.refresh_from_db()
    assert customer.balance == Decimal("7.00000")
    send.assert_called_once_with("orders.send_order", args=(order.pk,), retry=False)
