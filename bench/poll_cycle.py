"""Polling benchmark: N active orders (default 10,000) against a stub provider in its own process.

As an operator sees it: each cycle is `manage.py poll_orders` timed as a process, less the start-up of
`manage.py version` (the median of three), against the provider answering every call after `--latency` ms
(default 20), up to `--concurrency` calls in flight (the provider's poll_concurrency, default 4). In the
same run: the same batched `status` calls made one after another with no database (the bare sequential
calls), and a naive loop of one `status` call per order (timed on a sample and scaled up), each the median
of four timings taken before, between and after the cycles. Three cycles: the worst case, where every
order changes (all are Pending; a tenth complete, the rest go In progress); a typical minute later (a third
of those running move: some complete, some end Partial and are refunded, most progress); an idle minute
(nothing moved).

Then the three cycles run again in this process on a second set of N orders whose provider answers from
memory (the same answers, parsed beforehand): the cycle's database work alone, with its SQL queries, the
least a cycle can take however fast the provider. Run: `.venv/bin/python bench/poll_cycle.py [N]
[--latency MS] [--concurrency K]` (DATABASE_URL picks the database).
"""

import argparse
import math
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from unittest import mock

from _setup import ROOT, django_test_database, stub_provider

NAIVE_SAMPLE = 500
# Seconds the stub waits before each answer (--latency); set before its process is forked.
LATENCY = 0.02
# Which minute the stub provider is answering for; shared with its forked process.
ROUND = multiprocessing.Value("i", 0, lock=False)


def stub_answer(fields):
    """Every order is Pending when the bench starts. Round 0: a tenth complete, the rest go In progress with
    100 of 100 remaining. Round 1 (a typical minute): a third of those still running move: one in six of
    them completes, one in six ends Partial (a refund), the others progress to 40 remaining. Round 2 and
    later: as in round 1 (an idle minute: nothing moved)."""

    def one(order_id):
        n = int(order_id[1:])
        state, remains = ("Completed", 0) if n % 10 == 0 else ("In progress", 100)
        if ROUND.value >= 1 and state == "In progress" and n % 3 == 1:
            state, remains = {1: ("Completed", 0), 7: ("Partial", 40)}.get(n % 18, (state, 40))
        return {"charge": "0.10000", "start_count": "100", "status": state, "remains": str(remains),
                "currency": "USD"}

    if LATENCY:
        time.sleep(LATENCY)
    if "orders" in fields:
        return {i: one(i) for i in fields["orders"].split(",")}
    return one(fields["order"])


CYCLES = (("worst case: every order changes", 0), ("a typical minute after", 1), ("an idle minute after that", 2))


class AnswersInMemory:
    """A provider client whose `status` answers were fetched and parsed beforehand, one dict per round."""

    def __init__(self, rounds: list[dict]):
        self.rounds = rounds

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def statuses(self, order_ids):
        answers = self.rounds[ROUND.value]
        return {order_id: answers[order_id] for order_id in order_ids}


def make_orders(n, provider):
    """N Pending orders of `provider`, with the external IDs E1 to EN."""
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import User
    from catalog.models import Category, ProviderService, Service
    from orders.models import Order

    now = timezone.now()
    mirror = ProviderService.objects.create(provider=provider, external_id="1", name="Followers", type="Default",
                                            rate=Decimal("1"), min_quantity=10, max_quantity=100000,
                                            first_seen_at=now, last_seen_at=now)
    category = Category.objects.get_or_create(name="C")[0]
    service = Service.objects.create(name=f"Followers of {provider.name}", category=category, type="Default",
                                     provider_service=mirror, rate=Decimal("2"), min_quantity=10, max_quantity=100000)
    user = User.objects.filter(username="bench").first() or User.objects.create_user("bench", password="x")
    Order.objects.bulk_create(
        [Order(user=user, service=service, provider=provider, provider_service=mirror, link="https://x.com/a",
               quantity=100, units=100, rate=Decimal("2"), charge=Decimal("0.2"), state="placed",
               status="Pending", external_id=f"E{i}") for i in range(1, n + 1)],
        batch_size=1000,
    )


def main(n: int, naive_sample: int, concurrency: int) -> None:
    # The provider first: its process is forked before Django connects to the database.
    with stub_provider(stub_answer, own_process=True) as url, django_test_database() as connection:
        from catalog.models import Provider

        provider = Provider.objects.create(name="Stub", api_url=url, api_key="bench-key",
                                           poll_concurrency=concurrency)
        client = provider.client()
        ids = [f"E{i}" for i in range(1, n + 1)]

        bare_cpu, naive_runs = [], []

        def bare_calls() -> float:
            """Also times the naive loop on a sample, at the same moment, for the same reason."""
            started, cpu = time.perf_counter(), time.process_time()
            for i in range(0, n, 100):
                client.statuses(ids[i:i + 100])
            bare_cpu.append(time.process_time() - cpu)
            seconds = time.perf_counter() - started
            started, sample = time.perf_counter(), ids[:naive_sample]
            for order_id in sample:
                client.status(order_id)
            naive_runs.append((time.perf_counter() - started) * n / len(sample))
            return seconds

        # The bare calls are timed before, between and after the cycles, and the median is kept: the machine's
        # speed drifts, and one timing could flatter or wrong the cycles.
        bare_runs = [bare_calls()]
        make_orders(n, provider)
        with connection.cursor() as cursor:  # table statistics, as autovacuum would have them in production
            cursor.execute("ANALYZE")
        startup = statistics.median(manage(connection, "version")[0] for _ in range(3))
        cycles = []
        for label, round_ in CYCLES:
            ROUND.value = round_
            seconds, report = poll_orders_process(connection)
            cycles.append((label, report, seconds - startup))
            bare_runs.append(bare_calls())
        bare = statistics.median(bare_runs)
        assert cycles[0][1]["polled"] == n, cycles[0][1]

        # The database work alone: the same cycles for a second provider's N orders, answered from memory (the
        # first provider's orders stay in the table, inactive).
        rounds = []
        for round_ in range(len(CYCLES)):
            ROUND.value, answers = round_, {}
            for i in range(0, n, 100):
                answers.update(client.statuses(ids[i:i + 100]))
            rounds.append(answers)
        Provider.objects.filter(pk=provider.pk).update(is_active=False)
        memory = Provider.objects.create(name="Answers in memory", api_url="http://127.0.0.1:9/", api_key="k",
                                         poll_concurrency=concurrency)
        make_orders(n, memory)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        alone = []
        with mock.patch.object(Provider, "client", lambda self: AnswersInMemory(rounds)):
            for _, round_ in CYCLES:
                ROUND.value = round_
                seconds, _, queries, report = run_cycle(connection)
                alone.append((seconds, queries, report))
        assert [r.polled for _, _, r in alone] == [r["polled"] for _, r, _ in cycles], (alone, cycles)

        naive = statistics.median(naive_runs)

        print(f"poll cycle, {n} active orders, {connection.vendor}, the provider answering after "
              f"{LATENCY * 1000:.0f} ms, up to {concurrency} calls in flight")
        print(f"bare sequential calls      {bare:8.3f} s for {n} IDs in {math.ceil(n / 100)} calls (median of "
              f"{', '.join(f'{t:.3f}' for t in bare_runs)}); this process's CPU {statistics.median(bare_cpu):.3f} s")
        print(f"naive loop, one per order  {naive:8.3f} s for {n} IDs (timed on {min(n, naive_sample)}, scaled up; "
              f"median of {', '.join(f'{t:.1f}' for t in naive_runs)})")
        print(f"manage.py start-up         {startup:8.3f} s (manage.py version, median of 3), taken off each cycle")
        for (label, report, seconds), (alone_seconds, queries, _) in zip(cycles, alone, strict=True):
            share = report["polled"] / n  # the bare and naive figures for as many IDs as the cycle polled
            print(f"\n{label}: {report['polled']} polled, {report['changed']} changed, {report['refunded']} refunded")
            print(f"  status calls {report['calls']} (ceil(polled/100) = {math.ceil(report['polled'] / 100)}), "
                  f"failed {report['failed']}")
            print(f"  manage.py poll_orders {seconds:.3f} s: {seconds / (bare * share):.2f}x the bare sequential calls, "
                  f"{naive * share / seconds:.0f}x faster than the naive loop (the cycle itself, as the command "
                  f"timed it: {report['inside']:.3f} s)")
            print(f"  its database work alone (answers in memory) {alone_seconds:.3f} s, {queries} SQL queries: "
                  f"{alone_seconds / (bare * share):.2f}x the bare calls")


def database_url(connection) -> str:
    """The test database the bench made, as DATABASE_URL spells it, for the processes it starts."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return (f"postgres://{settings['USER']}{password}@{settings.get('HOST') or '127.0.0.1'}:"
            f"{settings.get('PORT') or 5432}/{settings['NAME']}")


def manage(connection, *command) -> tuple[float, str]:
    """Run a manage.py command as its own process, on the bench's database; its wall time and output."""
    env = {**os.environ, "DATABASE_URL": database_url(connection), "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *command], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return seconds, result.stdout


REPORT = re.compile(r"Poll cycle in (?P<inside>[0-9.]+) s: (?P<calls>\d+) provider calls, (?P<polled>\d+) orders polled, (?P<changed>\d+) changed, "
                    r"(?P<refunded>\d+) refunded, \d+ per-item errors, (?P<failed>\d+) failed calls")


def poll_orders_process(connection) -> tuple[float, dict]:
    """One cycle as an operator runs it, `manage.py poll_orders`, a minute after the last (an order asked
    about within POLL_REPOLL_SECONDS is skipped): its wall time and the counts it printed."""
    from django.db.models import F

    from orders.models import Order

    Order.objects.update(last_polled_at=F("last_polled_at") - timedelta(minutes=1))
    seconds, out = manage(connection, "poll_orders")
    counts = REPORT.search(out)
    assert counts, out
    return seconds, {name: float(value) if name == "inside" else int(value)
                     for name, value in counts.groupdict().items()}


def run_cycle(connection):
    """One cycle of polling, a minute after the last (an order asked about within POLL_REPOLL_SECONDS is
    skipped): its seconds, this process's CPU, SQL queries and report."""
    from _setup import QueryCounter
    from django.db.models import F

    from orders import polling
    from orders.models import Order

    Order.objects.update(last_polled_at=F("last_polled_at") - timedelta(minutes=1))
    with QueryCounter(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        report = polling.run_cycle()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds, cpu, queries.count, report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("orders", nargs="?", type=int, default=10000)
    parser.add_argument("--latency", type=float, default=20.0, metavar="MS", help="the provider's delay per answer")
    parser.add_argument("--concurrency", type=int, default=4, metavar="K", help="calls in flight per provider")
    args = parser.parse_args()
    LATENCY = args.latency / 1000
    # With a delay, the naive loop is timed on about a second's worth of calls rather than on 500.
    main(args.orders, NAIVE_SAMPLE if not LATENCY else max(20, min(NAIVE_SAMPLE, round(1 / LATENCY))),
         args.concurrency)
