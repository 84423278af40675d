"""The sandbox gateway over real HTTP: the panel creates a checkout, the customer presses a button on the
hosted page, and a signed notification (or a fetch of the checkout, when it is lost) settles the payment."""

import json
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command

from accounts.models import LedgerEntry
from payments import services
from payments.models import GatewayEvent, Payment
from sandbox import gateway as sandbox_gateway
from sandbox.models import SandboxCheckout

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live(live_server, settings):
    settings.SITE_URL = live_server.url
    settings.SANDBOX_GATEWAY_NOTIFY_DELAY = 0  # delivered before the button's answer: nothing to wait for here
    return live_server


@pytest.fixture
def card(make_method):
    return make_method("sandbox", name="Test card", min_amount=Decimal("1"), bonus_percent=Decimal("5"),
                       bonus_from=Decimal("20"))


def press(payment, action, *, notify=True):
    """Press a button on the hosted page, as the customer's browser would; the answer is the redirect."""
    fields = {"action": action, "notify": "1" if notify else "0"}
    return requests.post(payment.redirect_url, data=fields, allow_redirects=False, timeout=10)


def test_paying_on_the_hosted_page_credits_the_amount_and_its_bonus_once(live, alice, card):
    payment = services.payment_start(user=alice, method=card, amount=Decimal("25"))
    assert payment.redirect_url.startswith(live.url + "/sandbox/gateway/checkout/")
    assert requests.get(payment.redirect_url, timeout=10).status_code == 200

    answer = press(payment, "pay")

    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/payments/{payment.reference}/?returned=1")
    payment.refresh_from_db()
    alice.refresh_from_db()
    assert (payment.status, payment.credited, payment.bonus_credited) == ("paid", Decimal("25"), Decimal("1.25"))
    assert alice.balance == Decimal("26.25")
    assert sorted(LedgerEntry.objects.filter(payment=payment).values_list("kind", "amount")) == [
        ("bonus", Decimal("1.25000")), ("deposit", Decimal("25.00000"))]
    call_command("check_ledger")


def test_a_notification_sent_again_credits_nothing_more(live, alice, card, monkeypatch):
    sent = []
    original = sandbox_gateway.deliver
    monkeypatch.setattr(sandbox_gateway, "deliver", lambda url, body: (sent.append((url, body)), original(url, body)))
    payment = services.payment_start(user=alice, method=card, amount=Decimal("10"))
    press(payment, "pay")
    url, body = sent[0]

    original(url, body)
    again = requests.post(url, data=body, timeout=10, headers={"Content-Type": "application/json",
                                                               "Sandbox-Signature": sandbox_gateway.sign(body)})

    assert again.status_code == 200
    alice.refresh_from_db()
    assert alice.balance == Decimal("10") and LedgerEntry.objects.filter(payment=payment).count() == 1
    assert GatewayEvent.objects.filter(payment=payment).count() == 1


def test_a_forged_notification_gets_400_and_changes_nothing(live, alice, card):
    payment = services.payment_start(user=alice, method=card, amount=Decimal("10"))
    checkout = SandboxCheckout.objects.get(pk=payment.gateway_ref)
    checkout.status = "paid"
    body = sandbox_gateway.notification(checkout, "checkout.paid")
    forged = sandbox_gateway.sign(body, secret="not-the-secret")

    for signature in (forged, "", "t=1,v1=" + "0" * 64):
        answer = requests.post(f"{live.url}/payments/webhook/sandbox/", data=body, timeout=10,
                               headers={"Content-Type": "application/json", "Sandbox-Signature": signature})
        assert answer.status_code == 400
    payment.refresh_from_db()
    assert payment.status == "pending" and not LedgerEntry.objects.filter(payment=payment).exists()
    assert not GatewayEvent.objects.exists()


def test_a_lost_notification_is_made_good_by_asking_the_gateway(live, alice, card):
    payment = services.payment_start(user=alice, method=card, amount=Decimal("10"))
    press(payment, "pay", notify=False)
    payment.refresh_from_db()
    assert payment.status == "pending"

    assert services.payment_check(payment.pk, min_gap_seconds=0).startswith("credited")
    assert services.payment_check(payment.pk, min_gap_seconds=0) == "skipped"  # no longer pending
    alice.refresh_from_db()
    assert alice.balance == Decimal("10") and LedgerEntry.objects.filter(payment=payment).count() == 1


def test_the_beat_task_settles_overdue_payments_and_leaves_fresh_ones(live, alice, card, settings):
    overdue = services.payment_start(user=alice, method=card, amount=Decimal("10"))
    fresh = services.payment_start(user=alice, method=card, amount=Decimal("20"))
    press(overdue, "pay", notify=False)
    press(fresh, "pay", notify=False)
    Payment.objects.filter(pk=overdue.pk).update(created_at=overdue.created_at - _seconds(settings.PAYMENT_CHECK_AFTER_SECONDS + 1))

    assert services.payments_reconcile() == {"credited 10.00000": 1}
    assert Payment.objects.get(pk=overdue.pk).status == "paid"
    assert Payment.objects.get(pk=fresh.pk).status == "pending"


def test_failing_on_the_hosted_page_fails_the_payment_and_credits_nothing(live, alice, card):
    payment = services.payment_start(user=alice, method=card, amount=Decimal("10"))
    press(payment, "fail")
    payment.refresh_from_db()
    alice.refresh_from_db()
    assert payment.status == "failed" and alice.balance == 0


def test_an_abandoned_payment_expires_once_past_its_time(live, alice, card):
    payment = services.payment_start(user=alice, method=card, amount=Decimal("10"))
    answer = press(payment, "abandon")
    assert answer.headers["Location"].endswith("?canceled=1")
    Payment.objects.filter(pk=payment.pk).update(expires_at=payment.created_at)
    SandboxCheckout.objects.filter(pk=payment.gateway_ref).update(expires_at=payment.created_at)

    assert services.payment_check(payment.pk, min_gap_seconds=0) == "expired"
    payment.refresh_from_db()
    assert payment.status == "expired"


def test_a_refund_at_the_gateway_takes_the_money_back_even_below_zero(live, alice, carol, card, settings):
    from accounts.services import wallet_adjust

    payment = services.payment_start(user=alice, method=card, amount=Decimal("20"))
    press(payment, "pay")
    wallet_adjust(user=alice, amount=Decimal("-15"), note="spent", created_by=carol)

    answer = requests.post(f"{live.url}/sandbox/gateway/v1/checkouts/{payment.gateway_ref}/refund", timeout=10,
                           data=json.dumps({}), headers={"Authorization": f"Bearer {settings.SANDBOX_GATEWAY_KEY}"})

    assert answer.status_code == 200
    payment.refresh_from_db()
    alice.refresh_from_db()
    assert (payment.status, payment.taken_back) == ("refunded", Decimal("21"))  # the bonus goes with it
    assert alice.balance == Decimal("-15") and alice.flagged_at is not None
    call_command("check_ledger")


def test_the_gateway_api_refuses_a_wrong_key(live):
    answer = requests.post(f"{live.url}/sandbox/gateway/v1/checkouts", json={}, timeout=10,
                           headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401


def _seconds(n):
    from datetime import timedelta

    return timedelta(seconds=n)
