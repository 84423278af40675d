"""Proof that every payment's money adds up: its deposit, bonus and take-backs are the ledger's
(manage.py check_ledger).

Sums are made with MoneySum, exact on SQLite too (its SUM() adds decimals as floats)."""

from django.db.models import Q

from accounts.models import LedgerEntry
from accounts.money import ZERO, MoneySum

from .models import Payment

Kind = LedgerEntry.Kind

def payment_mismatches() -> list[str]:
    """Payments whose deposit, bonus or take-backs in the ledger are not what the payment says it credited,
    and payments credited without being paid."""
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
