import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from catalog.health import flush_calls
from orders.models import Order
from orders.polling import run_cycle


class Command(BaseCommand):
    help = "Run one polling cycle in this process: cancels and refills to send, order and refill statuses."
    # Run every minute from cron or by hand: not worth the system checks' import of every view (a quarter of
    # a second); `manage.py check` and the web server's start run them.
    requires_system_checks = []

    def handle(self, *args, **options):
        try:
            return self._handle(*args, **options)
        finally:
            flush_calls()  # the provider calls' timings, for the dashboard

    def _handle(self, *args, **options):
        started = time.perf_counter()
        report = run_cycle()
        self.stdout.write(f"Poll cycle in {time.perf_counter() - started:.3f} s: {report}")
        gap = settings.POLL_REPOLL_SECONDS
        recent = (Order.objects.filter(state=Order.State.PLACED, last_polled_at__gte=timezone.now() - timedelta(
            seconds=gap)).exclude(status__in=Order.FINAL_STATUSES).count())
        if recent:
            self.stdout.write(f"{recent} active orders have been asked about in the last {gap:g} s (by this cycle "
                              "or another); each is asked again once that much time has passed.")
