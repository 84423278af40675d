"""Proof that every order's money adds up: its charge and refund are the ledger's (manage.py check_ledger).

Sums are made with MoneySum, exact on SQLite too (its SUM() adds decimals as floats)."""

from django.db.models import Q

from accounts.models import LedgerEntry
from accounts.money import ZERO, MoneySum

from .models import Order

Kind = LedgerEntry.Kind

def order_mismatches() -> list[str]:
    """Orders whose ledger charge is not their charge, or whose ledger refund is not what they say refunded."""
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
