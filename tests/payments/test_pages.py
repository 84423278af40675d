"""The customer's pages: add funds (with the live quote), the history, a payment's page; and what staff see."""

from decimal import Decimal
from unittest import mock

import pytest
import requests
import responses
from django.urls import reverse

from accounts.models import LedgerEntry
from core.models import StaffNotice
from payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(make_method):
    return make_method("sandbox", name="Test card", min_amount=Decimal("5"), max_amount=Decimal("500"),
                       fee_percent=Decimal("3"), bonus_percent=Decimal("5"), bonus_from=Decimal("100"))


@pytest.fixture
def bank(make_method):
    return make_method("manual", name="Bank transfer", instructions="IBAN DE00 1234 <b>not bold</b>",
                       min_amount=Decimal("10"))


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def sandbox_api():
    """The sandbox gateway's API as the panel calls it, answered without a server."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, "http://127.0.0.1:8000/sandbox/gateway/v1/checkouts",
                 json={"id": "cs_1", "url": "http://127.0.0.1:8000/sandbox/gateway/checkout/cs_1/",
                       "status": "open", "expires_at": 4102444800})
        yield rsps


def test_add_funds_lists_the_methods_on_offer_and_not_the_disabled_or_unconfigured(logged_in, card, bank,
                                                                                     make_method):
    make_method("sandbox", name="Old card", enabled=False)
    make_method("stripe", name="Stripe card")  # STRIPE_SECRET_KEY is not set in the tests
    html = logged_in.get(reverse("payments:add")).content.decode()
    assert "Test card" in html and "Bank transfer" in html
    assert "Old card" not in html and "Stripe card" not in html
    assert "fee 3%" in html and "bonus 5% from 100.00" in html


def test_the_live_quote_shows_the_fee_and_the_bonus_before_paying(logged_in, card):
    html = logged_in.get(reverse("payments:quote"), {"method": card.pk, "amount": "200"}).content.decode()
    assert "You pay" in html and "206.00 USD" in html and "(200.00 + fee 6.00)" in html
    assert "200.00</strong> + <strong id=\"quote-bonus\">10.00</strong> bonus" in html


@pytest.mark.parametrize(("amount", "problem"), [
    ("2", "The least you can add with Test card is 5.00 USD."),
    ("501", "The most you can add with Test card at once is 500.00 USD."),
    ("10.005", "Use at most 2 decimal places."),
    ("-3", "Enter an amount above zero."),
    ("ten", "Enter an amount such as 25 or 25.50."),
    ("1e999999", "That amount is too large."),
    ("NaN", "Enter an amount above zero."),
])
def test_the_live_quote_says_what_is_wrong_with_an_amount(logged_in, card, amount, problem):
    html = logged_in.get(reverse("payments:quote"), {"method": card.pk, "amount": amount}).content.decode()
    assert problem in html


def test_the_manual_method_shows_its_instructions_escaped_and_asks_for_the_reference(logged_in, bank):
    html = logged_in.get(reverse("payments:quote"), {"method": bank.pk, "amount": "50"}).content.decode()
    assert "IBAN DE00 1234 &lt;b&gt;not bold&lt;/b&gt;" in html and 'name="reference"' in html


def test_paying_sends_the_customer_to_the_gateways_page_and_credits_nothing_yet(logged_in, alice, card, sandbox_api):
    response = logged_in.post(reverse("payments:add"), {"method": card.pk, "amount": "100"})
    payment = Payment.objects.get()
    assert response.status_code == 302 and response["Location"] == "http://127.0.0.1:8000/sandbox/gateway/checkout/cs_1/"
    assert (payment.status, payment.total, payment.bonus, payment.gateway_ref) == (
        "pending", Decimal("103"), Decimal("5"), "cs_1")
    alice.refresh_from_db()
    assert alice.balance == 0 and not LedgerEntry.objects.exists()


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"amount": "100"}, "method", "Choose how you pay."),
    ({"method": "999", "amount": "100"}, "method", "Choose a payment method that is available."),
    ({"method": "card", "amount": ""}, "amount", "Enter the amount to add."),
    ({"method": "card", "amount": "4.99"}, "amount", "The least you can add with Test card is 5.00 USD."),
])
def test_a_bad_add_funds_form_says_why_next_to_the_field_and_makes_nothing(logged_in, card, fields, field, message):
    fields = {**fields, "method": card.pk} if fields.get("method") == "card" else fields
    response = logged_in.post(reverse("payments:add"), fields)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["1e999999", "1000000000000", "9" * 40])
def test_an_absurd_amount_is_refused_with_a_message_not_an_error(logged_in, card, amount):
    response = logged_in.post(reverse("payments:add"), {"method": card.pk, "amount": amount})
    assert response.status_code == 200 and not Payment.objects.exists()
    assert response.context["form"].errors["amount"]


def test_a_gateway_that_does_not_answer_leaves_a_failed_payment_and_a_clear_message(logged_in, card):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, "http://127.0.0.1:8000/sandbox/gateway/v1/checkouts", body=requests.ConnectionError("down"))
        response = logged_in.post(reverse("payments:add"), {"method": card.pk, "amount": "100"})
    assert "did not take the payment just now, and nothing was charged" in response.content.decode()
    payment = Payment.objects.get()
    assert payment.status == "failed" and not payment.redirect_url


def test_a_manual_payment_needs_a_reference_and_then_waits_for_staff(logged_in, alice, bank):
    response = logged_in.post(reverse("payments:add"), {"method": bank.pk, "amount": "50"})
    assert "Give the reference of your transfer" in response.content.decode() and not Payment.objects.exists()

    response = logged_in.post(reverse("payments:add"), {"method": bank.pk, "amount": "50", "reference": "TX-991"})
    payment = Payment.objects.get()
    assert response["Location"] == reverse("payments:detail", args=[payment.reference])
    assert (payment.status, payment.customer_reference) == ("review", "TX-991")
    assert StaffNotice.objects.filter(subject__startswith=f"Payment #{payment.pk} to check").exists()
    html = logged_in.get(response["Location"]).content.decode()
    assert "Staff will check your transfer" in html


def test_the_history_lists_only_the_customers_own_payments(logged_in, alice, bob, card, make_payment):
    mine = make_payment(alice, card, amount="25.00", status="paid", gateway_ref="a")
    make_payment(bob, card, amount="77.00", gateway_ref="b")
    html = logged_in.get(reverse("payments:history")).content.decode()
    assert f"payment-{mine.pk}" in html and "25.00 USD" in html and "Paid" in html
    assert "77.00" not in html


def test_a_payment_page_is_its_customers_only(client, alice, bob, card, make_payment):
    payment = make_payment(alice, card)
    client.force_login(bob)
    assert client.get(reverse("payments:detail", args=[payment.reference])).status_code == 404
    assert client.get(reverse("payments:detail_live", args=[payment.reference])).status_code == 404


def test_the_return_page_waits_for_confirmation_and_never_credits(logged_in, alice, card, make_payment):
    payment = make_payment(alice, card)
    for _ in range(3):
        html = logged_in.get(reverse("payments:detail", args=[payment.reference]), {"returned": "1"}).content.decode()
    assert "Waiting for confirmation" in html and 'hx-trigger="every 3.0s"' in html
    payment.refresh_from_db()
    alice.refresh_from_db()
    assert payment.status == "pending" and alice.balance == 0 and not LedgerEntry.objects.exists()


def test_the_live_part_stops_refreshing_once_paid_and_updates_the_balance_in_the_menu(logged_in, alice, card,
                                                                                      make_payment):
    from payments.gateways.base import Notice, Outcome
    from payments.services import notice_apply

    payment = make_payment(alice, card)
    notice_apply(gateway="sandbox", notice=Notice(event_id="e1", outcome=Outcome.PAID, reference=str(payment.reference),
                                                   amount=Decimal("10"), currency="USD"))
    html = logged_in.get(reverse("payments:detail_live", args=[payment.reference])).content.decode()
    assert "hx-trigger" not in html and "10.00 USD</strong> added to your balance" in html
    assert 'id="nav-balance"' in html and 'hx-swap-oob="true"' in html and "10.00000 USD" in html


def test_a_slow_webhook_has_the_gateway_asked_from_the_return_page(logged_in, alice, card, make_payment):
    from django.core.cache import cache

    cache.clear()
    payment = make_payment(alice, card)
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at.replace(year=2020))
    with mock.patch("payments.tasks.check_payment.apply_async") as check:
        for _ in range(3):  # refreshes every few seconds: one message, not one each
            logged_in.get(reverse("payments:detail_live", args=[payment.reference]))
    check.assert_called_once_with((payment.pk, 15), retry=False)


def test_pages_ask_anonymous_visitors_to_log_in(client, alice, card, make_payment):
    payment = make_payment(alice, card)
    for url in (reverse("payments:add"), reverse("payments:history"), reverse("payments:detail", args=[payment.reference])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_transactions_page_links_a_deposit_to_its_payment(logged_in, alice, card, make_payment):
    from payments.gateways.base import Notice, Outcome
    from payments.services import notice_apply

    payment = make_payment(alice, card)
    notice_apply(gateway="sandbox", notice=Notice(event_id="e1", outcome=Outcome.PAID, reference=str(payment.reference),
                                                   amount=Decimal("10"), currency="USD"))
    html = logged_in.get(reverse("transactions")).content.decode()
    assert "Deposit" in html and f'href="{reverse("payments:detail", args=[payment.reference])}"' in html


def test_our_own_error_while_creating_a_payment_fails_it_with_a_message(logged_in, card):
    with mock.patch("payments.gateways.sandbox.SandboxGateway.create", side_effect=KeyError("bug")):
        response = logged_in.post(reverse("payments:add"), {"method": card.pk, "amount": "100"})
    assert response.status_code == 200 and "nothing was charged" in response.content.decode()
    assert Payment.objects.get().status == "failed"
