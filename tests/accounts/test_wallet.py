from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import LedgerEntry, User
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


def test_the_database_refuses_a_negative_balance(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=alice.pk).update(balance=Decimal("-1"))


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
