from django.core.management.base import BaseCommand, CommandError

from accounts.ledger import balance_mismatches
from orders.ledger import order_mismatches
from payments.ledger import payment_mismatches


class Command(BaseCommand):
    help = ("Exit 0 iff every balance equals its ledger, every order's charge and refund add up, and every "
            "payment's deposit, bonus and take-backs are in the ledger as the payment says.")

    def handle(self, *args, **options):
        problems = balance_mismatches() + order_mismatches() + payment_mismatches()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the ledger")
        self.stdout.write("Ledger OK: every balance equals its ledger, and every order and payment adds up.")
