from django.core.management.base import BaseCommand

from orders.polling import run_cycle


class Command(BaseCommand):
    help = "Run one polling cycle in this process: cancels and refills to send, order and refill statuses."

    def handle(self, *args, **options):
        self.stdout.write(f"Poll cycle: {run_cycle()}")
