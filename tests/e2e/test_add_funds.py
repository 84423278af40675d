"""A customer adds funds in a real browser through the sandbox gateway, and sees the balance go up without
reloading: the notification arrives a moment after the customer is back, as real gateways send it."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import LedgerEntry, User
from payments.models import Payment, PaymentMethod

from .conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_a_customer_adds_funds_through_the_sandbox_gateway_and_the_balance_rises_on_its_own(
        live_server, browser_page, settings):
    settings.SITE_URL = live_server.url
    settings.SANDBOX_GATEWAY_NOTIFY_DELAY = 1.5
    settings.PAYMENT_REFRESH_SECONDS = 0.5
    User.objects.create_user("erin", "erin@example.com", "erin-pass-123")
    PaymentMethod.objects.create(name="Test card", gateway="sandbox", min_amount=Decimal("5"),
                                 fee_percent=Decimal("2"), bonus_percent=Decimal("10"), bonus_from=Decimal("20"))
    page = browser_page

    log_in(page, live_server, "erin", "erin-pass-123")
    expect(page.locator("#nav-balance")).to_contain_text("0.00000")

    page.locator(".balance-card").get_by_role("link", name="Add funds").click()
    page.get_by_label("Test card").check()
    page.locator("#id_amount").press_sequentially("25")
    expect(page.locator("#quote-total")).to_have_text("25.50 USD")
    expect(page.locator("#quote-bonus")).to_have_text("2.50")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/sandbox/gateway/checkout/cs_sandbox_\w+/$"))
    expect(page.get_by_role("heading")).to_have_text("Pay 25.50 USD")
    page.get_by_role("button", name="Pay", exact=True).click()

    expect(page).to_have_url(re.compile(r"/payments/[0-9a-f-]+/\?returned=1$"))
    expect(page.locator("#payment-waiting")).to_contain_text("Waiting for confirmation")
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator("#nav-balance")).to_contain_text("27.50000", timeout=15_000)
    expect(page.locator("#payment-done")).to_contain_text("25.00 USD added to your balance")
    assert page.evaluate("window.stillTheSamePage") is True  # no reload: the page updated itself

    payment = Payment.objects.get()
    assert (payment.status, payment.credited, payment.bonus_credited) == ("paid", Decimal("25"), Decimal("2.5"))
    assert sorted(LedgerEntry.objects.filter(payment=payment).values_list("kind", flat=True)) == ["bonus", "deposit"]


@pytest.mark.django_db(transaction=True)
def test_the_payment_pages_fit_a_phone(live_server, browser_page, settings):
    settings.SITE_URL = live_server.url
    customer = User.objects.create_user("erin", "erin@example.com", "erin-pass-123")
    method = PaymentMethod.objects.create(name="Bank transfer (SEPA, any bank in the euro area)", gateway="manual",
                                          instructions="IBAN DE89370400440532013000, BIC COBADEFFXXX, reference: "
                                                       "your username", min_amount=Decimal("10"))
    payment = Payment.objects.create(user=customer, method=method, gateway="manual", amount=Decimal("1234.56"),
                                     total=Decimal("1234.56"), currency="USD", status="review",
                                     customer_reference="SEPA-2026-12-01-000000123456789")
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "erin", "erin-pass-123")
    expect(page.locator("#nav-balance")).to_be_visible()

    page.goto(f"{live_server.url}/payments/add/")
    page.get_by_label("Bank transfer").check()
    page.locator("#id_amount").press_sequentially("50")
    expect(page.locator(".instructions")).to_contain_text("IBAN DE89")
    for path in ("/payments/add/", "/payments/", f"/payments/{payment.reference}/"):
        if path != "/payments/add/":
            page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    status = page.locator(".status").first
    box = status.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
