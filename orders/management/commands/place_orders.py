from django.core.management.base import BaseCommand

from catalog.health import flush_calls
from orders import services


class Command(BaseCommand):
    help = "Send every queued order whose time has come now, in this process; park orders stuck in sending."

    def handle(self, *args, **options):
        try:
            return self._handle(*args, **options)
        finally:
            flush_calls()  # the provider calls' timings, for the dashboard

    def _handle(self, *args, **options):
        parked = services.orders_park_stuck()
        outcomes: dict[str, int] = {}
        for order_id in services.orders_due():
            state = services.order_send(order_id) or "taken by another worker"
            outcomes[state] = outcomes.get(state, 0) + 1
        summary = ", ".join(f"{count} {state}" for state, count in sorted(outcomes.items())) or "nothing queued"
        self.stdout.write(f"Sent: {summary}. Parked as stuck: {parked}.")
