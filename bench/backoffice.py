"""Back-office benchmark: N orders (default 100,000) of M customers (default 5,000) over the last 30 days,
each with its charge in the ledger, in a fresh database (SQLite under var/, or DATABASE_URL's server).

Prints the wall time and SQL queries of each staff page as an operator opens it, the whole request through
the test client (session, permissions, template, SVG): the dashboard, the orders list (first page, a filter,
a search), the customers list and one customer's page, the reports page (30 days, each grouping); then the
orders CSV export (the whole streamed body) and its peak Python memory (tracemalloc) next to the size of
what it wrote: an export that streams holds a few chunks, not the file.
Run: `.venv/bin/python bench/backoffice.py [N] [M]`.
"""

import sys
import time
import tracemalloc
from datetime import timedelta
from decimal import Decimal

from _setup import QueryCounter, django_test_database

PROVIDERS, CATEGORIES, SERVICES = 5, 20, 200
DAYS = 30


def seed(orders: int, customers: int) -> None:
    from django.utils import timezone

    from accounts.models import User
    from catalog.models import Category, Provider, ProviderService, Service
    from orders.models import Order

    now = timezone.now()
    providers = Provider.objects.bulk_create(
        Provider(name=f"Provider {n}", api_url=f"https://p{n}.example/api/v2", api_key="k") for n in range(PROVIDERS))
    categories = Category.objects.bulk_create(Category(name=f"Category {n}") for n in range(CATEGORIES))
    mirrors = ProviderService.objects.bulk_create(
        ProviderService(provider=providers[n % PROVIDERS], external_id=str(n), name=f"Upstream {n}", type="Default",
                        rate=Decimal("1"), min_quantity=10, max_quantity=100000, first_seen_at=now, last_seen_at=now)
        for n in range(SERVICES))
    services = Service.objects.bulk_create(
        Service(name=f"Service {n}", category=categories[n % CATEGORIES], type="Default", provider_service=mirror,
                rate=Decimal("2"), min_quantity=10, max_quantity=100000) for n, mirror in enumerate(mirrors))
    users = User.objects.bulk_create(
        (User(username=f"customer{n}", email=f"customer{n}@example.com", password="!") for n in range(customers)),
        batch_size=1000)

    # Spread over the last 30 days (from 29 days ago to now, all within the page's default range): created_at
    # is auto_now_add, which bulk_create would set to now.
    created_at = Order._meta.get_field("created_at")
    created_at.auto_now_add = False
    step = timedelta(days=DAYS - 1) / orders
    try:
        batch = []
        for n in range(orders):
            service = services[n % SERVICES]
            charge = Decimal(n % 997 + 1) / 100
            refunded = charge if n % 10 == 0 else (charge / 2 if n % 7 == 0 else Decimal(0))
            batch.append(Order(
                user=users[(n * 7919) % customers], service=service, provider_id=service.provider_service.provider_id,
                provider_service=service.provider_service, link=f"https://instagram.com/account{n % 5000}",
                quantity=1000, units=1000, rate=Decimal("2"), charge=charge, refunded=refunded,
                cost=None if n % 5 == 0 else (charge * Decimal("0.6")).quantize(Decimal("0.00001")),
                status=_status(n), state=_state(n), needs_attention=n % 211 == 0,
                external_id=str(n), created_at=now - step * n))
            if len(batch) == 5000:
                _write(batch)
                batch = []
        _write(batch)
    finally:
        created_at.auto_now_add = True


def _status(n: int) -> str:
    return "Canceled" if n % 10 == 0 else ("In progress" if n % 13 == 0 else "Completed")


def _state(n: int) -> str:
    return "canceled" if n % 10 == 0 else ("failed" if n % 509 == 0 else ("queued" if n % 1009 == 0 else "placed"))


def _write(orders) -> None:
    """The orders and their charge rows in the ledger (balances are not kept up: pages, not money, are measured)."""
    from accounts.models import LedgerEntry
    from orders.models import Order

    Order.objects.bulk_create(orders)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(user_id=order.user_id, kind="charge", amount=-order.charge, balance_after=0, order_id=order.pk,
                    note=f"Order #{order.pk}", created_at=order.created_at) for order in orders)


def main(orders: int, customers: int) -> None:
    with django_test_database("bench_backoffice") as connection:
        from django.contrib.auth.models import Group
        from django.test import Client
        from django.urls import reverse

        from accounts.models import User
        from backoffice.roles import ADMIN

        started = time.perf_counter()
        seed(orders, customers)
        print(f"back-office bench, {orders} orders of {customers} customers over {DAYS} days, {connection.vendor} "
              f"(seeded in {time.perf_counter() - started:.1f} s)")

        staff = User.objects.create_user("bench-admin", password="x", is_staff=True)
        staff.groups.add(Group.objects.get(name=ADMIN))
        client = Client()
        client.force_login(staff)
        client.get(reverse("backoffice:reports"))  # warm: templates compiled, session read once

        customer = User.objects.filter(is_staff=False).order_by("pk").first()
        pages = [
            ("dashboard", reverse("staff_catalog:dashboard"), {}),
            ("orders list", reverse("staff_orders:list"), {}),
            ("orders, one status", reverse("staff_orders:list"), {"status": "In progress"}),
            ("orders, search", reverse("staff_orders:list"), {"q": "instagram.com/account77"}),
            ("orders, one customer", reverse("staff_orders:list"), {"customer": customer.username}),
            ("customers list", reverse("backoffice:customers"), {}),
            ("customers, search", reverse("backoffice:customers"), {"q": "customer42"}),
            ("a customer's page", reverse("backoffice:customer", args=[customer.pk]), {}),
        ]
        for name, url, query in pages:
            client.get(url, query)  # warm
            with QueryCounter(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url, query)
                seconds = time.perf_counter() - started
            assert response.status_code == 200, (name, response.status_code)
            print(f"{name:25} {seconds:7.3f} s  {ctx.count:3d} queries  ({len(response.content) // 1024} KiB of HTML)")

        for group in ("day", "service", "category", "provider", "customer"):
            with QueryCounter(connection) as ctx:
                started = time.perf_counter()
                response = client.get(reverse("backoffice:reports"), {"group": group})
                seconds = time.perf_counter() - started
            assert response.status_code == 200, response.status_code
            report = response.context["report"]
            assert report.totals.orders == orders, report.totals.orders
            print(f"reports page, by {group:9} {seconds:7.3f} s  {ctx.count:3d} queries  "
                  f"({len(report.rows)} rows, {len(response.content) // 1024} KiB of HTML)")

        url = reverse("backoffice:export", args=["orders"])

        def export() -> tuple[int, int, int]:
            response = client.get(url)
            assert response.status_code == 200 and response.streaming
            size = chunks = 0
            lines = 0
            for chunk in response.streaming_content:
                size += len(chunk)
                lines += chunk.count(b"\n")
                chunks += 1
            return size, chunks, lines

        with QueryCounter(connection) as ctx:
            started = time.perf_counter()
            size, chunks, lines = export()
            seconds = time.perf_counter() - started
        assert lines == orders + 1, lines
        print(f"orders CSV export         {seconds:7.3f} s  {ctx.count:3d} queries  "
              f"({lines - 1} rows, {size / 2**20:.1f} MiB in {chunks} chunks, {lines / seconds:,.0f} rows/s)")

        tracemalloc.start()
        size, _, _ = export()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"orders CSV export, peak Python memory {peak / 2**20:.1f} MiB while writing {size / 2**20:.1f} MiB "
              f"(tracemalloc)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 5_000)
