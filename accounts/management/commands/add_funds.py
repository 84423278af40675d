from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User
from accounts.money import money_str


class Command(BaseCommand):
    help = "Deposit money on a customer's balance (a ledger row is written)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("amount")
        parser.add_argument("--note", default="Deposit by an operator")

    def handle(self, *args, username, amount, note, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            entry = services.wallet_deposit(user=user, amount=Decimal(amount), note=note)
        except (InvalidOperation, ValueError):
            raise CommandError(f"The amount must be a positive number, not {amount!r}.") from None
        self.stdout.write(f"{username}: +{money_str(entry.amount)}, balance {money_str(entry.balance_after)}.")
