"""Proof that money adds up: every balance equals its ledger, every order's charge and refund agree, and every
payment's deposit, bonus and take-backs are what the payment says.

Sums are made with MoneySum, exact on SQLite too (its SUM() adds decimals as floats).
"""

from django.db.models import Q

from accounts.models import LedgerEntry, User
from accounts.money import ZERO, MoneySum

Kind = LedgerEntry.Kind


def balance_mismatches() -> list[str]:
    """Users whose balance differs from the sum of their ledger (one grouped query, one pass)."""
    sums = dict(LedgerEntry.objects.values("user").annotate(total=MoneySum("amount")).values_list("user", "total"))
    problems = []
    for user_id, username, balance in User.objects.values_list("pk", "username", "balance").iterator():
        ledger = sums.get(user_id) or ZERO
        if balance != ledger:
            problems.append(f"account {username} (#{user_id}): balance {balance} but ledger sums to {ledger}")
    return problems


def order_mismatches() -> list[str]:
    """Orders whose ledger charge is not their charge, or whose ledger refund is not what they say refunded."""
    from orders.models import Order

    orders = Order.objects.annotate(
        charged=MoneySum("ledger_entries__amount", filter=Q(ledger_entries__kind=Kind.CHARGE)),
        refunded_ledger=MoneySum("ledger_entries__amount", filter=Q(ledger_entries__kind=Kind.REFUND)),
    ).values_list("pk", "user__username", "charge", "refunded", "charged", "refunded_ledger", "status")
    problems = []
    for pk, username, charge, refunded, charged, refunded_ledger, status in orders.iterator():
        if -(charged or ZERO) != charge:
            problems.append(f"order #{pk} of {username}: charge {charge} but ledger charged {-(charged or ZERO)}")
        if (refunded_ledger or ZERO) != refunded:
            problems.append(f"order #{pk} of {username}: refunded {refunded} but ledger refunded {refunded_ledger or ZERO}")
        if refunded > charge:
            problems.append(f"order #{pk} of {username}: refunded {refunded} more than its charge {charge}")
        if status == "Canceled" and refunded != charge:
            problems.append(f"order #{pk} of {username}: Canceled but refunded {refunded} of {charge}")
    return problems


def payment_mismatches() -> list[str]:
    """Payments whose deposit, bonus or take-backs in the ledger are not what the payment says it credited,
    and payments credited without being paid."""
    from payments.models import Payment

    payments = Payment.objects.annotate(
        deposited=MoneySum("ledger_entries__amount", filter=Q(ledger_entries__kind=Kind.DEPOSIT)),
        bonused=MoneySum("ledger_entries__amount", filter=Q(ledger_entries__kind=Kind.BONUS)),
        taken=MoneySum("ledger_entries__amount",
                       filter=Q(ledger_entries__kind__in=[Kind.PAYMENT_REFUND, Kind.DISPUTE])),
    ).values_list("pk", "user__username", "status", "credited", "bonus_credited", "taken_back", "deposited",
                  "bonused", "taken")
    credited_states = {Payment.Status.PAID, Payment.Status.REFUNDED, Payment.Status.DISPUTED}
    problems = []
    for pk, username, status, credited, bonus, taken_back, deposited, bonused, taken in payments.iterator():
        where = f"payment #{pk} of {username}"
        if (deposited or ZERO) != credited:
            problems.append(f"{where}: credited {credited} but the ledger deposited {deposited or ZERO}")
        if (bonused or ZERO) != bonus:
            problems.append(f"{where}: bonus {bonus} but the ledger's bonus is {bonused or ZERO}")
        if -(taken or ZERO) != taken_back:
            problems.append(f"{where}: took back {taken_back} but the ledger took back {-(taken or ZERO)}")
        if credited > 0 and status not in credited_states:
            problems.append(f"{where}: {status} but credited {credited}")
        if status in credited_states and credited <= 0:
            problems.append(f"{where}: {status} but nothing was credited")
        if taken_back > credited + bonus:
            problems.append(f"{where}: took back {taken_back}, more than it credited ({credited + bonus})")
    return problems
