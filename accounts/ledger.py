"""Proof that money adds up, the wallet's part: every balance equals its ledger. Orders and payments check
their own ledger rows (orders.ledger, payments.ledger); `manage.py check_ledger` runs the three.

Sums are made with MoneySum, exact on SQLite too (its SUM() adds decimals as floats).
"""

from accounts.models import LedgerEntry, User
from accounts.money import ZERO, MoneySum


def balance_mismatches() -> list[str]:
    """Users whose balance differs from the sum of their ledger (one grouped query, one pass)."""
    sums = dict(LedgerEntry.objects.values("user").annotate(total=MoneySum("amount")).values_list("user", "total"))
    problems = []
    for user_id, username, balance in User.objects.values_list("pk", "username", "balance").iterator():
        ledger = sums.get(user_id) or ZERO
        if balance != ledger:
            problems.append(f"account {username} (#{user_id}): balance {balance} but ledger sums to {ledger}")
    return problems
