"""Staff in a real browser: the dashboard keeps itself current, and a bulk action on the orders list."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.models import AuditEntry
from orders.models import Order
from tests.factories import OrderFactory

from .conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_shows_a_new_order_without_a_reload(live_server, browser_page, settings, carol, alice):
    settings.DASHBOARD_REFRESH_SECONDS = 1
    OrderFactory(user=alice, charge=Decimal("2"), cost=Decimal("1"), status="Completed")
    page = browser_page
    log_in(page, live_server, "carol", "carol-pass-123")
    page.goto(f"{live_server.url}/staff/")
    expect(page.locator("#order-count td").nth(1)).to_have_text("1")
    expect(page.locator("#profit")).to_contain_text("1.00000")
    page.evaluate("window.stillTheSamePage = true")

    OrderFactory(user=alice, charge=Decimal("5"), cost=Decimal("2"), status="In progress")

    expect(page.locator("#order-count td").nth(1)).to_have_text("2", timeout=10_000)
    expect(page.locator("#profit")).to_contain_text("4.00000")
    assert page.evaluate("window.stillTheSamePage") is True


@pytest.mark.django_db(transaction=True)
def test_staff_complete_two_orders_at_once_from_the_list(live_server, browser_page, carol, alice):
    first, second = (OrderFactory(user=alice, status="In progress") for _ in range(2))
    untouched = OrderFactory(user=alice, status="In progress")
    page = browser_page
    log_in(page, live_server, "carol", "carol-pass-123")
    page.goto(f"{live_server.url}/staff/orders/")
    page.get_by_label(f"Select order #{first.pk}").check()
    page.get_by_label(f"Select order #{second.pk}").check()
    page.get_by_label("What to do with the selected orders").select_option("complete")
    page.get_by_role("button", name="Apply to the selected").click()

    expect(page).to_have_url(re.compile(r"/staff/orders/\?"))
    expect(page.locator(".messages")).to_contain_text("Set Completed: done for 2 order(s).")
    expect(page.locator(f"#order-{first.pk} .status")).to_have_text("Completed")
    expect(page.locator(f"#order-{untouched.pk} .status")).to_have_text("In progress")
    assert set(Order.objects.filter(status="Completed").values_list("pk", flat=True)) == {first.pk, second.pk}
    assert AuditEntry.objects.filter(action="order.set_completed", actor=carol).count() == 2
