"""What a gateway's notice does to a payment and the ledger, the same for every gateway: credit once, put
what does not add up before staff, take refunds and disputes back, expire and settle what the webhook missed."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from core.models import StaffNotice
from payments import services
from payments.gateways.base import Notice, Outcome
from payments.models import GatewayEvent, Payment
from sandbox.gateway import sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(make_method):
    return make_method("sandbox", bonus_percent=Decimal("10"), bonus_from=Decimal("50"))


@pytest.fixture
def payment(alice, card, make_payment):
    """alice's pending top-up of 100.00 + 2.00 fee, with a 10.00 bonus promised."""
    return make_payment(alice, card, amount="100.00", fee="2.00", bonus="10.00", gateway_ref="cs_1")


def notice(payment, outcome=Outcome.PAID, *, event_id="evt_1", **fields):
    fields.setdefault("amount", payment.total)
    fields.setdefault("currency", payment.currency)
    return Notice(event_id=event_id, outcome=outcome, reference=str(payment.reference), gateway_ref="cs_1",
                  kind=f"checkout.{outcome}", **fields)


def apply(payment, outcome=Outcome.PAID, **fields):
    result = services.notice_apply(gateway="sandbox", notice=notice(payment, outcome, **fields))
    payment.refresh_from_db()
    payment.user.refresh_from_db()
    return result


def ledger(payment):
    return sorted(LedgerEntry.objects.filter(payment=payment).values_list("kind", "amount"))


def test_a_paid_notice_credits_the_amount_asked_and_the_bonus_in_one_go(payment):
    assert apply(payment) == "credited 100.00000 and a bonus of 10.00000"
    assert (payment.status, payment.credited, payment.bonus_credited) == ("paid", Decimal("100"), Decimal("10"))
    assert payment.user.balance == Decimal("110")
    assert ledger(payment) == [("bonus", Decimal("10.00000")), ("deposit", Decimal("100.00000"))]
    call_command("check_ledger")


def test_the_same_notice_again_or_another_saying_paid_credits_nothing_more(payment):
    apply(payment)
    assert apply(payment) == "duplicate: already received"
    assert apply(payment, event_id="evt_2") == "nothing: already credited"
    assert payment.user.balance == Decimal("110") and len(ledger(payment)) == 2
    assert GatewayEvent.objects.count() == 2


def test_the_amount_credited_is_the_one_asked_whatever_the_notice_says_arrived(payment):
    apply(payment, Outcome.PAID, received=Decimal("1000000"))
    assert payment.credited == Decimal("100")


@pytest.mark.parametrize(("amount", "currency"), [("101.99", "USD"), ("102.01", "USD"), ("102.00", "EUR"), (None, "USD")])
def test_an_amount_or_currency_that_does_not_match_goes_before_staff_uncredited(payment, amount, currency):
    result = apply(payment, amount=None if amount is None else Decimal(amount), currency=currency)
    assert result.startswith("before staff") and payment.status == "review"
    assert payment.user.balance == 0 and not ledger(payment)
    assert StaffNotice.objects.filter(subject=f"Payment #{payment.pk} of alice needs a decision").exists()


def test_a_notice_for_a_payment_nobody_knows_is_kept_and_shown_to_staff(payment):
    stranger = Notice(event_id="evt_x", outcome=Outcome.PAID, reference="not-a-uuid", gateway_ref="cs_999",
                      amount=Decimal("5"), currency="USD")
    assert services.notice_apply(gateway="sandbox", notice=stranger) == "before staff: no payment here answers to it"
    assert GatewayEvent.objects.get().payment is None
    assert StaffNotice.objects.filter(level="error", subject__contains="does not know").exists()
    assert not LedgerEntry.objects.exists()


def test_a_paid_notice_after_the_payment_failed_or_expired_goes_before_staff(payment):
    apply(payment, Outcome.EXPIRED, event_id="evt_0")
    assert payment.status == "expired"
    assert apply(payment).startswith("before staff")
    assert payment.status == "review" and not ledger(payment)


def test_a_paid_notice_for_a_refunded_payment_credits_nothing(payment):
    apply(payment)
    apply(payment, Outcome.REFUNDED, event_id="evt_r", refunded=payment.total)
    assert payment.status == "refunded"
    assert apply(payment, event_id="evt_again").startswith("before staff")
    assert payment.user.balance == 0 and payment.status == "refunded"
    assert StaffNotice.objects.filter(subject__contains="the gateway says paid after it was refunded").exists()


def test_an_underpayment_credits_the_share_that_arrived_without_the_bonus(payment):
    apply(payment, Outcome.PARTIAL, received=Decimal("51.00"))  # half of 102.00
    assert (payment.status, payment.credited, payment.bonus_credited) == ("paid", Decimal("50"), Decimal("0"))
    assert "Only 51.00000 of 102.00000 USD arrived" in payment.review_reason
    call_command("check_ledger")


@pytest.mark.parametrize(("outcome", "received"), [(Outcome.PARTIAL, "102.00"), (Outcome.PARTIAL, "150.00"),
                                                  (Outcome.PARTIAL, "-1"), (Outcome.OVERPAID, "102.00"),
                                                  (Outcome.OVERPAID, "90.00"), (Outcome.PARTIAL, None)])
def test_figures_that_contradict_an_under_or_overpayment_go_before_staff(payment, outcome, received):
    result = apply(payment, outcome, received=None if received is None else Decimal(received))
    assert result.startswith("before staff") and payment.status == "review" and not ledger(payment)


def test_an_overpayment_credits_what_was_asked_and_tells_staff_of_the_rest(payment):
    apply(payment, Outcome.OVERPAID, received=Decimal("150.00"))
    assert (payment.credited, payment.bonus_credited) == (Decimal("100"), Decimal("10"))
    assert StaffNotice.objects.filter(subject__contains="overpaid by 48.00000 USD").exists()


def test_a_partial_refund_takes_back_its_share_and_a_later_full_one_the_rest(payment):
    apply(payment)
    apply(payment, Outcome.REFUNDED, event_id="evt_r1", refunded=Decimal("51.00"))
    assert (payment.status, payment.taken_back, payment.user.balance) == ("paid", Decimal("55"), Decimal("55"))
    apply(payment, Outcome.REFUNDED, event_id="evt_r2", refunded=Decimal("102.00"))
    assert (payment.status, payment.taken_back, payment.user.balance) == ("refunded", Decimal("110"), Decimal("0"))
    assert [a for k, a in ledger(payment) if k == "payment_refund"] == [Decimal("-55.00000"), Decimal("-55.00000")]
    assert payment.user.flagged_at is not None
    call_command("check_ledger")


def test_a_dispute_takes_back_what_is_left_once_even_below_zero_and_flags_the_customer(payment, carol):
    from accounts.services import wallet_adjust

    apply(payment)
    wallet_adjust(user=payment.user, amount=Decimal("-100"), note="spent on orders", created_by=carol)
    apply(payment, Outcome.DISPUTED, event_id="evt_d1", refunded=payment.total)
    apply(payment, Outcome.DISPUTED, event_id="evt_d2", refunded=payment.total)
    assert (payment.status, payment.taken_back) == ("disputed", Decimal("110"))
    assert payment.user.balance == Decimal("-100")
    assert "Disputed at the gateway" in payment.user.flag_reason
    assert StaffNotice.objects.filter(subject__contains="money taken back by the gateway").exists()
    call_command("check_ledger")


def test_a_refund_of_a_payment_never_credited_takes_nothing(payment):
    assert apply(payment, Outcome.REFUNDED, refunded=payment.total).startswith("nothing to take back")
    assert payment.user.balance == 0 and not ledger(payment)


def test_failed_and_expired_notices_move_only_a_pending_payment(payment):
    assert apply(payment, Outcome.FAILED, detail="card declined") == "failed"
    assert payment.failure_reason == "card declined"
    assert apply(payment, Outcome.EXPIRED, event_id="evt_2").startswith("nothing")
    assert payment.status == "failed"


def test_staff_approve_a_manual_payment_and_it_is_credited_once(alice, carol, make_method, make_payment):
    bank = make_method("manual", instructions="IBAN", bonus_percent=Decimal("5"))
    payment = make_payment(alice, bank, amount="40.00", bonus="2.00", status="review", gateway_ref="",
                           redirect_url="", customer_reference="TX1")
    services.payment_approve(payment_id=payment.pk, staff=carol)
    with pytest.raises(services.PaymentRefused):
        services.payment_approve(payment_id=payment.pk, staff=carol)
    payment.refresh_from_db()
    alice.refresh_from_db()
    assert (payment.status, payment.reviewed_by, alice.balance) == ("paid", carol, Decimal("42"))
    assert LedgerEntry.objects.get(payment=payment, kind="deposit").created_by == carol
    call_command("check_ledger")


def test_staff_may_credit_what_arrived_instead_and_the_bonus_follows_the_method(alice, carol, make_method,
                                                                               make_payment):
    bank = make_method("manual", instructions="IBAN", bonus_percent=Decimal("5"), bonus_from=Decimal("30"))
    payment = make_payment(alice, bank, amount="40.00", bonus="2.00", status="review", gateway_ref="", redirect_url="")
    services.payment_approve(payment_id=payment.pk, staff=carol, amount=Decimal("20"), note="only 20 arrived")
    payment.refresh_from_db()
    assert (payment.credited, payment.bonus_credited) == (Decimal("20"), Decimal("0"))
    assert "only 20 arrived" in payment.review_reason and "credited 20.00000 of 40.00000 asked" in payment.review_reason


def test_staff_reject_with_a_reason_and_nothing_is_credited(alice, carol, make_method, make_payment):
    bank = make_method("manual", instructions="IBAN")
    payment = make_payment(alice, bank, status="review", gateway_ref="", redirect_url="")
    with pytest.raises(services.PaymentRefused):
        services.payment_reject(payment_id=payment.pk, staff=carol, reason=" ")
    services.payment_reject(payment_id=payment.pk, staff=carol, reason="no such transfer")
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == ("failed", "Rejected: no such transfer")
    with pytest.raises(services.PaymentRefused):
        services.payment_approve(payment_id=payment.pk, staff=carol)
    assert not LedgerEntry.objects.exists()


def test_a_signed_webhook_credits_and_a_forged_one_gets_400(client, payment, caplog, settings):
    body = json.dumps({"id": "evt_w", "type": "checkout.paid", "data": {
        "id": "cs_1", "status": "paid", "amount": "102.00", "currency": "USD", "reference": str(payment.reference)}}).encode()
    url = reverse("payments:webhook", args=["sandbox"])

    forged = client.post(url, body, content_type="application/json", HTTP_SANDBOX_SIGNATURE=sign(body, secret="x"))
    unsigned = client.post(url, body, content_type="application/json")
    assert (forged.status_code, unsigned.status_code) == (400, 400)
    assert not GatewayEvent.objects.exists()
    assert settings.SANDBOX_GATEWAY_SECRET not in caplog.text and "v1=" not in caplog.text

    for _ in range(2):
        assert client.post(url, body, content_type="application/json", HTTP_SANDBOX_SIGNATURE=sign(body)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "paid" and len(ledger(payment)) == 2


def test_a_webhook_for_a_gateway_not_configured_here_is_404(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    assert client.post(reverse("payments:webhook", args=["stripe"]), b"{}", content_type="application/json").status_code == 404
    assert client.post(reverse("payments:webhook", args=["manual"]), b"{}", content_type="application/json").status_code == 404
    assert client.get(reverse("payments:webhook", args=["sandbox"])).status_code == 405


def test_a_payment_that_never_reached_the_gateway_is_failed_by_the_beat_task(alice, card, make_payment, settings):
    stuck = make_payment(alice, card, gateway_ref="", redirect_url="")
    Payment.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert services.payments_reconcile() == {"failed": 1}
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "never reached the gateway" in stuck.failure_reason


def test_a_payment_whose_gateway_cannot_be_asked_expires_after_the_grace(alice, card, make_payment, settings):
    import responses

    payment = make_payment(alice, card, gateway_ref="cs_1")
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(days=3),
                                                 expires_at=timezone.now() - timedelta(days=2))
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, "http://127.0.0.1:8000/sandbox/gateway/v1/checkouts/cs_1", status=502, body="<html>")
        assert services.payment_check(payment.pk, min_gap_seconds=0) == "expired (the gateway could not be asked)"
    payment.refresh_from_db()
    assert payment.status == "expired"


def test_reconcile_payments_prints_what_came_of_each_check(alice, card, make_payment, capsys):
    from django.core.management import call_command

    call_command("reconcile_payments")
    assert "No pending payment is due" in capsys.readouterr().out
    stuck = make_payment(alice, card, gateway_ref="", redirect_url="")
    Payment.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))
    call_command("reconcile_payments")
    assert capsys.readouterr().out.split() == ["1", "failed"]
