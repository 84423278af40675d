"""The payments back office: methods, the payments list with its filters, a payment's events, decisions, totals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from payments import services
from payments.gateways.base import Notice, Outcome
from payments.models import GatewayEvent, Payment, PaymentMethod

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


@pytest.fixture
def card(make_method):
    return make_method("sandbox", name="Test card")


@pytest.fixture
def bank(make_method):
    return make_method("manual", name="Bank transfer", instructions="IBAN DE00")


@pytest.fixture
def transfer(alice, bank, make_payment):
    return make_payment(alice, bank, amount="40.00", status="review", gateway_ref="", redirect_url="",
                        customer_reference="TX-1")


def staff_urls(payment, method):
    return [reverse("staff_payments:list"), reverse("staff_payments:totals"), reverse("staff_payments:methods"),
            reverse("staff_payments:method_add"), reverse("staff_payments:method_edit", args=[method.pk]),
            reverse("staff_payments:detail", args=[payment.pk])]


def test_every_payments_staff_page_refuses_customers_and_sends_visitors_to_log_in(client, alice, transfer, bank):
    for url in staff_urls(transfer, bank):
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login")), url
    client.force_login(alice)
    for url in staff_urls(transfer, bank):
        assert client.get(url).status_code == 403, url
    for name in ("approve", "reject"):
        assert client.post(reverse(f"staff_payments:{name}", args=[transfer.pk]), {"reason": "x"}).status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == "review"


def test_staff_see_every_payments_staff_page(staff, transfer, bank):
    for url in staff_urls(transfer, bank):
        response = staff.get(url)
        assert response.status_code == 200 and b"<h1>" in response.content, url


def test_staff_add_a_method_with_limits_a_fee_and_a_bonus(staff):
    response = staff.post(reverse("staff_payments:method_add"), {
        "name": "USDT", "gateway": "sandbox", "enabled": "on", "min_amount": "10", "max_amount": "1000",
        "fee_percent": "1.5", "bonus_percent": "5", "bonus_from": "100", "instructions": "", "display_order": "2"})
    assert response.status_code == 302 and response["Location"] == reverse("staff_payments:methods")
    method = PaymentMethod.objects.get()
    assert (method.name, method.min_amount, method.fee_percent, method.bonus_from) == (
        "USDT", Decimal("10"), Decimal("1.5"), Decimal("100"))


@pytest.mark.parametrize(("fields", "field"), [
    ({"min_amount": "-1"}, "min_amount"),
    ({"min_amount": "50", "max_amount": "10"}, "max_amount"),
    ({"fee_percent": "150"}, "fee_percent"),
    ({"gateway": "manual", "instructions": " "}, "instructions"),
    ({"gateway": "paypal"}, "gateway"),
])
def test_a_bad_method_is_refused_next_to_its_field(staff, fields, field):
    data = {"name": "X", "gateway": "sandbox", "enabled": "on", "min_amount": "0", "max_amount": "",
            "fee_percent": "0", "bonus_percent": "0", "bonus_from": "0", "instructions": "", "display_order": "0",
            **fields}
    response = staff.post(reverse("staff_payments:method_add"), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not PaymentMethod.objects.exists()


def test_a_method_of_a_gateway_without_its_keys_is_marked_not_configured(staff, make_method):
    make_method("stripe", name="Stripe card")
    html = staff.get(reverse("staff_payments:methods")).content.decode()
    assert "not configured" in html


def test_the_list_filters_by_method_status_customer_and_date(staff, alice, bob, card, bank, transfer, make_payment):
    old = make_payment(bob, card, amount="15.00", status="paid", gateway_ref="o")
    Payment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    fresh = make_payment(bob, card, amount="16.00", gateway_ref="f")

    def shown(**query):
        page = staff.get(reverse("staff_payments:list"), query).context["page"]
        return {payment.pk for payment in page}

    assert shown() == {old.pk, fresh.pk, transfer.pk}
    assert shown(method=bank.pk) == {transfer.pk}
    assert shown(status="paid") == {old.pk}
    assert shown(customer="BOB") == {old.pk, fresh.pk}
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert shown(date_from=since) == {fresh.pk, transfer.pk}
    assert shown(date_to=since) == {old.pk}
    response = staff.get(reverse("staff_payments:list"), {"date_from": "yesterday"})
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()


def test_a_payment_page_shows_its_events_without_secrets(staff, alice, card, make_payment):
    payment = make_payment(alice, card, gateway_ref="cs_1")
    services.notice_apply(gateway="sandbox", notice=Notice(
        event_id="evt_1", outcome=Outcome.PAID, reference=str(payment.reference), amount=Decimal("10"), currency="USD",
        kind="checkout.paid", payload={"data": {"client_secret": "pi_secret_abc", "name": "<script>x</script>"}}))
    html = staff.get(reverse("staff_payments:detail", args=[payment.pk])).content.decode()
    assert "checkout.paid" in html and "credited 10.00000" in html
    assert "pi_secret_abc" not in html and "[removed]" in html
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html


def test_staff_approve_a_transfer_from_its_page(staff, alice, transfer):
    response = staff.post(reverse("staff_payments:approve", args=[transfer.pk]), {"amount": "", "note": "seen"})
    assert response["Location"] == reverse("staff_payments:detail", args=[transfer.pk])
    alice.refresh_from_db()
    assert alice.balance == Decimal("40")
    html = staff.get(response["Location"]).content.decode()
    assert "approved by carol" in html
    again = staff.post(reverse("staff_payments:approve", args=[transfer.pk]), follow=True)
    assert "Only a payment under review can be approved." in again.content.decode()
    assert LedgerEntry.objects.filter(payment=transfer).count() == 1


def test_staff_reject_a_transfer_with_a_reason(staff, alice, transfer):
    refused = staff.post(reverse("staff_payments:reject", args=[transfer.pk]), {"reason": ""}, follow=True)
    assert "Say why" in refused.content.decode()
    staff.post(reverse("staff_payments:reject", args=[transfer.pk]), {"reason": "nothing arrived"})
    transfer.refresh_from_db()
    assert transfer.status == "failed" and GatewayEvent.objects.filter(payment=transfer, kind="rejected").exists()


def test_a_bad_amount_to_approve_is_refused_and_nothing_is_credited(staff, alice, transfer):
    response = staff.post(reverse("staff_payments:approve", args=[transfer.pk]), {"amount": "lots"}, follow=True)
    assert "Enter the amount to credit" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.status == "review" and not LedgerEntry.objects.exists()


def test_totals_add_credited_payments_per_method_and_day(staff, alice, card, bank, make_payment):
    now = timezone.now()
    for amount, method, days_ago, status in [("10.10", card, 0, "paid"), ("20.20", card, 0, "refunded"),
                                             ("30.00", bank, 1, "paid"), ("99.00", card, 0, "pending"),
                                             ("5.00", card, 40, "paid")]:
        payment = make_payment(alice, method, amount=amount, status=status, gateway_ref=f"t{amount}",
                               credited=Decimal(amount))
        Payment.objects.filter(pk=payment.pk).update(paid_at=None if status == "pending" else now - timedelta(days=days_ago))
    context = staff.get(reverse("staff_payments:totals")).context
    by_method = {row["method__name"]: (row["count"], row["credited"]) for row in context["methods"]}
    assert by_method == {"Test card": (2, Decimal("30.30")), "Bank transfer": (1, Decimal("30.00"))}
    assert [(row["method__name"], row["count"]) for row in context["days"]] == [("Test card", 2), ("Bank transfer", 1)]
