"""Writes on accounts. Each function is one use case in one transaction."""

import secrets
from collections.abc import Sequence
from decimal import Decimal

from django.db import connections, router, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from core.bulk import bulk_insert_rows, bulk_update_rows, cast_db_type, concrete_field, pg_array
from core.locks import row_lock
from core.services import audit

from .models import API_KEY_HINT_LENGTH, LedgerEntry, User, api_key_digest
from .money import db_money, money_str, to_money


@transaction.atomic
def user_ensure(*, username: str, password: str, is_staff: bool = False, email: str = "",
                is_superuser: bool | None = None) -> User:
    """Create the user, or bring an existing one back to the given password and role (demo data)."""
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.is_staff = is_staff
    user.is_superuser = is_staff if is_superuser is None else is_superuser
    user.is_active = True
    if email:
        user.email = email
    user.set_password(password)
    user.save()
    return user


class InsufficientFunds(Exception):
    """The balance does not cover the amount. `balance` is the balance as it was (below zero after a gateway
    took a payment back)."""

    def __init__(self, message: str, balance: Decimal):
        super().__init__(message)
        self.balance = balance


def _move(*, user_id: int, amount: Decimal, kind: str, note: str = "", created_by=None, order=None,
          payment_id: int | None = None, may_go_negative: bool = False) -> LedgerEntry:
    """Change a balance by `amount` and write its ledger row. Runs inside the caller's transaction.

    The balance never goes below zero, however many changes of one balance run at once (see _balance_add),
    unless `may_go_negative`: a gateway taking a payment back takes it whatever is left.
    """
    amount = to_money(amount)
    entry = LedgerEntry(user_id=user_id, kind=kind, amount=amount, note=note[:255], created_by=created_by,
                        order=order, payment_id=payment_id, created_at=timezone.now())
    connection = connections[router.db_for_write(User)]
    if connection.vendor == "postgresql" and not connection.get_autocommit():
        return _move_in_one_statement(connection, entry, may_go_negative)
    entry.balance_after = _balance_add(user_id, amount, may_go_negative)
    entry.save(force_insert=True)
    return entry


def _insufficient(user_id: int, amount: Decimal, current: Decimal | None = None) -> InsufficientFunds:
    if current is None:
        current = User.objects.filter(pk=user_id).values_list("balance", flat=True).get()  # or DoesNotExist
    return InsufficientFunds(f"balance {money_str(current)} does not cover {money_str(-amount)}", current)


def _move_in_one_statement(connection, entry: LedgerEntry, may_go_negative: bool) -> LedgerEntry:
    """PostgreSQL: one conditional `UPDATE ... WHERE balance + amount >= 0 RETURNING balance` and the ledger
    INSERT as one statement (`WITH moved AS (UPDATE ...) INSERT ... SELECT ... FROM moved`). The UPDATE takes
    the row lock, and a concurrent change of the same balance waits for it and then re-checks the condition
    against the committed row, so two orders can never both spend the same money; exact `numeric`
    arithmetic. The lock is held for one round trip, which is what concurrent orders of one customer queue on."""
    quote = connection.ops.quote_name
    users, ledger = User._meta, LedgerEntry._meta
    table, pk, balance = quote(users.db_table), quote(users.pk.column), quote(users.get_field("balance").column)
    names = ["user_id", "kind", "amount", "order_id", "payment_id", "note", "created_by_id", "created_at"]
    fields = [concrete_field(ledger, name.removesuffix("_id")) for name in names]
    values = [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields]
    columns = ", ".join(quote(field.column) for field in fields)
    covered, covered_params = ("", []) if may_go_negative else (f" AND {balance} + %s >= 0", [entry.amount])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH moved AS (UPDATE {table} SET {balance} = {balance} + %s WHERE {pk} = %s{covered} "
            f"RETURNING {balance}) "
            f"INSERT INTO {quote(ledger.db_table)} ({columns}, {quote(ledger.get_field('balance_after').column)}) "
            f"SELECT {', '.join(['%s'] * len(values))}, moved.{balance} FROM moved "
            f"RETURNING {quote(ledger.pk.column)}, {quote(ledger.get_field('balance_after').column)}",
            [entry.amount, entry.user_id, *covered_params, *values])
        row = cursor.fetchone()
    if row is None:
        raise _insufficient(entry.user_id, entry.amount)
    entry.pk, entry.balance_after = row
    entry._state.adding, entry._state.db = False, connection.alias
    return entry


def _balance_add(user_id: int, amount: Decimal, may_go_negative: bool = False) -> Decimal:
    """Add `amount` (negative: take) to the balance and return the new balance. Raises InsufficientFunds
    (the balance is left as it was) or User.DoesNotExist. Runs inside the caller's transaction.

    SQLite (PostgreSQL takes _move_in_one_statement): the row is read under the transaction's write lock
    (SQLite's IMMEDIATE transaction already holds it) and the sum is made in Python's Decimal, not in the
    database (SQLite would compute in floats). Plain SQL rather than the ORM: this runs in every order's
    transaction (the lock is held while it runs).
    """
    connection = connections[router.db_for_write(User)]
    if connection.get_autocommit():  # as select_for_update refuses: the ledger row must share the transaction
        raise TransactionManagementError("a balance changes only inside a transaction, with its ledger row")
    quote = connection.ops.quote_name
    table, pk = quote(User._meta.db_table), quote(User._meta.pk.column)
    balance = quote(User._meta.get_field("balance").column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {balance} FROM {table} WHERE {pk} = %s{row_lock(connection)}", [user_id])
        row = cursor.fetchone()
        if row is None:
            raise User.DoesNotExist("User matching query does not exist.")
        current = db_money(row[0])
        new_balance = current + amount
        if new_balance < 0 and not may_go_negative:
            raise _insufficient(user_id, amount, current)
        cursor.execute(f"UPDATE {table} SET {balance} = %s WHERE {pk} = %s", [new_balance, user_id])
        return new_balance


def wallet_charge_order(*, order) -> LedgerEntry:
    """Debit an order's charge. Raises InsufficientFunds; the caller's transaction then rolls back."""
    return _move(user_id=order.user_id, amount=-order.charge, kind=LedgerEntry.Kind.CHARGE,
                 note=f"Order #{order.pk}", order=order)


def wallet_refund_order(*, order, amount: Decimal, note: str) -> LedgerEntry:
    """Credit a refund for an order. The unique constraint refuses a second refund of the same order."""
    return _move(user_id=order.user_id, amount=amount, kind=LedgerEntry.Kind.REFUND, note=note, order=order)


def wallet_refund_orders(refunds: list[tuple[int, int, Decimal, str]]) -> None:
    """Credit many refunds at once, each (order ID, user ID, amount, note): polling's Partial and Canceled
    orders of one batch, in three statements however many there are. Runs inside the caller's transaction.

    The balances are locked in user order (as one by one would), raised once each, and every ledger row
    carries the balance after it, as if the refunds had been written one at a time in (user, order) order.
    The unique constraint refuses a second refund of an order: then nothing of the batch is written.
    """
    if not refunds:
        return
    connection = connections[router.db_for_write(User)]
    if connection.get_autocommit():
        raise TransactionManagementError("a balance changes only inside a transaction, with its ledger row")
    refunds = sorted(refunds, key=lambda refund: (refund[1], refund[0]))
    balances = _lock_balances(connection, sorted({user_id for _, user_id, _, _ in refunds}))
    now = timezone.now()
    entries = []
    for order_id, user_id, amount, note in refunds:
        amount = to_money(amount)
        if amount <= 0:
            raise ValueError(f"a refund must be a positive amount, not {amount} (order #{order_id})")
        balances[user_id] += amount
        entries.append((user_id, LedgerEntry.Kind.REFUND, amount, balances[user_id], order_id, note[:255], now))
    bulk_insert_rows(LedgerEntry, ["user_id", "kind", "amount", "balance_after", "order_id", "note", "created_at"],
                     entries)
    bulk_update_rows([User(pk=pk, balance=balance) for pk, balance in balances.items()], ["balance"])


def _lock_balances(connection, user_ids: list[int]) -> dict[int, Decimal]:
    """The balances of `user_ids`, locked in user order, as one change at a time would lock them.

    Plain SQL rather than the ORM: polling runs this in every batch that refunds, and building the query
    cost more than running it.
    """
    quote = connection.ops.quote_name
    table, pk = quote(User._meta.db_table), quote(User._meta.pk.column)
    balance = quote(User._meta.get_field("balance").column)
    params: Sequence[object]
    if connection.vendor == "postgresql":  # one array parameter: see core.lookups
        where, params = f"= ANY(%s::{cast_db_type(User._meta.pk, connection)}[])", [pg_array(user_ids)]
    else:
        where, params = f"IN ({', '.join(['%s'] * len(user_ids))})", user_ids
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pk}, {balance} FROM {table} WHERE {pk} {where} ORDER BY {pk}{row_lock(connection)}",
                       params)
        return {user_id: db_money(value) for user_id, value in cursor.fetchall()}


def wallet_credit_payment(*, user_id: int, payment_id: int, amount: Decimal, kind: str, note: str,
                          created_by: User | None = None) -> LedgerEntry:
    """Credit a paid payment: its deposit, or its bonus. Runs inside the caller's transaction (the one that
    moved the payment to paid); the unique constraints refuse a second deposit or bonus of one payment."""
    if kind not in (LedgerEntry.Kind.DEPOSIT, LedgerEntry.Kind.BONUS):
        raise ValueError(f"a payment credits a deposit or a bonus, not {kind!r}")
    if to_money(amount) <= 0:
        raise ValueError("a payment credits a positive amount")
    return _move(user_id=user_id, amount=amount, kind=kind, note=note, payment_id=payment_id, created_by=created_by)


def wallet_take_back_payment(*, user_id: int, payment_id: int, amount: Decimal, kind: str, note: str) -> LedgerEntry:
    """Take back money of a payment the gateway refunded or lost in a dispute, even below zero: the money
    has left the operator's account whatever the customer did with it. Runs inside the caller's transaction."""
    if kind not in (LedgerEntry.Kind.PAYMENT_REFUND, LedgerEntry.Kind.DISPUTE):
        raise ValueError(f"a payment is taken back by a refund or a dispute, not {kind!r}")
    if to_money(amount) <= 0:
        raise ValueError("a payment takes back a positive amount")
    return _move(user_id=user_id, amount=-amount, kind=kind, note=note, payment_id=payment_id, may_go_negative=True)


def customer_flag(*, user_id: int, reason: str) -> None:
    """Put the customer before staff (the reason shown on staff pages); the first reason stays until cleared."""
    User.objects.filter(pk=user_id, flagged_at__isnull=True).update(flagged_at=timezone.now(), flag_reason=reason[:255])


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


class AccountTaken(ValueError):
    """The username or the e-mail address (`field`) belongs to an account already."""

    def __init__(self, field: str):
        super().__init__(f"the {field} is taken")
        self.field = field


@transaction.atomic
def customer_create(*, username: str, email: str, password: str) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise AccountTaken("username")
    if email and User.objects.filter(email__iexact=email).exists():
        raise AccountTaken("email")
    return User.objects.create_user(username=username, email=email, password=password)


def api_key_rotate(*, user: User) -> str:
    """Give the user a new API key and return it: the only time anyone sees it (only its digest is stored).
    The old key stops working at once."""
    key = secrets.token_hex(16)  # 128 random bits: see User.api_key_digest
    fields = {"api_key_digest": api_key_digest(key), "api_key_hint": key[-API_KEY_HINT_LENGTH:],
              "api_key_created_at": timezone.now()}
    User.objects.filter(pk=user.pk).update(**fields)
    for name, value in fields.items():
        setattr(user, name, value)
    return key


MAX_ALLOWED_NETWORKS = 20


@transaction.atomic
def api_key_networks_set(*, user: User, networks: list[str]) -> None:
    """Set the addresses and networks that may use the user's key (canonical text, as
    resellerapi.forms.AllowListForm gives them); an empty list lets any address use it. The addresses seen
    lately are forgotten when the list is emptied: they are only kept while there is a list."""
    if len(networks) > MAX_ALLOWED_NETWORKS:
        raise ValueError(f"at most {MAX_ALLOWED_NETWORKS} addresses or networks")
    fields: dict[str, object] = {"api_allowed_networks": list(networks)}
    if not networks:
        fields["api_recent_addresses"] = {}
    User.objects.filter(pk=user.pk).update(**fields)
    for name, value in fields.items():
        setattr(user, name, value)


# --- Staff use cases on a customer's account (the back office's customer pages) ---------------------------
# Each is one transaction with its audit row. Staff accounts are not customers: they are refused here.


class CustomerRefused(Exception):
    """Staff asked for something that cannot be done to this account; `message` says why, for the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


NOT_A_CUSTOMER = "This is a staff account, not a customer's: change it in the admin, not here."


def _customer_locked(customer: User) -> User:
    """The customer's row as it is now, locked until the transaction ends. Refuses staff accounts."""
    row = (User.objects.select_for_update(no_key=True).filter(pk=customer.pk)
           .only("pk", "username", "is_staff", "is_active", "api_key_digest", "flagged_at", "flag_reason").first())
    if row is None:
        raise CustomerRefused("There is no such customer.")
    if row.is_staff:
        raise CustomerRefused(NOT_A_CUSTOMER)
    return row


@transaction.atomic
def customer_funds_adjust(*, customer: User, amount: Decimal, reason: str, staff: User) -> LedgerEntry:
    """Add (amount above zero) or deduct (below zero) funds by hand, saying why: an `adjustment` ledger row
    made by `staff`. Raises CustomerRefused, or InsufficientFunds when it would take the balance below zero."""
    amount, reason = to_money(amount), reason.strip()
    if not amount:
        raise CustomerRefused("Enter an amount other than zero.")
    if not reason:
        raise CustomerRefused("Say why the balance changes: the reason is kept in the ledger and the audit trail.")
    row = _customer_locked(customer)
    entry = _move(user_id=row.pk, amount=amount, kind=LedgerEntry.Kind.ADJUSTMENT, note=reason, created_by=staff)
    audit(actor=staff, action="customer.funds", target=row, note=reason,
          before={"balance": money_str(entry.balance_after - amount)}, after={"balance": money_str(entry.balance_after)})
    return entry


@transaction.atomic
def customer_disable(*, customer: User, staff: User, reason: str) -> None:
    """Close the account: its pages (the session is refused on the next request) and its API key stop at once."""
    reason = reason.strip()
    if not reason:
        raise CustomerRefused("Say why the account is disabled: the reason is kept in the audit trail.")
    row = _customer_locked(customer)
    if not User.objects.filter(pk=row.pk, is_active=True).update(is_active=False):
        raise CustomerRefused("This account is already disabled.")
    audit(actor=staff, action="customer.disable", target=row, before={"is_active": True},
          after={"is_active": False}, note=reason)


@transaction.atomic
def customer_enable(*, customer: User, staff: User) -> None:
    """Open a disabled account again: the customer can log in, and the same API key works again."""
    row = _customer_locked(customer)
    if not User.objects.filter(pk=row.pk, is_active=False).update(is_active=True):
        raise CustomerRefused("This account is not disabled.")
    audit(actor=staff, action="customer.enable", target=row, before={"is_active": False},
          after={"is_active": True})


@transaction.atomic
def customer_api_key_revoke(*, customer: User, staff: User) -> None:
    """Take the customer's API key away (a leaked key, say): it stops working at once. No new key is made in
    its place, since only a key's digest is kept and a key nobody was shown would help nobody: the customer
    makes a new one on their API page. The audit trail says that a key was revoked, never any of it."""
    row = _customer_locked(customer)
    if not row.api_key_digest:
        raise CustomerRefused(f"{row.username} has no API key to revoke.")
    User.objects.filter(pk=row.pk).update(api_key_digest=None, api_key_hint="", api_key_created_at=None)
    audit(actor=staff, action="customer.revoke_key", target=row,
          before={"api_key": "(set)"}, after={"api_key": "(none)"})


@transaction.atomic
def customer_flag_clear(*, customer: User, staff: User) -> None:
    """Staff looked at what flagged the customer (a payment refunded or disputed) and it needs nothing more."""
    row = _customer_locked(customer)
    if row.flagged_at is None:
        raise CustomerRefused("This customer is not flagged.")
    User.objects.filter(pk=row.pk).update(flagged_at=None, flag_reason="")
    audit(actor=staff, action="customer.clear_flag", target=row,
          before={"flagged_at": row.flagged_at, "flag_reason": row.flag_reason},
          after={"flagged_at": None, "flag_reason": ""})
