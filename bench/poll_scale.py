"""Polling at scale: N active orders (default 100,000) of one provider, beat's cycle fanned out as batch tasks
that 1, 2 and 4 Celery worker processes share, on PostgreSQL and Redis.

The provider runs in its own process and answers every `status` call after `--latency` ms (default 20),
every order changing each round (its remains go down by one), and counts the IDs it is asked for. For each
number of workers: the workers are started (`celery worker`, threads pool, `--concurrency` threads each), then
for each round `orders.poll_cycle` is sent as beat sends it, and the round's wall time is taken from the send
until every order holds the round's answer. Printed per round: the wall time, orders per second, the `status`
calls and the IDs asked twice in the round (must be 0). The provider's calls in flight are capped at its
poll_concurrency (default 4) across all workers, by slots in the Redis cache.

Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/panel .venv/bin/python bench/poll_scale.py [N]
[--workers 1 2 4] [--rounds 2] [--latency MS] [--concurrency THREADS] [--slots K]` (Redis at
127.0.0.1:6379 is used through its databases 14 and 15, which the bench empties).
"""

import argparse
import functools
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

from _setup import ROOT, django_test_database, stub_provider

print = functools.partial(print, flush=True)  # noqa: A001 - each line as soon as it is known
REDIS = "redis://127.0.0.1:6379"
BROKER, CACHE = f"{REDIS}/15", f"{REDIS}/14"
LATENCY = 0.02
UNITS = 100  # each order's units (poll_cycle.make_orders): the remains the stub answers count down from it
ROUND = multiprocessing.Value("i", 0, lock=False)


class Asked:
    """In the provider's process: the IDs asked for this round, and how many times."""

    lock = threading.Lock()
    ids: dict = {}
    calls = 0


def stub_answer(fields):
    action = fields.get("action")
    if action == "bench_stats":  # the bench's own question, not an API v2 action
        with Asked.lock:
            stats = {"calls": Asked.calls, "asked": sum(Asked.ids.values()), "distinct": len(Asked.ids)}
            Asked.ids, Asked.calls = {}, 0
        return stats
    ids = fields["orders"].split(",") if "orders" in fields else [fields["order"]]
    with Asked.lock:
        Asked.calls += 1
        for order_id in ids:
            Asked.ids[order_id] = Asked.ids.get(order_id, 0) + 1
    if LATENCY:
        time.sleep(LATENCY)
    remains = str(UNITS - ROUND.value)
    answers = {i: {"charge": "0.10000", "start_count": "0", "status": "In progress", "remains": remains,
                   "currency": "USD"} for i in ids}
    return answers if "orders" in fields else answers[ids[0]]


def database_url(connection) -> str:
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return (f"postgres://{settings['USER']}{password}@{settings.get('HOST') or '127.0.0.1'}:"
            f"{settings.get('PORT') or 5432}/{settings['NAME']}")


def start_workers(count: int, threads: int, env: dict) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "panel", "worker", "--pool=threads", f"--concurrency={threads}",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"bench{n}@%h"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=open(ROOT / "var" / f"bench_worker{n}.log", "w")))  # noqa: SIM115 - the worker's to close
    return workers


def stop_workers(workers) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_for_workers(app, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1.0) or []) >= count:
            return
    raise RuntimeError(f"{count} workers did not answer within a minute")


def main(n: int, worker_counts: list[int], rounds: int, threads: int, slots: int) -> None:
    import redis

    for url in (BROKER, CACHE):
        redis.Redis.from_url(url).flushdb()
    os.environ.update(CELERY_BROKER_URL=BROKER, CACHE_URL=CACHE)
    with stub_provider(stub_answer, own_process=True) as url, django_test_database() as connection:
        if connection.vendor != "postgresql":
            raise SystemExit("poll_scale needs PostgreSQL: set DATABASE_URL=postgres://...")
        from django.db.models import F
        from poll_cycle import make_orders

        from catalog.models import Provider
        from orders.models import Order
        from panel.celery import app

        provider = Provider.objects.create(name="Stub", api_url=url, api_key="bench-key", poll_concurrency=slots)
        started = time.perf_counter()
        make_orders(n, provider)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"poll scale, {n} active orders of one provider, postgresql + redis, the provider answering after "
              f"{LATENCY * 1000:.0f} ms, at most {slots} of its calls in flight; workers of {threads} threads "
              f"(seeded in {time.perf_counter() - started:.1f} s)")
        env = {**os.environ, "DATABASE_URL": database_url(connection), "CELERY_BROKER_URL": BROKER,
               "CACHE_URL": CACHE, "LOG_LEVEL": "WARNING"}
        for count in worker_counts:
            workers = start_workers(count, threads, env)
            try:
                wait_for_workers(app, count)
                for _ in range(rounds):
                    ROUND.value += 1
                    stub_stats(url)  # empties the stub's count
                    Order.objects.update(last_polled_at=F("last_polled_at") - _minute())
                    remains = UNITS - ROUND.value
                    began = time.perf_counter()
                    app.send_task("orders.poll_cycle")
                    while Order.objects.filter(remains=remains).count() < n:
                        time.sleep(0.05)
                        if time.perf_counter() - began > 600:
                            raise RuntimeError("the round did not end within ten minutes")
                    seconds = time.perf_counter() - began
                    stats = stub_stats(url)
                    print(f"{count} worker{'s' if count > 1 else ' '}  round {ROUND.value}: {seconds:6.2f} s, "
                          f"{n / seconds:8.0f} orders/s, {stats['calls']} status calls, "
                          f"{stats['asked'] - stats['distinct']} IDs asked twice, {stats['distinct']} distinct")
            finally:
                stop_workers(workers)


def stub_stats(url: str) -> dict:
    """What the stub was asked since the last time (and it starts counting again)."""
    import requests

    return requests.post(url, data={"action": "bench_stats"}, timeout=10).json()


def _minute():
    from datetime import timedelta

    return timedelta(minutes=1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("orders", nargs="?", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency", type=float, default=20.0, metavar="MS")
    parser.add_argument("--concurrency", type=int, default=4, metavar="THREADS", help="threads per worker")
    parser.add_argument("--slots", type=int, default=4, metavar="K", help="the provider's poll_concurrency")
    args = parser.parse_args()
    LATENCY = args.latency / 1000
    main(args.orders, args.workers, args.rounds, args.concurrency, args.slots)
