from django.core.management.base import BaseCommand, CommandError

from accounts.ledger import balance_mismatches, order_mismatches


class Command(BaseCommand):
    help = "Exit 0 iff every balance equals its ledger and every order's charge and refund add up."

    def handle(self, *args, **options):
        problems = balance_mismatches() + order_mismatches()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the ledger")
        self.stdout.write("Ledger OK: every balance equals its ledger and every order adds up.")
