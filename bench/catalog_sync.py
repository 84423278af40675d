"""Catalog sync benchmark: a stub provider of N services (default 5,000) over loopback HTTP.

Prints seconds and SQL queries of the first sync, of a re-sync of the unchanged catalog, and of a re-sync
where every tenth price moved. Run: `.venv/bin/python bench/catalog_sync.py [N]` (DATABASE_URL picks the DB).
"""

import sys
import time

from _setup import django_test_database, stub_provider


def listing(n, bump=0):
    return [
        {
            "service": i, "name": f"Followers {i}", "type": "Default", "category": f"Category {i % 40}",
            "rate": f"{(i % 97) / 10 + (0.5 if bump and i % 10 == 0 else 0):.4f}", "min": "10", "max": "100000",
            "refill": i % 3 == 0, "cancel": i % 4 == 0,
        }
        for i in range(1, n + 1)
    ]


def main(n: int) -> None:
    state = {"items": listing(n)}
    with django_test_database() as connection, stub_provider(lambda fields: state["items"]) as url:
        from _setup import QueryCounter

        from catalog.models import Provider, Service
        from catalog.sync import sync_catalog

        provider = Provider.objects.create(name="Stub", api_url=url, api_key="bench-key")

        def timed(label):
            with QueryCounter(connection) as ctx:
                started = time.perf_counter()
                run = sync_catalog(provider)
                seconds = time.perf_counter() - started
            assert run.ok, run.error
            print(f"{label:34} {seconds:7.3f} s  {ctx.count:5d} queries  "
                  f"(new {run.new}, changed {run.changed}, gone {run.gone})")

        print(f"catalog sync, {n} services, {connection.vendor}")
        timed("first sync")
        timed("re-sync, unchanged")
        state["items"] = listing(n, bump=1)
        timed("re-sync, every 10th price up")
        assert Service.objects.count() == n


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
