"""Faults, as a table: orders placed while the provider, the broker, a worker or the database misbehave.

For each scenario the bench places orders as customers do (three in four through the panel's order service,
`orders.services.order_place`, in this process; one in four through the panel's own API v2, served by
gunicorn), lets the panel's real processes send and poll them to the end (a Celery worker, beat with its
sweep and its fanned-out poll cycles, and `manage.py poll_orders` where the scenario names it), and prints
one row:

- placed: orders the panel took (charged) / orders asked for;
- twice: panel orders the provider holds more than once (its orders counted by link, each panel order's
  link unique): must be 0;
- lost: a panel order, settled, that is neither at the provider, nor refunded, nor parked for staff: 0;
- open: orders still queued, sending or unfinished when the wait ended (a stuck order shows here): 0;
- parked: orders parked for a person (state failed: the outcome of their `add` is unknown), with how many
  of them the provider did take (the staff's decision: attach its ID, or cancel and refund);
- refunded: orders with money given back (rejected by the provider, Canceled or Partial there);
- ledger: `manage.py check_ledger`, run as a process after the scenario: ok or FAIL.

The provider is the sandbox app (/sandbox/api/v2) served by a second copy of this project under gunicorn,
on a SQLite database of its own (var/bench_faults/provider.sqlite3): it plays a remote provider, so it
shares nothing with the panel but HTTP, and a restart of the panel's database does not touch it. Its faults
(sandbox/faults.py) are queued in its database by this process; each hits the next `times` calls of its
action, so a fraction of the calls suffer it. PROVIDER_READ_TIMEOUT is 2 s, sandbox orders take 4 s.

Scenarios: timeouts (the provider answers `add` after 3.5 s, beyond the read timeout, having taken the
order), 5xx HTML (500 and 502 pages, not taken), broken JSON (taken, answer cut), dropped connections
(taken, connection cut mid-body), refusals ("Not enough funds on balance": the order stays queued and is
sent again by the sweep; "Incorrect link": rejected and refunded), the broker down while customers order
(Redis stopped, or the embedded broker's folder replaced by a file, then restored: the sweep sends them),
a worker killed with SIGKILL while `add`s are in flight (the provider slow on `add`; the sweep parks what
was in flight), two pollers at once (two `poll_orders` processes with POLL_REPOLL_SECONDS=0, so both claim
every order, beside beat's own cycles), the database restarted while a poll cycle runs (PostgreSQL only;
half the orders are placed after the restart). Status calls suffer the scenario's fault a couple of times
too (polling asks again; nothing is lost). The refusal and broker rows take over a minute each: the sweep
re-sends a queued order only once it is a minute old (orders.tasks.LOST_MESSAGE_AFTER).

Run (about four minutes):

    .venv/bin/python bench/faults.py                  # PostgreSQL + Redis: a cluster and a redis-server of its own
    .venv/bin/python bench/faults.py --sqlite         # SQLite + the embedded broker
    .venv/bin/python bench/faults.py --orders 40 --only timeouts,refusals

The PostgreSQL run creates a throw-away cluster (`pg_createcluster 15 benchfaults` on a free port, trust
auth) with a `bench_faults` database, and a redis-server on a free port (also the cache, as in
docker-compose.yml), and removes both at the end; the `panel` and `test_panel` databases and the shared
Redis are never touched. The SQLite run keeps everything under var/bench_faults/, removed at the end.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import requests
from _setup import ROOT

PYTHON = sys.executable
BIN = Path(sys.executable).parent
WORK = ROOT / "var" / "bench_faults"
PG_VERSION_DIR = Path("/etc/postgresql")
CLUSTER = "benchfaults"
DB_NAME = "bench_faults"
SECRET_KEY = "bench-faults-only-secret-key-not-for-production"

CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0
ORDER_SECONDS = 4.0  # a sandbox order's time from Pending to final
QUANTITY = 100
DEPOSIT = Decimal("10000")
# Panel settings for every process the bench starts: production's, with the clocks turned down.
PANEL_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SITE_URL": "http://127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "LOG_LEVEL": "ERROR",
    "SANDBOX_ENABLED": "0",
    "PROVIDER_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    "PROVIDER_READ_TIMEOUT": str(READ_TIMEOUT),
    "ORDER_SWEEP_SECONDS": "2",
    "POLL_INTERVAL_SECONDS": "2",
    "POLL_REPOLL_SECONDS": "1",
    "CATALOG_SYNC_SECONDS": "3600",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], *, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


class Process:
    """A process the bench started, in a session of its own: stopped, or killed, with its children."""

    def __init__(self, name: str, command: list[str], env: dict):
        self.name, self.command, self.env = name, command, env
        self.log_path = WORK / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        log = open(self.log_path, "a")  # noqa: SIM115 - the child holds it
        self.popen = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL to the process and its children (its process group): a crash, nothing cleaned up."""
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def stop(self) -> None:
        if not self.popen or self.popen.poll() is not None:
            return
        self.popen.terminate()  # the process itself: gunicorn and Celery stop their children in order
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


# --- The panel's database and broker ---------------------------------------------------------------------


class SqliteDatabase:
    label = "SQLite"
    can_restart = False

    def __init__(self):
        self.path = WORK / "panel.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def start(self):
        pass

    def restart(self):
        raise NotImplementedError

    def remove(self):
        pass  # WORK goes as a whole


class PostgresCluster:
    """A PostgreSQL cluster of the bench's own (Debian's pg_createcluster), on a free port: it can be restarted
    without disturbing anyone else's databases."""

    label = "PostgreSQL"
    can_restart = True

    def __init__(self):
        self.version = sorted(PG_VERSION_DIR.iterdir())[-1].name
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    def _ctl(self, action: str) -> None:
        run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, CLUSTER, action])

    def start(self):
        self.remove()  # a cluster left by an interrupted run of this bench
        run(["pg_createcluster", self.version, CLUSTER, "-p", str(self.port), "--", "--auth=trust"])
        self._ctl("start")
        run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q", "-c",
             f"CREATE DATABASE {DB_NAME}"])

    def restart(self):
        self._ctl("restart")

    def remove(self):
        if (PG_VERSION_DIR / self.version / CLUSTER).exists():
            run(["pg_dropcluster", "--stop", self.version, CLUSTER], check=False)


class FileBroker:
    """The embedded broker, in a folder of the bench's own (CELERY_BROKER_DIR). Down: its queue folder is
    replaced by a plain file, so nothing can be written to it (as root, a permission change would not stop a
    write); up: the folder is put back, with whatever it held."""

    label = "embedded broker"

    def __init__(self):
        self.folder = WORK / "broker"
        self.env = {"CELERY_BROKER_URL": "filesystem://localhost/", "CELERY_BROKER_DIR": str(self.folder)}

    def start(self):
        (self.folder / "queue").mkdir(parents=True, exist_ok=True)

    def down(self):
        queue = self.folder / "queue"
        queue.rename(self.folder / "queue.down")
        queue.write_text("the broker is down\n")

    def up(self):
        queue = self.folder / "queue"
        if queue.is_file():
            queue.unlink()
            (self.folder / "queue.down").rename(queue)

    def remove(self):
        self.up()


class RedisBroker:
    """A redis-server of the bench's own on a free port, no persistence: the broker and the cache, as in
    docker-compose.yml. Down: shut down (what it held is gone, as after a crash); up: started again."""

    label = "Redis"

    def __init__(self):
        self.port = free_port()
        self.env = {"CELERY_BROKER_URL": f"redis://127.0.0.1:{self.port}/0",
                    "CACHE_URL": f"redis://127.0.0.1:{self.port}/1"}

    def start(self):
        run(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "yes", "--pidfile", str(WORK / "redis.pid"), "--logfile", str(WORK / "redis.log")])
        deadline = time.monotonic() + 10
        while run(["redis-cli", "-p", str(self.port), "ping"], check=False).stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)

    def down(self):
        run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], check=False)
        deadline = time.monotonic() + 10
        while run(["redis-cli", "-p", str(self.port), "ping"], check=False).returncode == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not stop")
            time.sleep(0.1)

    def up(self):
        self.start()

    def remove(self):
        self.down()


# --- The bench ------------------------------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    asked: int = 0
    placed: int = 0
    twice: int = 0
    lost: int = 0
    open: int = 0
    parked: int = 0
    parked_held: int = 0
    refunded: int = 0
    ledger: str = ""
    notes: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, *, sqlite: bool, orders: int):
        self.n = orders
        self.database = SqliteDatabase() if sqlite else PostgresCluster()
        self.broker = FileBroker() if sqlite else RedisBroker()
        self.provider_db = WORK / "provider.sqlite3"
        self.env = {**os.environ, **PANEL_ENV, **self.broker.env, "DATABASE_URL": self.database.url}
        self.processes: dict[str, Process] = {}
        self.rows: list[Row] = []

    # --- set-up and tear-down ---

    def set_up(self) -> None:
        WORK.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        self.database.start()
        self._start_provider()
        run([PYTHON, "manage.py", "migrate", "--verbosity", "0"], env=self.env)
        self._django()
        self._world()
        self.web_url = f"http://127.0.0.1:{free_port()}"
        self.processes["web"] = Process("web", [str(BIN / "gunicorn"), "panel.wsgi:application", "--workers", "1",
                                                "--threads", "8", "--bind", self.web_url[7:],
                                                "--log-level", "warning"], self.env).start()
        self.start_worker()
        self.processes["beat"] = Process("beat", [str(BIN / "celery"), "-A", "panel", "beat", "--loglevel=WARNING",
                                                  f"--schedule={WORK / 'beat-schedule'}"], self.env).start()
        wait_for(lambda: _answers(self.web_url + "/api/v2"), 30, "the panel's web server")

    def start_worker(self) -> None:
        # As docker-compose.yml runs it: the prefork pool, four processes.
        self.processes["worker"] = Process("worker", [str(BIN / "celery"), "-A", "panel", "worker",
                                                      "--loglevel=WARNING", "--concurrency=4"], self.env).start()
        self._wait_worker_ready()

    def _wait_worker_ready(self) -> None:
        """Until the worker runs a task: a scenario must not begin (the broker taken down, say) while it is
        still starting."""
        from django.utils import timezone

        from core.models import Heartbeat
        from panel.celery import app

        since = timezone.now()
        deadline = time.monotonic() + 60
        while not Heartbeat.objects.filter(name="worker", at__gte=since).exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker ran no task within 60 s: see {WORK / 'worker.log'}")
            app.send_task("panel.heartbeat")
            time.sleep(1)

    def _start_provider(self) -> None:
        env = {**os.environ, **PANEL_ENV, "DATABASE_URL": f"sqlite:///{self.provider_db}", "SANDBOX_ENABLED": "1",
               "SANDBOX_ORDER_SECONDS": str(ORDER_SECONDS), "CELERY_BROKER_URL": "memory://"}
        run([PYTHON, "manage.py", "migrate", "--verbosity", "0"], env=env)
        out = run([PYTHON, "-c", PROVIDER_SETUP], env=env).stdout
        self.provider_key = out.strip().splitlines()[-1]
        port = free_port()
        # One process of many threads: SQLite has one writer, and the sandbox takes turns per process.
        self.processes["provider"] = Process("provider", [str(BIN / "gunicorn"), "panel.wsgi:application",
                                                          "--workers", "1", "--threads", "32",
                                                          "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
                                             env).start()
        self.provider_url = f"http://127.0.0.1:{port}/sandbox/api/v2"
        wait_for(lambda: _answers(self.provider_url), 30, "the sandbox provider")

    def _django(self) -> None:
        os.environ.update({**PANEL_ENV, **self.broker.env, "DATABASE_URL": self.database.url})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings")
        from django.conf import settings

        # The provider's own database, reached by this process only to queue faults and count its orders.
        settings.DATABASES["provider"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(self.provider_db),
                                          "OPTIONS": {"timeout": 20}}
        import django

        django.setup()

    def _world(self) -> None:
        from accounts.services import api_key_rotate, user_ensure, wallet_deposit
        from catalog.models import Provider, Service
        from catalog.sync import sync_catalog

        provider = Provider.objects.create(name="Sandbox", api_url=self.provider_url, api_key=self.provider_key)
        result = sync_catalog(provider)
        assert result.ok, result
        self.service = Service.objects.get(provider_service__provider=provider, provider_service__external_id="2")
        if not self.service.enabled:
            Service.objects.filter(pk=self.service.pk).update(enabled=True)
            self.service.refresh_from_db()
        self.alice = user_ensure(username="alice", password="bench-alice-pass", email="alice@example.com")
        bob = user_ensure(username="bob", password="bench-bob-pass", email="bob@example.com")
        for user in (self.alice, bob):
            wallet_deposit(user=user, amount=DEPOSIT, note="bench")
        self.bob_key = api_key_rotate(user=bob)

    def tear_down(self) -> None:
        from django.db import connections

        connections.close_all()
        for process in self.processes.values():
            process.stop()
        for step in (self.broker.remove, self.database.remove):
            try:
                step()
            except Exception as exc:  # the other must still go
                print(f"clean-up: {exc}", file=sys.stderr)

    # --- faults at the provider ---

    def inject(self, kind: str, *, action: str, times: int, message: str = "", seconds: float = 0) -> None:
        from sandbox import faults
        from sandbox.models import FaultKind, SandboxFault

        assert kind in FaultKind.values, kind
        if kind == FaultKind.REFUSE and not message:
            message = faults.DEFAULT_REFUSAL
        if times > 0:
            SandboxFault.objects.using("provider").create(kind=kind, action=action, times=times, message=message,
                                                          seconds=seconds)

    def clear_faults(self) -> None:
        from sandbox.models import SandboxFault

        SandboxFault.objects.using("provider").all().delete()

    # --- placing orders ---

    def place(self, tag: str, count: int, *, start: int = 0) -> tuple[list[int], list[str], list[str]]:
        """`count` orders from four customers at once: three in four through order_place (alice), one in four
        through the API v2 (bob). Returns the orders taken, every link asked for, and the refusals."""
        from django.db import connections

        from orders.services import OrderRefused, order_place

        def one(i: int):
            # Links decide the sandbox's outcome: one in five ends Partial, one in five Canceled.
            outcome = {1: "-partial", 2: "-cancel"}.get(i % 5, "")
            link = f"https://instagram.com/p/bench-{tag}-{i}{outcome}"
            try:
                if i % 4 == 3:
                    answer = self._api_add(link)
                    return link, answer.get("order"), answer.get("error")
                order = order_place(user=self.alice, service=self.service,
                                    fields={"link": link, "quantity": str(QUANTITY)})
                return link, order.pk, None
            except OrderRefused as exc:
                return link, None, exc.message
            except Exception as exc:
                return link, None, f"{exc.__class__.__name__}: {str(exc)[:80]}"
            finally:
                connections.close_all()  # this thread's own

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(one, range(start, start + count)))
        return ([pk for _, pk, _ in results if pk], [link for link, _, _ in results],
                [error for _, pk, error in results if not pk])

    def _api_add(self, link: str) -> dict:
        try:
            response = requests.post(self.web_url + "/api/v2", timeout=30, data={
                "key": self.bob_key, "action": "add", "service": self.service.pk, "link": link, "quantity": QUANTITY})
        except requests.RequestException as exc:
            return {"error": f"no answer ({exc.__class__.__name__})"}
        try:
            return response.json()
        except ValueError:
            return {"error": f"HTTP {response.status_code}, not JSON"}

    # --- waiting and counting ---

    def open_orders(self, ids: list[int]) -> int:
        from django.db.models import Q

        from orders.models import Order

        return Order.objects.filter(pk__in=ids).filter(
            Q(state__in=[Order.State.QUEUED, Order.State.SENDING])
            | Q(state=Order.State.PLACED) & ~Q(status__in=Order.FINAL_STATUSES)).count()

    def wait_settled(self, ids: list[int], timeout: float) -> float:
        started = time.monotonic()
        while self.open_orders(ids) and time.monotonic() - started < timeout:
            time.sleep(0.5)
        return time.monotonic() - started

    def row(self, name: str, ids: list[int], links: list[str], refusals: list[str], waited: float,
            notes: list[str]) -> Row:
        from django.db.models import Count

        from orders.models import Order
        from sandbox.models import SandboxOrder

        held = dict(SandboxOrder.objects.using("provider").filter(link__in=links).values_list("link")
                    .annotate(n=Count("id")).values_list("link", "n"))
        row = Row(name, asked=len(links), placed=len(ids), notes=list(notes))
        row.open = self.open_orders(ids)
        refunded_yet_held = 0
        for order in Order.objects.filter(pk__in=ids):
            copies = held.get(order.link, 0)
            row.twice += copies > 1
            parked = order.state == Order.State.FAILED
            row.parked += parked
            row.parked_held += parked and copies > 0
            row.refunded += order.refunded > 0
            settled = order.state not in (Order.State.QUEUED, Order.State.SENDING) and (
                order.state != Order.State.PLACED or order.is_final)
            if settled and not copies and not parked and order.refunded != order.charge:
                row.lost += 1
            if copies and order.state in (Order.State.REJECTED, Order.State.CANCELED):
                refunded_yet_held += 1
        taken = {order.link for order in Order.objects.filter(pk__in=ids)}
        untracked = sum(n for link, n in held.items() if link not in taken)
        if refunded_yet_held:
            row.notes.append(f"{refunded_yet_held} refunded as never sent, yet held by the provider")
        if untracked:
            row.notes.append(f"{untracked} provider orders of links the panel refused")
        if refusals:
            row.notes.append(f"refused at ordering: {summary(refusals)}")
        row.notes.append(f"settled in {waited:.0f} s")
        result = run([PYTHON, "manage.py", "check_ledger"], env=self.env, check=False)
        row.ledger = "ok" if result.returncode == 0 else "FAIL"
        if result.returncode:
            row.notes.append("check_ledger: " + " | ".join(result.stderr.strip().splitlines()[:3])[:300])
        self.rows.append(row)
        print_row(row)
        return row

    def scenario(self, name: str, tag: str, *, faults=(), wait: float = 90, notes=()) -> Row:
        """The common shape: queue the faults, place the orders, let them run to the end, count."""
        self.clear_faults()
        for kind, action, times, extra in faults:
            self.inject(kind, action=action, times=times, **extra)
        ids, links, refusals = self.place(tag, self.n)
        waited = self.wait_settled(ids, wait)
        return self.row(name, ids, links, refusals, waited, list(notes))


def summary(messages: list[str]) -> str:
    counts: dict[str, int] = {}
    for message in messages:
        counts[message] = counts.get(message, 0) + 1
    return "; ".join(f"{n} x {message!r}" for message, n in counts.items())


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up in {timeout:.0f} s")
        time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        return requests.post(url, data={"action": "balance"}, timeout=2).status_code == 200
    except requests.RequestException:
        return False


PROVIDER_SETUP = """
import django
django.setup()
from sandbox.catalog import ensure_catalog
from sandbox.services import create_account
ensure_catalog()
print(create_account(name="panel", balance="1000000").api_key)
"""


# --- Scenarios ------------------------------------------------------------------------------------------


def provider_faults(bench: Bench, name: str, tag: str, kinds: list[tuple], status_kind: str, status_extra=None):
    third = bench.n // 3
    faults = [(kind, "add", times or third, extra) for kind, times, extra in kinds]
    faults.append((status_kind, "status", 2, status_extra or {}))
    return bench.scenario(name, tag, faults=faults, wait=60)


def timeouts(bench: Bench) -> Row:
    late = {"seconds": READ_TIMEOUT + 1.5}
    row = provider_faults(bench, "timeouts", "slow", [("slow", 0, late)], "slow", late)
    time.sleep(late["seconds"])  # the provider's late answers end before the next scenario
    return row


def html_5xx(bench: Bench) -> Row:
    sixth = max(1, bench.n // 6)
    return provider_faults(bench, "5xx HTML", "5xx", [("html_500", sixth, {}), ("html_502", sixth, {})],
                           "html_502")


def broken_json(bench: Bench) -> Row:
    return provider_faults(bench, "broken JSON", "json", [("broken_json", 0, {})], "broken_json")


def dropped(bench: Bench) -> Row:
    return provider_faults(bench, "dropped connections", "drop", [("drop", 0, {})], "drop")


def refusals(bench: Bench) -> Row:
    quarter = max(1, bench.n // 4)
    return bench.scenario("refusals", "refuse", wait=150, faults=[
        ("refuse", "add", quarter, {"message": "Not enough funds on balance"}),  # not about the order: queued
        ("refuse", "add", quarter, {"message": "Incorrect link"}),  # about the order: rejected, refunded
        ("refuse", "status", 2, {"message": "Too many requests"}),
    ])


def broker_down(bench: Bench) -> Row:
    bench.clear_faults()
    started = time.monotonic()
    bench.broker.down()
    try:
        ids, links, refused = bench.place("broker", bench.n)
        placing = time.monotonic() - started
        time.sleep(max(0.0, 5 - placing))
    finally:
        bench.broker.up()
    down = time.monotonic() - started
    note = f"{bench.broker.label} down {down:.0f} s while the orders were taken ({placing:.0f} s)"
    waited = bench.wait_settled(ids, 150)
    return bench.row("broker down", ids, links, refused, waited, [note])


def worker_killed(bench: Bench) -> Row:
    from orders.models import Order

    bench.clear_faults()
    # Every `add` answered 1.5 s late (within the 2 s read timeout): the provider takes the order, then waits.
    bench.inject("slow", action="add", times=bench.n, seconds=READ_TIMEOUT - 0.5)
    ids, links, refused = bench.place("kill", bench.n)
    deadline = time.monotonic() + 30
    while Order.objects.filter(pk__in=ids, state=Order.State.SENDING).count() < 2:
        if time.monotonic() > deadline:
            raise RuntimeError("no order ever went into sending")
        time.sleep(0.02)
    time.sleep(0.5)  # the requests are at the provider, their answers on the way
    in_flight = Order.objects.filter(pk__in=ids, state=Order.State.SENDING).count()
    bench.processes["worker"].kill()
    time.sleep(1)
    bench.start_worker()
    waited = bench.wait_settled(ids, 120)
    bench.clear_faults()
    return bench.row("worker killed mid-add", ids, links, refused, waited,
                     [f"SIGKILL with {in_flight} add(s) in flight"])


def two_pollers(bench: Bench) -> Row:
    from orders.models import Order

    bench.clear_faults()
    ids, links, refused = bench.place("pollers", bench.n)
    wait_for(lambda: not Order.objects.filter(pk__in=ids, state__in=["queued", "sending"]).exists(), 60,
             "sending the orders")
    env = {**bench.env, "POLL_REPOLL_SECONDS": "0"}  # both claim every order: the writes' guard decides
    started, cycles, failures = time.monotonic(), 0, []
    while bench.open_orders(ids) and time.monotonic() - started < 90:
        pollers = [subprocess.Popen([PYTHON, "manage.py", "poll_orders"], cwd=ROOT, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        for poller in pollers:
            out, err = poller.communicate(timeout=120)
            cycles += 1
            if poller.returncode:
                failures.append(err.strip().splitlines()[-1] if err.strip() else f"exit {poller.returncode}")
    notes = [f"{cycles} poll_orders runs, two at a time, beside beat's cycles"]
    if failures:
        notes.append(f"poll_orders failed: {summary(failures)}")
    return bench.row("two pollers at once", ids, links, refused, time.monotonic() - started, notes)


def database_restarted(bench: Bench) -> Row:
    from django.db import connections

    from orders.models import Order

    if not bench.database.can_restart:
        row = Row("database restarted", notes=["skipped: SQLite is a file, there is no server to restart"])
        bench.rows.append(row)
        print_row(row)
        return row
    bench.clear_faults()
    half = bench.n // 2
    ids, links, refused = bench.place("dbrestart", half)
    wait_for(lambda: not Order.objects.filter(pk__in=ids, state__in=["queued", "sending"]).exists(), 60,
             "sending the orders")
    # The cycle's status calls answered late (within the read timeout), so the restart lands mid-cycle.
    bench.inject("slow", action="status", times=4, seconds=1.5)
    Order.objects.filter(pk__in=ids).update(last_polled_at=None)
    poller = subprocess.Popen([PYTHON, "manage.py", "poll_orders"], cwd=ROOT, env=bench.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.8)
    connections.close_all()
    started = time.monotonic()
    bench.database.restart()
    restart = time.monotonic() - started
    out, err = poller.communicate(timeout=120)
    cycle = (out.strip().splitlines() or [""])[0][:120] if poller.returncode == 0 else (
        f"poll_orders exited {poller.returncode}: {(err.strip().splitlines() or [''])[-1][:120]}")
    more, more_links, more_refused = bench.place("dbrestart", bench.n - half, start=half)
    ids, links, refused = ids + more, links + more_links, refused + more_refused
    waited = bench.wait_settled(ids, 90)
    return bench.row("database restarted", ids, links, refused, waited,
                     [f"restart took {restart:.1f} s; half the orders placed after it", cycle])


SCENARIOS = {
    "timeouts": timeouts,
    "5xx": html_5xx,
    "json": broken_json,
    "drop": dropped,
    "refusals": refusals,
    "broker": broker_down,
    "kill": worker_killed,
    "pollers": two_pollers,
    "dbrestart": database_restarted,
}


# --- The table ------------------------------------------------------------------------------------------

COLUMNS = f"{'scenario':<24} {'placed':>7} {'twice':>5} {'lost':>4} {'open':>4} {'parked (held)':>13} " \
          f"{'refunded':>8} {'ledger':>6}  notes"


def print_row(row: Row) -> None:
    if not row.asked:
        print(f"{row.scenario:<24} {'-':>7} {'-':>5} {'-':>4} {'-':>4} {'-':>13} {'-':>8} {'-':>6}  "
              f"{'; '.join(row.notes)}", flush=True)
        return
    parked = f"{row.parked} ({row.parked_held})"
    print(f"{row.scenario:<24} {f'{row.placed}/{row.asked}':>7} {row.twice:>5} {row.lost:>4} {row.open:>4} "
          f"{parked:>13} {row.refunded:>8} {row.ledger:>6}  {'; '.join(row.notes)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite and the embedded broker")
    parser.add_argument("--orders", type=int, default=24, metavar="N", help="orders per scenario (default 24)")
    parser.add_argument("--only", default="", help=f"comma-separated scenarios, of: {', '.join(SCENARIOS)}")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if args.orders < 6:
        parser.error("--orders must be 6 or more")
    shutil.rmtree(WORK, ignore_errors=True)
    bench = Bench(sqlite=args.sqlite, orders=args.orders)
    started = time.monotonic()
    try:
        bench.set_up()
        print(f"faults, {bench.database.label} + {bench.broker.label}, {args.orders} orders per scenario, "
              f"read timeout {READ_TIMEOUT:g} s, sandbox orders {ORDER_SECONDS:g} s")
        print(COLUMNS)
        for name in chosen:
            SCENARIOS[name](bench)
    finally:
        bench.tear_down()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(WORK, ignore_errors=True)
    bad = [row.scenario for row in bench.rows if row.asked and (row.twice or row.lost or row.open
                                                                 or row.ledger != "ok")]
    print(f"{time.monotonic() - started:.0f} s; " + (f"PROBLEMS in: {', '.join(bad)}" if bad else
                                                    "no order placed twice, none lost, the ledger adds up"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
