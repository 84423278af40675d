"""/api/v2 under load: gunicorn with 2 workers on 127.0.0.1, a throw-away database, 8 concurrent clients.

Prints `add` orders per second with 8 clients placing orders at once, and p50/p95 of a 100-ID `status`
call. Orders are only queued (charged, not sent): the provider points at a dead port and the Celery broker
is `memory://`, so handing an order to a worker never waits on a network. Run:

    .venv/bin/python bench/api_load.py                      # SQLite: a temp file under var/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/panel .venv/bin/python bench/api_load.py

DATABASE_URL names the server; the bench creates its own database (SQLite file or `panel_bench_api_<pid>`:
two benches on one server do not drop each other's), migrates it, and drops it at the end. Before dropping
it, it checks that every order placed was charged: the balance the API answers is the deposit less the
charges, and `check_ledger` passes. Traffic goes to 127.0.0.1 only.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from _setup import process_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
BENCH_DB_NAME = f"panel_bench_api_{os.getpid()}"
DEPOSIT = Decimal("1000000")
CHARGE = Decimal("0.1")  # 100 units at 1.00 per 1000
DEAD_PROVIDER = "http://127.0.0.1:9/api/v2"  # the discard port: nothing listens, orders stay queued


# --- The throw-away database ----------------------------------------------------------------------------


class SqliteDatabase:
    def __init__(self):
        self.path = VAR / f"bench_api_{os.getpid()}.sqlite3"
        self.url = f"sqlite:///{self.path}?conn_max_age=60"
        self.label = "SQLite (file, WAL)"

    def create(self):
        VAR.mkdir(exist_ok=True)
        self.drop()

    def drop(self):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def backend_pids(self) -> list[int]:
        return []  # SQLite runs inside the gunicorn workers


class PostgresDatabase:
    def __init__(self, server_url: str):
        parts = urlsplit(server_url)
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path=f"/{BENCH_DB_NAME}"))
        self.label = f"PostgreSQL ({BENCH_DB_NAME})"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(sql)

    def create(self):
        self.drop()
        self._admin(f'CREATE DATABASE "{BENCH_DB_NAME}"')

    def drop(self):
        self._admin(f'DROP DATABASE IF EXISTS "{BENCH_DB_NAME}" WITH (FORCE)')

    def backend_pids(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [BENCH_DB_NAME]).fetchall()
        return [pid for (pid,) in rows]


def bench_database():
    url = os.environ.get("DATABASE_URL", "")
    return PostgresDatabase(url) if url.startswith(("postgres://", "postgresql://")) else SqliteDatabase()


def bench_environment(database) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database.url,
        "CELERY_BROKER_URL": "memory://",  # dispatch never waits on a broker
        "API_RATE_LIMIT_PER_MINUTE": "0",  # the bench measures the API, not the limiter
        "DEBUG": "0",  # as in production: no query log kept per request
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",  # DEBUG=0 refuses the console backend
        "SECRET_KEY": "bench-only-secret-key-not-for-production",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "panel.settings",
    })
    return env


def prepare(env: dict) -> tuple[str, int]:
    """Migrate, then make a customer with funds and a key, and a service. Returns (key, service ID)."""
    result = subprocess.run([sys.executable, "-c", SETUP_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"set-up failed:\n{result.stderr[-3000:]}")
    key, service_id = result.stdout.strip().splitlines()[-1].split()
    return key, int(service_id)


SETUP_SCRIPT = f"""
import django
django.setup()
from decimal import Decimal
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", verbosity=0)
from accounts.models import User
from accounts.services import api_key_rotate, wallet_deposit
from catalog.models import Category, Provider, ProviderService, Service
user = User.objects.create_user("bench", password="bench-pass-123")
wallet_deposit(user=user, amount=Decimal("{DEPOSIT}"))
provider = Provider.objects.create(name="Dead", api_url="{DEAD_PROVIDER}", api_key="bench-provider-key")
now = timezone.now()
mirror = ProviderService.objects.create(provider=provider, external_id="1", name="Followers", type="Default",
    rate=Decimal("0.5"), min_quantity=10, max_quantity=100000, first_seen_at=now, last_seen_at=now)
service = Service.objects.create(name="Followers", category=Category.objects.create(name="Bench"),
    type="Default", provider_service=mirror, rate=Decimal("1"), min_quantity=10, max_quantity=100000)
print(api_key_rotate(user=user), service.pk)
"""


# --- gunicorn -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int, threads: int, log_path: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    # --threads 1 is gunicorn's sync worker; more threads make it the gthread worker (panel/gunicorn.conf.py,
    # which the Dockerfile uses, defaults to 4). No access log here: the bench measures the app.
    return subprocess.Popen(
        [str(gunicorn), "panel.wsgi:application", "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("gunicorn exited while starting")
        try:
            if requests.post(url, data={"action": "balance"}, timeout=2).json():
                return
        except (requests.RequestException, ValueError):
            time.sleep(0.2)
    sys.exit("gunicorn did not answer in time")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Load -----------------------------------------------------------------------------------------------


class ApiClient:
    """A lean HTTP client (http.client, one connection, reopened when the server closes it): the load
    generator shares this machine's CPUs with the server, so it should spend as little of them as it can."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path
        self.connection = None

    def post(self, fields: dict):
        body = urlencode(fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request("POST", self.path, body, headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            return json.loads(data)


def run_adds(url: str, key: str, service_id: int, *, clients: int, seconds: float, max_adds: int,
             request_ids: bool = False):
    """`clients` threads placing orders until `seconds` pass or `max_adds` are placed. Returns (IDs, errors, s)."""
    placed: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        api = ApiClient(url)
        i = 0
        while time.monotonic() < stop_at:
            with lock:
                if len(placed) + len(errors) >= max_adds:
                    return
            i += 1
            fields = {"key": key, "action": "add", "service": service_id, "quantity": 100,
                      "link": f"https://instagram.com/p/{n}-{i}"}
            if request_ids:  # a fresh one per order, as a careful reseller sends: one more lookup each
                fields["request_id"] = f"bench-{n}-{i}"
            answer = api.post(fields)
            with lock:
                (placed.append(answer["order"]) if "order" in answer else errors.append(str(answer)))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return placed, errors, time.monotonic() - started


def run_statuses(url: str, key: str, order_ids: list[int], *, calls: int) -> list[float]:
    """`calls` sequential `status` calls of 100 IDs each; their latencies in milliseconds."""
    api = ApiClient(url)
    latencies = []
    for n in range(calls):
        start = (n * 100) % max(len(order_ids) - 100, 1)
        ids = ",".join(map(str, order_ids[start:start + 100]))
        began = time.perf_counter()
        answer = api.post({"key": key, "action": "status", "orders": ids})
        latencies.append((time.perf_counter() - began) * 1000)
        if len(answer) != 100 or any("error" in item for item in answer.values()):
            sys.exit(f"status answered unexpectedly: {str(answer)[:300]}")
    return latencies


def verify(url: str, key: str, env: dict, placed: list[int]) -> str:
    """Every order placed was really taken: distinct IDs, the balance down by exactly their charges, and
    check_ledger (balances equal ledgers, every order's money adds up). Exits on a mismatch."""
    if len(set(placed)) != len(placed):
        sys.exit("the same order ID was answered twice")
    expected = DEPOSIT - CHARGE * len(placed)
    balance = Decimal(ApiClient(url).post({"key": key, "action": "balance"})["balance"])
    if balance != expected:
        sys.exit(f"balance {balance}, expected {expected} after {len(placed)} orders")
    result = subprocess.run([sys.executable, "manage.py", "check_ledger"], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"check_ledger failed:\n{result.stderr[-3000:]}")
    return f"balance {balance} = deposit less {len(placed)} charges; check_ledger OK"


# --- CPU spent serving: steadier than orders/s on a machine shared with others ---------------------------


def server_pids(server: subprocess.Popen, database) -> dict[str, list[int]]:
    """gunicorn's master and workers, and the PostgreSQL backends connected to the bench database."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
    return {"gunicorn": [server.pid, *workers], "PostgreSQL": database.backend_pids()}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="per worker (gthread, as panel/gunicorn.conf.py); 1 = sync")
    parser.add_argument("--seconds", type=float, default=10.0, help="at most this long placing orders")
    parser.add_argument("--max-adds", type=int, default=5000, help="at most this many orders")
    parser.add_argument("--status-calls", type=int, default=200)
    parser.add_argument("--request-ids", action="store_true", help="send a fresh request_id with each add")
    args = parser.parse_args()

    database = bench_database()
    env = bench_environment(database)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v2"
    log_path = VAR / "bench_api_gunicorn.log"
    database.create()
    server = None
    try:
        key, service_id = prepare(env)
        server = start_gunicorn(env, port, args.workers, args.threads, log_path)
        wait_until_up(url, server)
        # A warm-up, so that every worker thread has its database connection before the measured run.
        warm_up, _, _ = run_adds(url, key, service_id, clients=args.clients, seconds=0.5, max_adds=50)
        pids = server_pids(server, database)
        cpu_before = {name: process_cpu_seconds(group) for name, group in pids.items()}
        placed, errors, elapsed = run_adds(url, key, service_id, clients=args.clients, seconds=args.seconds,
                                           max_adds=args.max_adds, request_ids=args.request_ids)
        cpu = {name: process_cpu_seconds(group) - cpu_before[name] for name, group in pids.items()}
        if len(placed) < 100:
            sys.exit(f"only {len(placed)} orders placed; errors: {errors[:3]}")
        latencies = run_statuses(url, key, placed, calls=args.status_calls)
        verified = verify(url, key, env, warm_up + placed)
    finally:
        if server is not None:
            stop(server)
        database.drop()

    charged = CHARGE * len(placed)
    worker = "sync" if args.threads == 1 else f"gthread x{args.threads}"
    print(f"database: {database.label}; gunicorn {args.workers} workers ({worker}), {args.clients} clients")
    print(f"add: {len(placed)} orders in {elapsed:.2f} s = {len(placed) / elapsed:.0f} orders/s "
          f"({len(errors)} errors; {charged} charged)")
    per_add = {name: seconds * 1000 / len(placed) for name, seconds in cpu.items() if seconds}
    print(f"CPU per add: {sum(per_add.values()):.2f} ms (" + ", ".join(f"{name} {ms:.2f}" for name, ms in
                                                           per_add.items()) + f"; the machine has {os.cpu_count()} cores)")
    print(f"status of 100 IDs, {len(latencies)} calls: p50 {percentile(latencies, 0.5):.1f} ms, "
          f"p95 {percentile(latencies, 0.95):.1f} ms, mean {statistics.mean(latencies):.1f} ms")
    print(f"verified: {verified}")
    if errors:
        print(f"first errors: {errors[:3]}")


if __name__ == "__main__":
    main()
