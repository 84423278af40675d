"""The ledger's side of payments: what may take a balance below zero, exact sums, and check_ledger."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from accounts.models import LedgerEntry
from accounts.money import MoneySum
from accounts.services import (
    InsufficientFunds,
    wallet_adjust,
    wallet_credit_payment,
    wallet_deposit,
    wallet_take_back_payment,
)
from orders.services import OrderRefused, order_place
from payments.models import Payment
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(alice, make_method, make_payment):
    """alice's paid 20.00 top-up, credited."""
    payment = make_payment(alice, make_method("sandbox"), amount="20.00", status="paid", credited=Decimal("20"))
    with transaction.atomic():
        wallet_credit_payment(user_id=alice.pk, payment_id=payment.pk, amount=Decimal("20"), kind="deposit", note="x")
    return payment


def test_a_gateway_taking_a_payment_back_takes_the_balance_below_zero_with_its_ledger_row(alice, carol, paid):
    wallet_adjust(user=alice, amount=Decimal("-15"), note="spent", created_by=carol)
    Payment.objects.filter(pk=paid.pk).update(taken_back=Decimal("20"), status="refunded")
    with transaction.atomic():
        entry = wallet_take_back_payment(user_id=alice.pk, payment_id=paid.pk, amount=Decimal("20"),
                                         kind="payment_refund", note="refunded")
    alice.refresh_from_db()
    assert alice.balance == Decimal("-15") and entry.balance_after == Decimal("-15")
    call_command("check_ledger")


def test_nothing_else_takes_a_balance_below_zero(alice, carol, paid):
    with pytest.raises(InsufficientFunds):
        wallet_adjust(user=alice, amount=Decimal("-20.00001"), note="too much", created_by=carol)
    alice.refresh_from_db()
    assert alice.balance == Decimal("20")


def test_a_customer_below_zero_cannot_order_and_is_told_why(alice, paid, no_broker):
    service = ServiceFactory()
    with transaction.atomic():
        wallet_take_back_payment(user_id=alice.pk, payment_id=paid.pk, amount=Decimal("25"), kind="dispute", note="x")
    with pytest.raises(OrderRefused) as refused:
        order_place(user=alice, service=service, fields={"link": "https://x.com/a", "quantity": "10"})
    assert "below zero (-5.00000 USD)" in refused.value.message and "Add funds" in refused.value.message
    assert refused.value.api_message == "Not enough funds on balance"


def test_a_payment_is_deposited_once_and_disputed_once(alice, paid):
    with pytest.raises(IntegrityError), transaction.atomic():
        wallet_credit_payment(user_id=alice.pk, payment_id=paid.pk, amount=Decimal("20"), kind="deposit", note="again")
    with transaction.atomic():
        wallet_take_back_payment(user_id=alice.pk, payment_id=paid.pk, amount=Decimal("1"), kind="dispute", note="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        wallet_take_back_payment(user_id=alice.pk, payment_id=paid.pk, amount=Decimal("1"), kind="dispute", note="x")
    assert LedgerEntry.objects.filter(payment=paid).count() == 2


def test_money_sum_is_exact_where_sqlite_adds_floats(alice, no_broker):
    """The operator's case: eight orders drain a balance to 0.00500; SQLite's SUM() said 0.00499999999999901."""
    service = ServiceFactory(rate=Decimal("12600"), min_quantity=1, provider_service__min_quantity=1)
    wallet_deposit(user=alice, amount=Decimal("100.80500"))
    for n in range(8):
        order_place(user=alice, service=service, fields={"link": f"https://x.com/{n}", "quantity": "1"})
    alice.refresh_from_db()
    assert alice.balance == Decimal("0.00500")

    ledger = LedgerEntry.objects.filter(user=alice)
    assert ledger.aggregate(total=MoneySum("amount"))["total"] == Decimal("0.00500")
    if connection.vendor == "sqlite":  # the float sum that check_ledger used to compare against
        assert ledger.aggregate(total=Sum("amount"))["total"] != Decimal("0.00500")
    call_command("check_ledger")


def test_check_ledger_names_a_payment_credited_twice_over_and_one_credited_unpaid(alice, paid, make_payment, capsys):
    Payment.objects.filter(pk=paid.pk).update(credited=Decimal("40"))
    with pytest.raises(CommandError):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert f"payment #{paid.pk} of alice: credited 40.00000 but the ledger deposited 20.00000" in err


def test_check_ledger_names_a_pending_payment_with_a_deposit(alice, make_method, make_payment, capsys):
    payment = make_payment(alice, make_method("sandbox"), gateway_ref="p2")
    with transaction.atomic():
        wallet_credit_payment(user_id=alice.pk, payment_id=payment.pk, amount=Decimal("5"), kind="deposit", note="x")
    Payment.objects.filter(pk=payment.pk).update(credited=Decimal("5"))
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert f"payment #{payment.pk} of alice: pending but credited 5.00000" in capsys.readouterr().err


def test_a_customer_below_zero_is_told_on_the_dashboard(client, alice, paid):
    with transaction.atomic():
        wallet_take_back_payment(user_id=alice.pk, payment_id=paid.pk, amount=Decimal("25"), kind="dispute", note="x")
    client.force_login(alice)
    html = client.get("/accounts/").content.decode()
    assert "-5.00000 USD" in html and "Your balance is below zero" in html and "below-zero" in html
