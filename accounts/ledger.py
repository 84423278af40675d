"""Proof that money adds up: every balance equals its ledger, every order's charge and refund agree."""

from django.db.models import Q, Sum

from accounts.models import LedgerEntry, User
from accounts.money import ZERO


def balance_mismatches() -> list[str]:
    """Users whose balance differs from the sum of their ledger (one grouped query, one pass)."""
    sums = dict(LedgerEntry.objects.values("user").annotate(total=Sum("amount")).values_list("user", "total"))
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
        charged=Sum("ledger_entries__amount", filter=Q(ledger_entries__kind=LedgerEntry.Kind.CHARGE)),
        refunded_ledger=Sum("ledger_entries__amount", filter=Q(ledger_entries__kind=LedgerEntry.Kind.REFUND)),
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
