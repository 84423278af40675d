"""Polling benchmark: N active orders (default 10,000) against a stub provider over loopback HTTP.

Prints, for one cycle: `status` calls made, SQL queries and seconds; in the same run, the seconds of a naive
loop of one `status` call per order (timed on a sample and scaled up), and of the bare batched HTTP calls
with no database work. Two cycles are measured: the first is the worst case, where every order changes (all
are Pending; a tenth complete, the rest go In progress), and the second, a minute later, the steady state,
where the running orders have not moved. The provider runs in its own process, as a real one runs on
another machine. Run:
`.venv/bin/python bench/poll_cycle.py [N]` (DATABASE_URL picks the database).
"""

import math
import statistics
import sys
import time
from datetime import timedelta

from _setup import django_test_database, stub_provider

NAIVE_SAMPLE = 500


def stub_answer(fields):
    def one(order_id):
        n = int(order_id[1:])
        state = "Completed" if n % 10 == 0 else "In progress"
        return {"charge": "0.10000", "start_count": "100", "status": state, "remains": "0" if n % 10 == 0 else "5",
                "currency": "USD"}

    if "orders" in fields:
        return {i: one(i) for i in fields["orders"].split(",")}
    return one(fields["order"])


def make_orders(n):
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import User
    from catalog.models import Category, Provider, ProviderService, Service
    from orders.models import Order

    provider = Provider.objects.get(name="Stub")
    now = timezone.now()
    mirror = ProviderService.objects.create(provider=provider, external_id="1", name="Followers", type="Default",
                                            rate=Decimal("1"), min_quantity=10, max_quantity=100000,
                                            first_seen_at=now, last_seen_at=now)
    service = Service.objects.create(name="Followers", category=Category.objects.create(name="C"), type="Default",
                                     provider_service=mirror, rate=Decimal("2"), min_quantity=10, max_quantity=100000)
    user = User.objects.create_user("bench", password="x")
    Order.objects.bulk_create(
        [Order(user=user, service=service, provider=provider, provider_service=mirror, link="https://x.com/a",
               quantity=100, units=100, rate=Decimal("2"), charge=Decimal("0.2"), state="placed",
               status="Pending", external_id=f"E{i}") for i in range(1, n + 1)],
        batch_size=1000,
    )
    return provider


def main(n: int) -> None:
    # The provider first: its process is forked before Django connects to the database.
    with stub_provider(stub_answer, own_process=True) as url, django_test_database() as connection:
        from _setup import QueryCounter
        from django.db.models import F

        from catalog.models import Provider
        from orders import polling
        from orders.models import Order

        provider = Provider.objects.create(name="Stub", api_url=url, api_key="bench-key")
        client = provider.client()
        ids = [f"E{i}" for i in range(1, n + 1)]

        def bare_calls() -> float:
            started = time.perf_counter()
            for i in range(0, n, 100):
                client.statuses(ids[i:i + 100])
            return time.perf_counter() - started

        # The bare calls are timed before, between and after the cycles, and the median is kept: the machine's
        # speed drifts, and one timing could flatter or wrong the cycles.
        bare_runs = [bare_calls()]
        make_orders(n)
        with connection.cursor() as cursor:  # table statistics, as autovacuum would have them in production
            cursor.execute("ANALYZE")
        # Every order is active and Pending: in the first cycle all of them change (a tenth complete, the rest
        # go In progress); the second cycle is the steady state, where the 90% still running have not moved.
        with QueryCounter(connection) as ctx:
            started = time.perf_counter()
            report = polling.run_cycle()
            cycle = time.perf_counter() - started
        assert report.polled == n, report
        done = Order.objects.filter(status="Completed").count()
        bare_runs.append(bare_calls())
        # A minute passes before the next beat (orders asked about within POLL_REPOLL_SECONDS are skipped).
        Order.objects.update(last_polled_at=F("last_polled_at") - timedelta(minutes=1))
        with QueryCounter(connection) as steady_ctx:
            started = time.perf_counter()
            steady = polling.run_cycle()
            steady_cycle = time.perf_counter() - started
        bare_runs.append(bare_calls())
        bare = statistics.median(bare_runs)

        started = time.perf_counter()
        for order_id in ids[:NAIVE_SAMPLE]:
            client.status(order_id)
        naive = (time.perf_counter() - started) * n / NAIVE_SAMPLE

        print(f"poll cycle, {n} active orders, {connection.vendor}")
        print(f"status calls made          {report.calls:8d}   (ceil(N/100) = {math.ceil(n / 100)})")
        print(f"SQL queries in the cycle   {ctx.count:8d}")
        print(f"orders changed / refunded  {report.changed:8d} / {report.refunded}   (completed now: {done})")
        print(f"cycle, every order changes {cycle:8.3f} s   ({cycle / bare:.2f}x the bare calls, "
              f"{naive / cycle:.1f}x faster than naive)")
        print(f"bare batched HTTP calls    {bare:8.3f} s   (median of {', '.join(f'{t:.3f}' for t in bare_runs)})")
        print(f"naive loop, one per order  {naive:8.3f} s   (timed on {NAIVE_SAMPLE} orders, scaled to {n})")
        bare_steady = bare * steady.calls / report.calls
        naive_steady = naive * steady.polled / n
        print(f"steady cycle, {steady.polled} polled, {steady.changed} changed: {steady.calls} calls, "
              f"{steady_ctx.count} queries, {steady_cycle:.3f} s "
              f"({steady_cycle / bare_steady:.2f}x the bare calls for as many IDs, "
              f"{naive_steady / steady_cycle:.1f}x faster than naive)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
