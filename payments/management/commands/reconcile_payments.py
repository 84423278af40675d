from django.core.management.base import BaseCommand

from payments.services import payments_reconcile


class Command(BaseCommand):
    help = ("Ask the gateways about pending payments whose webhook is overdue and expire the ones past their time "
            "(what beat does every PAYMENTS_RECONCILE_SECONDS), and print what came of it.")

    def handle(self, *args, **options):
        counts = payments_reconcile()
        if not counts:
            self.stdout.write("No pending payment is due for a check.")
        for outcome, count in sorted(counts.items()):
            self.stdout.write(f"{count:6d}  {outcome}")
