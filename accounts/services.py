"""Writes on accounts. Each function is one use case in one transaction."""

import secrets
from decimal import Decimal

from django.db import transaction

from .models import LedgerEntry, User
from .money import money_str, to_money


@transaction.atomic
def user_ensure(*, username: str, password: str, is_staff: bool = False, email: str = "") -> User:
    """Create the user, or bring an existing one back to the given password and role (demo data)."""
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.is_staff = is_staff
    user.is_superuser = is_staff
    user.is_active = True
    if email:
        user.email = email
    user.set_password(password)
    user.save()
    return user


class InsufficientFunds(Exception):
    """The balance does not cover the amount."""


def _move(*, user_id: int, amount: Decimal, kind: str, note: str = "", created_by=None, order=None) -> LedgerEntry:
    """Change a balance by `amount` and write its ledger row. Runs inside the caller's transaction.

    The row lock (PostgreSQL) or SQLite's IMMEDIATE write lock serialises concurrent changes of one balance,
    so two orders can never both spend the same money.
    """
    amount = to_money(amount)
    balance = User.objects.select_for_update().values_list("balance", flat=True).get(pk=user_id)
    new_balance = balance + amount
    if new_balance < 0:
        raise InsufficientFunds(f"balance {money_str(balance)} does not cover {money_str(-amount)}")
    User.objects.filter(pk=user_id).update(balance=new_balance)
    return LedgerEntry.objects.create(
        user_id=user_id, kind=kind, amount=amount, balance_after=new_balance, note=note[:255],
        created_by=created_by, order=order,
    )


def wallet_charge_order(*, order) -> LedgerEntry:
    """Debit an order's charge. Raises InsufficientFunds; the caller's transaction then rolls back."""
    return _move(user_id=order.user_id, amount=-order.charge, kind=LedgerEntry.Kind.CHARGE,
                 note=f"Order #{order.pk}", order=order)


def wallet_refund_order(*, order, amount: Decimal, note: str) -> LedgerEntry:
    """Credit a refund for an order. The unique constraint refuses a second refund of the same order."""
    return _move(user_id=order.user_id, amount=amount, kind=LedgerEntry.Kind.REFUND, note=note, order=order)


@transaction.atomic
def wallet_deposit(*, user: User, amount: Decimal, note: str = "", created_by: User | None = None) -> LedgerEntry:
    amount = to_money(amount)
    if amount <= 0:
        raise ValueError("a deposit must be a positive amount")
    return _move(user_id=user.pk, amount=amount, kind=LedgerEntry.Kind.DEPOSIT, note=note, created_by=created_by)


@transaction.atomic
def wallet_adjust(*, user: User, amount: Decimal, note: str, created_by: User) -> LedgerEntry:
    """A staff correction, either way. Cannot take a balance below zero."""
    if not note.strip():
        raise ValueError("a staff adjustment needs a note saying why")
    return _move(user_id=user.pk, amount=amount, kind=LedgerEntry.Kind.ADJUSTMENT, note=note, created_by=created_by)


@transaction.atomic
def customer_create(*, username: str, email: str, password: str) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise ValueError(f"the username {username!r} is taken")
    return User.objects.create_user(username=username, email=email, password=password)


def api_key_rotate(*, user: User) -> str:
    """Give the user a new API key; the old one stops working at once."""
    key = secrets.token_hex(16)
    User.objects.filter(pk=user.pk).update(api_key=key)
    user.api_key = key
    return key


def api_key_get_or_create(*, user: User) -> str:
    user.refresh_from_db(fields=["api_key"])
    return user.api_key or api_key_rotate(user=user)
