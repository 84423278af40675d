from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import LedgerEntry
from accounts.services import InsufficientFunds, wallet_adjust, wallet_deposit

pytestmark = pytest.mark.django_db


def test_a_deposit_raises_the_balance_and_writes_one_ledger_row(alice, carol):
    entry = wallet_deposit(user=alice, amount=Decimal("25.5"), note="bank transfer", created_by=carol)
    alice.refresh_from_db()
    assert alice.balance == Decimal("25.50000")
    assert (entry.kind, entry.amount, entry.balance_after, entry.note, entry.created_by) == (
        "deposit", Decimal("25.50000"), Decimal("25.50000"), "bank transfer", carol)


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_a_deposit_must_be_positive(alice, amount):
    with pytest.raises(ValueError):
        wallet_deposit(user=alice, amount=Decimal(amount))
    assert LedgerEntry.objects.count() == 0


def test_a_float_is_refused_as_money(alice):
    with pytest.raises(TypeError):
        wallet_deposit(user=alice, amount=0.1)


def test_a_staff_adjustment_cannot_take_the_balance_below_zero(alice, carol):
    wallet_deposit(user=alice, amount=Decimal("5"))
    with pytest.raises(InsufficientFunds):
        wallet_adjust(user=alice, amount=Decimal("-6"), note="chargeback", created_by=carol)
    alice.refresh_from_db()
    assert alice.balance == Decimal("5") and LedgerEntry.objects.count() == 1


def test_a_staff_adjustment_needs_a_note(alice, carol):
    with pytest.raises(ValueError):
        wallet_adjust(user=alice, amount=Decimal("1"), note=" ", created_by=carol)


def test_ledger_rows_are_append_only(alice):
    entry = wallet_deposit(user=alice, amount=Decimal("1"))
    entry.note = "changed"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()


def test_a_second_refund_of_an_order_is_refused_and_leaves_the_balance_as_it_was(alice):
    from accounts.services import wallet_refund_order
    from tests.factories import OrderFactory

    order = OrderFactory(user=alice)
    with transaction.atomic():
        wallet_refund_order(order=order, amount=Decimal("1.5"), note="partial")
    with pytest.raises(IntegrityError), transaction.atomic():
        wallet_refund_order(order=order, amount=Decimal("1.5"), note="again")
    alice.refresh_from_db()
    assert alice.balance == Decimal("1.5")
    assert list(LedgerEntry.objects.filter(user=alice).values_list("kind", "amount", "balance_after")) == [
        ("refund", Decimal("1.5"), Decimal("1.5"))]


def test_a_charge_the_balance_does_not_cover_changes_nothing(alice):
    from accounts.services import wallet_charge_order
    from tests.factories import OrderFactory

    wallet_deposit(user=alice, amount=Decimal("1"))
    order = OrderFactory(user=alice, charge=Decimal("2"))
    with pytest.raises(InsufficientFunds, match="1.00000 does not cover 2.00000"), transaction.atomic():
        wallet_charge_order(order=order)
    alice.refresh_from_db()
    assert alice.balance == Decimal("1") and not LedgerEntry.objects.filter(kind="charge").exists()


def test_many_refunds_at_once_raise_each_balance_once_and_chain_the_ledger_rows(alice, bob):
    from accounts.services import wallet_refund_orders
    from tests.factories import OrderFactory

    wallet_deposit(user=alice, amount=Decimal("10"))
    a1, a2, b1 = OrderFactory(user=alice), OrderFactory(user=alice), OrderFactory(user=bob)
    wallet_deposit(user=alice, amount=Decimal("6"))
    wallet_deposit(user=bob, amount=Decimal("2"))
    with transaction.atomic():
        wallet_refund_orders([(b1.pk, bob.pk, Decimal("2"), "b1"), (a2.pk, alice.pk, Decimal("0.5"), "a2"),
                              (a1.pk, alice.pk, Decimal("1"), "a1")])
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.balance, bob.balance) == (Decimal("17.5"), Decimal("4"))
    refunds = LedgerEntry.objects.filter(kind="refund").order_by("id")
    assert [(e.user_id, e.order_id, e.amount, e.balance_after) for e in refunds] == [
        (alice.pk, a1.pk, Decimal("1"), Decimal("17")), (alice.pk, a2.pk, Decimal("0.5"), Decimal("17.5")),
        (bob.pk, b1.pk, Decimal("2"), Decimal("4"))]
    assert list(LedgerEntry.objects.filter(user=alice).values_list("balance_after", flat=True))[0] == alice.balance


def test_a_batch_of_refunds_with_one_already_refunded_order_writes_nothing(alice):
    from accounts.services import wallet_refund_order, wallet_refund_orders
    from tests.factories import OrderFactory

    first, second = OrderFactory(user=alice), OrderFactory(user=alice)
    with transaction.atomic():
        wallet_refund_order(order=first, amount=Decimal("1"), note="once")
    with pytest.raises(IntegrityError), transaction.atomic():
        wallet_refund_orders([(second.pk, alice.pk, Decimal("1"), "fine"), (first.pk, alice.pk, Decimal("1"), "twice")])
    alice.refresh_from_db()
    assert alice.balance == Decimal("1") and LedgerEntry.objects.filter(kind="refund").count() == 1
    with pytest.raises(ValueError, match="positive"), transaction.atomic():
        wallet_refund_orders([(second.pk, alice.pk, Decimal("0"), "nothing")])
