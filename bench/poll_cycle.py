"""Polling benchmark: N active orders (default 10,000) against a stub provider over loopback HTTP.

Prints, for one cycle: `status` calls made, SQL queries and seconds; in the same run, the seconds of a naive
loop of one `status` call per order (timed on a sample and scaled up) and of the bare batched HTTP calls
with no database work, each the median of four timings (before, between and after the cycles), and this
process's CPU for each. Three cycles are measured: the worst case, where every order changes (all are
Pending; a tenth complete, the rest go In progress); a typical minute later (a third of those running
move: some complete, some end Partial and are refunded, most progress); and an idle minute (nothing
moved). The provider runs in its own process, as a real one runs on another machine.

The three cycles are then run again on a second set of N orders whose provider answers from memory (the
same answers, parsed beforehand): that is the cycle's database work alone, the least a cycle can take
however fast the provider and its answers' parsing. Run: `.venv/bin/python bench/poll_cycle.py [N]`
(DATABASE_URL picks the database). `--latency MS` makes the stub wait that long before each answer, as a
provider across the internet does (the naive loop is then timed on fewer orders).
"""

import argparse
import math
import multiprocessing
import statistics
import time
from datetime import timedelta
from unittest import mock

from _setup import django_test_database, stub_provider

NAIVE_SAMPLE = 500
# Seconds the stub waits before each answer (--latency); set before its process is forked.
LATENCY = 0.0
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


def main(n: int, naive_sample: int) -> None:
    # The provider first: its process is forked before Django connects to the database.
    with stub_provider(stub_answer, own_process=True) as url, django_test_database() as connection:
        from catalog.models import Provider

        provider = Provider.objects.create(name="Stub", api_url=url, api_key="bench-key")
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
        cycles = []
        for label, round_ in CYCLES:
            ROUND.value = round_
            seconds, cpu, queries, report = run_cycle(connection)
            cycles.append((label, report, queries, seconds, cpu))
            bare_runs.append(bare_calls())
        bare = statistics.median(bare_runs)
        assert cycles[0][1].polled == n, cycles[0][1]

        # The database work alone: the same cycles for a second provider's N orders, answered from memory (the
        # first provider's orders stay in the table, inactive).
        rounds = []
        for round_ in range(len(CYCLES)):
            ROUND.value, answers = round_, {}
            for i in range(0, n, 100):
                answers.update(client.statuses(ids[i:i + 100]))
            rounds.append(answers)
        Provider.objects.filter(pk=provider.pk).update(is_active=False)
        memory = Provider.objects.create(name="Answers in memory", api_url="http://127.0.0.1:9/", api_key="k")
        make_orders(n, memory)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        alone = []
        with mock.patch.object(Provider, "client", lambda self: AnswersInMemory(rounds)):
            for _, round_ in CYCLES:
                ROUND.value = round_
                seconds, _, _, report = run_cycle(connection)
                alone.append((seconds, report))
        assert [r.polled for _, r in alone] == [r.polled for _, r, *_ in cycles], (alone, cycles)

        naive = statistics.median(naive_runs)

        print(f"poll cycle, {n} active orders, {connection.vendor}, the provider answering after "
              f"{LATENCY * 1000:.0f} ms")
        print(f"bare batched HTTP calls    {bare:8.3f} s for {n} IDs (median of "
              f"{', '.join(f'{t:.3f}' for t in bare_runs)}); this process's CPU "
              f"{statistics.median(bare_cpu):.3f} s")
        print(f"naive loop, one per order  {naive:8.3f} s for {n} IDs (timed on {min(n, naive_sample)}, scaled up; median of "
              f"{', '.join(f'{t:.1f}' for t in naive_runs)})")
        for (label, report, queries, seconds, cpu), (alone_seconds, _) in zip(cycles, alone, strict=True):
            share = report.polled / n  # the bare and naive figures for as many IDs as the cycle polled
            print(f"\n{label}: {report.polled} polled, {report.changed} changed, {report.refunded} refunded")
            print(f"  status calls {report.calls} (ceil(polled/100) = {math.ceil(report.polled / 100)}), "
                  f"SQL queries {queries}")
            print(f"  {seconds:.3f} s: {seconds / (bare * share):.2f}x the bare calls, "
                  f"{naive * share / seconds:.1f}x faster than the naive loop; this process's CPU {cpu:.3f} s")
            print(f"  its database work alone (answers in memory) {alone_seconds:.3f} s: "
                  f"{alone_seconds / (bare * share):.2f}x the bare calls")


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
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS", help="the provider's delay per answer")
    args = parser.parse_args()
    LATENCY = args.latency / 1000
    # With a delay, the naive loop is timed on about a second's worth of calls rather than on 500.
    main(args.orders, NAIVE_SAMPLE if not LATENCY else max(20, min(NAIVE_SAMPLE, round(1 / LATENCY))))
