"""The panel under load: 50 customers ordering through the pages and the API while polling runs, as in production.

The stack, on this machine: a throw-away PostgreSQL database (`panel_bench_load_<pid>` on the server
DATABASE_URL names, default postgres://postgres@127.0.0.1:5432), Redis at 127.0.0.1:6379 for the cache (its
database 9: the API's rate limit, counted there) and the Celery broker (database 10), both emptied before and
after; the panel served by gunicorn as production serves it (panel/gunicorn.conf.py: DEBUG=0, a SECRET_KEY,
whitenoise, the access log; `--workers`, default 3, gthread with `--threads`, default 4), one Celery worker
(prefork, `--concurrency`, default 4, as docker-compose.yml) and beat polling every `--poll-interval` s
(default 5); a stub provider in its own process answering every call after 50 to 150 ms, whose orders go
Pending, then In progress, then Completed (one in ten Partial, refunded) in about 10 s.

The customers: `--customers` (default 50) accounts, each with its own balance and a history of `--history`
finished orders; `--api-customers` (default 20) of them are resellers calling /api/v2 (`add`, `status` of one
order and of 100, `balance`, and `services` every fifth round), the others use the pages as a browser does
(logged in once with a session and CSRF, then: the services page, the new-order page, its live quote, the
order placed through the form, the order's page it is sent to, the orders list). They run as `--processes`
(default 5) processes of threads, without pauses, for `--warm-up` s (default 10), then `--seconds` s
(default 60) measured. Before them, the baseline: one browser and one reseller, one request at a time, on
the idle panel.

Printed: per kind of request and overall, requests, req/s, errors (HTTP 5xx, wrong answers, `{"error"}`
answers) and latency p50/p95/p99/max beside the baseline's; CPU used by each part, the load generator's
own among them; then the orders the customers were told were placed against those in the database and
those the provider received (each once, with the ID the panel holds), once polling has brought every order
to its final status, and `check_ledger` run as a process. Exit status 1 if any check fails.

Run: `.venv/bin/python bench/load.py [--customers 50] [--seconds 60] [--workers 3] ...`
"""

import argparse
import functools
import http.client
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from _setup import (
    ROOT,
    ThrowawayPostgres,
    machine_cpu_seconds,
    percentile,
    process_cpu_seconds,
    process_tree,
    redis_flush,
    stub_provider,
)

print = functools.partial(print, flush=True)  # noqa: A001 - each line as soon as it is known

VAR = ROOT / "var"
DB_NAME = f"panel_bench_load_{os.getpid()}"
REDIS = "redis://127.0.0.1:6379"
CACHE_URL, BROKER_URL = f"{REDIS}/9", f"{REDIS}/10"  # this bench's own databases: emptied before and after
PASSWORD = "load-bench-pass-42"  # noqa: S105 - throw-away accounts on a throw-away database
DEPOSIT = "10000"
HISTORY_LINK = "https://instagram.com/history/"
FINAL = ("Completed", "Partial", "Canceled")
KINDS_WEB = ("services page", "new-order page", "new-order quote", "place order (form)", "order page",
             "orders list")
KINDS_API = ("api add", "api status", "api status x100", "api balance", "api services")
KINDS_ONCE = ("login", "static files")

# --- The provider: in its own process, answering after 50 to 150 ms --------------------------------------

DELAY = (0.05, 0.15)  # seconds, uniformly: set before the provider's process is forked
SERVICES = 200  # services in the catalog (--services): the provider lists them, the panel sells them


class Upstream:
    """In the provider's process: every order it took, by its ID, and the IDs it gave each link."""

    lock = threading.Lock()
    orders: dict = {}  # provider's ID -> (monotonic time taken, quantity)
    links: dict = defaultdict(list)  # link -> [provider's IDs]


def _upstream_status(order_id: str):
    taken = Upstream.orders.get(order_id)
    if taken is None:
        return {"error": "Incorrect order ID"}
    age, quantity = time.monotonic() - taken[0], taken[1]
    n = int(order_id)
    if age < 2:
        status, remains = "Pending", quantity
    elif age < 8:
        status, remains = "In progress", quantity // 2
    else:
        status, remains = ("Partial", quantity // 4) if n % 10 == 0 else ("Completed", 0)
    return {"charge": "0.05000", "start_count": "100", "status": status, "remains": str(remains),
            "currency": "USD"}


def provider_answer(fields: dict):
    action = fields.get("action")
    if action == "bench_received":  # the bench's own question, not an API v2 action; answered at once
        with Upstream.lock:
            return {"links": dict(Upstream.links)}
    time.sleep(random.uniform(*DELAY))
    if action == "add":
        if not fields.get("link") or not fields.get("service"):
            return {"error": "Incorrect request"}
        with Upstream.lock:
            order_id = str(len(Upstream.orders) + 1)
            Upstream.orders[order_id] = (time.monotonic(), int(fields.get("quantity") or 0))
            Upstream.links[fields["link"]].append(order_id)
        return {"order": order_id}
    if action == "status":
        if "orders" in fields:
            return {i: _upstream_status(i) for i in fields["orders"].split(",")}
        return _upstream_status(fields.get("order", ""))
    if action == "services":
        return [{"service": str(i), "name": f"Bench service {i:03d}", "type": "Default",
                 "category": f"Bench category {i % 10}", "rate": "0.50000", "min": "10", "max": "100000",
                 "refill": False, "cancel": False} for i in range(1, SERVICES + 1)]
    if action == "balance":
        return {"balance": "1000000.00000", "currency": "USD"}
    return {"error": "Incorrect request"}


# --- The database, filled by a process of its own (Django) -------------------------------------------------

PREPARE = """
The accounts, catalog and history in the bench database: run as `load.py --prepare` with the parameters as
JSON on stdin; prints the accounts as JSON.
"""


def prepare_in_django(params: dict) -> dict:
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import LedgerEntry, User
    from accounts.services import api_key_rotate, wallet_deposit
    from catalog.models import Category, Provider, ProviderService, Service
    from orders.models import Order

    call_command("migrate", verbosity=0)
    provider = Provider.objects.create(name="Load stub", api_url=params["provider_url"], api_key="bench-provider-key")
    now = timezone.now()
    categories = [Category.objects.create(name=f"Bench category {c}", sort_order=c) for c in range(10)]
    services = []
    for i in range(1, params["services"] + 1):
        mirror = ProviderService.objects.create(
            provider=provider, external_id=str(i), name=f"Bench service {i:03d}", type="Default",
            category=f"Bench category {i % 10}", rate=Decimal("0.5"), min_quantity=10, max_quantity=100000,
            first_seen_at=now, last_seen_at=now)
        services.append(Service.objects.create(
            name=f"Bench service {i:03d}", category=categories[i % 10], type="Default", provider_service=mirror,
            rate=Decimal("1"), min_quantity=10, max_quantity=100000, sort_order=i))
    password = make_password(PASSWORD)  # hashed once: the hasher's cost is paid at log-in, as in production
    accounts = []
    names = [f"c{n:02d}" for n in range(1, params["customers"] + 1)] + ["baseline-web", "baseline-api"]
    charge = Decimal("0.1")  # 100 units at 1.00 per 1000
    for n, username in enumerate(names):
        api = n < params["api_customers"] or username == "baseline-api"
        user = User.objects.create_user(username)
        User.objects.filter(pk=user.pk).update(password=password)
        wallet_deposit(user=user, amount=Decimal(DEPOSIT))
        # The history: orders that finished at the provider long ago (never polled again), charged in the ledger
        # as order_place charges them, written in bulk (order_place one by one took most of a minute).
        picked = [services[(n * 7 + h) % len(services)] for h in range(params["history"])]
        with transaction.atomic():
            history = Order.objects.bulk_create([Order(
                user=user, service=service, provider=provider, provider_service=service.provider_service,
                link=f"{HISTORY_LINK}{username}/{h}", quantity=100, units=100, rate=service.rate, charge=charge,
                state=Order.State.PLACED, status=Order.Status.COMPLETED, remains=0, start_count=100,
                external_id=f"H{n}-{h}", cost=Decimal("0.05"))
                for h, service in enumerate(picked)])
            balance = Decimal(DEPOSIT)
            entries = []
            for order in history:
                balance -= charge
                entries.append(LedgerEntry(user=user, kind=LedgerEntry.Kind.CHARGE, amount=-charge,
                                           balance_after=balance, order=order, note=f"Order #{order.pk}"))
            LedgerEntry.objects.bulk_create(entries)
            User.objects.filter(pk=user.pk).update(balance=balance)
        accounts.append({"username": username, "api": api, "key": api_key_rotate(user=user) if api else "",
                         "history": [order.pk for order in history]})
    return {"accounts": accounts, "services": [service.pk for service in services]}


# --- HTTP clients: lean (the load generator shares the machine's two cores with the panel) ---------------


class Answer:
    __slots__ = ("status", "location", "body")

    def __init__(self, status, location, body):
        self.status, self.location, self.body = status, location, body


class Client:
    """One keep-alive connection, with its cookies; a browser behind the TLS proxy production has."""

    def __init__(self, port: int):
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.connection = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields: dict | None = None, headers: dict | None = None) -> Answer:
        body = urlencode(fields) if fields is not None else None
        sent = {"X-Forwarded-Proto": "https", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        for attempt in (1, 2):
            reused = self.connection is not None
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body, sent)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2 or not reused:  # a kept-alive connection the server closed: once more
                    raise
                continue
            except (http.client.HTTPException, OSError):
                self.close()
                raise
            for header in response.msg.get_all("Set-Cookie") or ():
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            if (response.getheader("Connection") or "").lower() == "close":
                self.close()
            return Answer(response.status, response.getheader("Location") or "", data)
        raise AssertionError("unreachable")

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def post_form(self, path: str, fields: dict, headers: dict | None = None) -> Answer:
        """A form posted from one of the panel's pages, with the CSRF token its cookie holds."""
        fields = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
        return self.request("POST", path, fields, {"Origin": self.origin, "Referer": self.origin + path,
                                                   **(headers or {})})


class Recorder:
    """What one customer saw: (kind, started, seconds, problem) per request; the problem is '' when all was well."""

    def __init__(self):
        self.rows: list[tuple[str, float, float, str]] = []
        self.placed: list[int] = []

    def timed(self, kind: str, call, check):
        started = time.monotonic()
        try:
            answer = call()
        except Exception as exc:  # noqa: BLE001 - a request that failed is a result, not the bench's end
            self.rows.append((kind, started, time.monotonic() - started, f"exception {type(exc).__name__}"))
            return None
        seconds = time.monotonic() - started
        try:
            problem = check(answer)
        except Exception as exc:  # noqa: BLE001 - an answer the check could not read is a wrong answer
            problem = f"wrong answer ({type(exc).__name__})"
        self.rows.append((kind, started, seconds, problem or ""))
        return None if problem else answer


def _page_problem(answer: Answer, marker: bytes | None = None, status: int = 200) -> str:
    if answer.status >= 500:
        return f"HTTP {answer.status}"
    if answer.status != status:
        return f"wrong answer (HTTP {answer.status} {answer.location})"
    if marker is not None and marker not in answer.body:
        return f"wrong answer (no {marker.decode()!r})"
    return ""


def _api_json(answer: Answer):
    if answer.status >= 500:
        raise _Problem(f"HTTP {answer.status}")
    if answer.status != 200:
        raise _Problem(f"wrong answer (HTTP {answer.status})")
    data = json.loads(answer.body)
    if isinstance(data, dict) and "error" in data:
        raise _Problem(f"error {data['error']!r}")
    return data


class _Problem(Exception):
    pass


def _api_check(test):
    def check(answer):
        try:
            data = _api_json(answer)
        except _Problem as problem:
            return str(problem)
        return "" if test(data) else f"wrong answer {str(data)[:80]}"

    return check


class Browser:
    """A customer on the pages: logs in once, then goes round services -> new order -> order -> orders list."""

    def __init__(self, port: int, account: dict, services: list[int], record: Recorder):
        self.client = Client(port)
        self.account, self.services, self.record = account, services, record
        self.n = 0

    def log_in(self) -> bool:
        self.client.request("GET", "/accounts/login/")  # the form, and the CSRF cookie with it
        answer = self.record.timed("login", lambda: self.client.post_form(
            "/accounts/login/", {"username": self.account["username"], "password": PASSWORD}),
            lambda a: _page_problem(a, status=302) or ("" if "sessionid" in self.client.cookies
                                                       else "wrong answer (no session)"))
        if answer is None:
            return False
        page = self.client.request("GET", "/accounts/")
        assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', page.body)
        for asset in dict.fromkeys(assets):  # a first visit fetches the stylesheet and the scripts once
            self.record.timed("static files", lambda a=asset: self.client.request("GET", a.decode()),
                              lambda a: _page_problem(a))
        return True

    def round(self) -> None:
        self.n += 1
        service = random.choice(self.services)
        link = f"https://instagram.com/p/{self.account['username']}-{self.n}"
        quantity = str(random.randrange(100, 1000, 10))
        order_fields = {"service": str(service), "link": link, "quantity": quantity}
        timed = self.record.timed
        timed("services page", lambda: self.client.request("GET", "/services/"),
              lambda a: _page_problem(a, b"Bench service 001"))
        timed("new-order page", lambda: self.client.request("GET", f"/orders/new/?service={service}"),
              lambda a: _page_problem(a, b'id="order-form"'))
        timed("new-order quote", lambda: self.client.post_form("/orders/new/quote/", order_fields,
                                                               {"HX-Request": "true"}),
              lambda a: _page_problem(a, b"Charge:"))
        placed = timed("place order (form)", lambda: self.client.post_form("/orders/new/", order_fields),
                       lambda a: _page_problem(a, status=302) or (
                           "" if re.fullmatch(r"/orders/\d+/", a.location) else f"wrong answer ({a.location})"))
        if placed is not None:
            order_id = int(placed.location.strip("/").rsplit("/", 1)[1])
            self.record.placed.append(order_id)
            timed("order page", lambda: self.client.request("GET", placed.location),
                  lambda a: _page_problem(a, link.encode()))
            timed("orders list", lambda: self.client.request("GET", "/orders/"),
                  lambda a: _page_problem(a, f"#{order_id}<".encode()))


class Reseller:
    """A customer's software on /api/v2: add, status of the new order and of its last 100, balance, services."""

    def __init__(self, port: int, account: dict, services: list[int], record: Recorder):
        self.client = Client(port)
        self.account, self.services, self.record = account, services, record
        self.orders = list(account["history"])
        self.n = 0

    def call(self, fields: dict) -> Answer:
        return self.client.request("POST", "/api/v2", {"key": self.account["key"], **fields})

    def round(self) -> None:
        self.n += 1
        timed = self.record.timed
        link = f"https://instagram.com/p/{self.account['username']}-{self.n}"
        added = timed("api add", lambda: self.call({
            "action": "add", "service": random.choice(self.services), "link": link,
            "quantity": random.randrange(100, 1000, 10)}),
            _api_check(lambda data: isinstance(data.get("order"), int)))
        if added is not None:
            order_id = json.loads(added.body)["order"]
            self.orders.append(order_id)
            self.record.placed.append(order_id)
        last = self.orders[-1]
        timed("api status", lambda: self.call({"action": "status", "order": last}),
              _api_check(lambda data: data.get("status") in ("Pending", "In progress", "Processing", *FINAL)))
        ids = self.orders[-100:]
        timed("api status x100", lambda: self.call({"action": "status", "orders": ",".join(map(str, ids))}),
              _api_check(lambda data: len(data) == len(ids) and all("error" not in item for item in data.values())))
        timed("api balance", lambda: self.call({"action": "balance"}),
              _api_check(lambda data: "balance" in data and data.get("currency")))
        if self.n % 5 == 1:
            timed("api services", lambda: self.call({"action": "services"}),
                  _api_check(lambda data: isinstance(data, list) and len(data) == len(self.services)))


# --- The load: processes of customer threads ---------------------------------------------------------------


def customer_process(port, accounts, services, ready, go, times, results) -> None:
    """One of the load generator's processes: a thread per customer, all logged in before the clock starts."""
    random.seed(os.getpid())
    records = [Recorder() for _ in accounts]
    people = [(Reseller if account["api"] else Browser)(port, account, services, record)
              for account, record in zip(accounts, records, strict=True)]

    def customer(person) -> None:
        go.wait()
        stop_at = times[2]
        while time.monotonic() < stop_at:
            person.round()

    # Every browser logs in first, all at once (and fetches the static files, as a first visit does).
    login_started = time.monotonic()
    logins = [threading.Thread(target=person.log_in) for person in people if isinstance(person, Browser)]
    for thread in logins:
        thread.start()
    for thread in logins:
        thread.join()
    login_seconds = time.monotonic() - login_started
    threads = [threading.Thread(target=customer, args=(person,)) for person in people]
    ready.put(os.getpid())
    go.wait()
    for thread in threads:
        thread.start()
    # This process's own CPU while it is measured: does the load generator limit what is measured?
    time.sleep(max(0.0, times[1] - time.monotonic()))
    cpu_from = time.process_time()
    time.sleep(max(0.0, times[2] - time.monotonic()))
    cpu = time.process_time() - cpu_from
    for thread in threads:
        thread.join()
    results.put({"rows": [row for record in records for row in record.rows],
                 "placed": [order for record in records for order in record.placed],
                 "cpu": cpu, "login_seconds": login_seconds})


class CpuWatch:
    """CPU time each group of processes spends between start() and stop(), processes that come and go
    included (a PostgreSQL backend is replaced when its connection reaches CONN_MAX_AGE): the groups are
    looked up every half second, and each process counted from start() or from when it was first seen."""

    def __init__(self, groups: dict):
        self.groups = groups
        self.first: dict = {}
        self.last: dict = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _sample(self, starting: bool = False) -> None:
        for name, find in self.groups.items():
            for pid in find():
                cpu = process_cpu_seconds([pid])
                self.first.setdefault((name, pid), cpu if starting else 0.0)
                if cpu or (name, pid) not in self.last:  # 0: the process is gone, keep what it had
                    self.last[(name, pid)] = cpu

    def _watch(self) -> None:
        while not self.done.wait(0.5):
            self._sample()

    def start(self):
        self.machine = machine_cpu_seconds()
        self._sample(starting=True)
        self.thread.start()
        return self

    def stop(self) -> dict:
        self.done.set()
        self.thread.join()
        self._sample()
        spent = dict.fromkeys(self.groups, 0.0)
        for (name, pid), cpu in self.last.items():
            spent[name] += cpu - self.first[(name, pid)]
        return {**spent, "machine": machine_cpu_seconds() - self.machine}


def run_load(port, accounts, services, *, processes: int, warm_up: float, seconds: float, on_measure) -> dict:
    context = multiprocessing.get_context("fork")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    times = context.Array("d", 3, lock=False)  # go, measure from, stop at (time.monotonic: shared by processes)
    children = [context.Process(target=customer_process,
                                args=(port, accounts[p::processes], services, ready, go, times, results))
                for p in range(processes)]
    started = time.monotonic()
    for child in children:
        child.start()
    for _ in children:
        ready.get(timeout=600)
    print(f"  {sum(1 for a in accounts if not a['api'])} browsers logged in ({time.monotonic() - started:.1f} s); "
          f"{warm_up:.0f} s of warm-up, then {seconds:.0f} s measured")
    now = time.monotonic()
    times[0], times[1], times[2] = now, now + warm_up, now + warm_up + seconds
    go.set()
    time.sleep(max(0.0, times[1] - time.monotonic()))
    sampled = on_measure()
    time.sleep(max(0.0, times[2] - time.monotonic()))
    sampled = on_measure(sampled)
    gathered = [results.get(timeout=600) for _ in children]
    for child in children:
        child.join()
    return {"rows": [row for g in gathered for row in g["rows"]], "placed": [o for g in gathered for o in g["placed"]],
            "client_cpu": sum(g["cpu"] for g in gathered), "from": times[1], "to": times[2], "cpu": sampled}


def run_baseline(port, web: dict, api: dict, services: list[int], rounds: int) -> dict:
    """The same requests, one at a time, on the idle panel: what each costs without the load."""
    record = Recorder()
    browser, reseller = Browser(port, web, services, record), Reseller(port, api, services, record)
    if not browser.log_in():
        sys.exit(f"baseline: the browser could not log in: {record.rows[-1]}")
    untimed = Recorder()
    for person in (browser, reseller):  # one round each first, not timed: connections opened, templates loaded
        person.record = untimed
        person.round()
        person.record = record
    for _ in range(rounds):
        browser.round()
    for _ in range(rounds):
        reseller.round()
    return {"rows": record.rows, "placed": untimed.placed + record.placed}


# --- The stack: gunicorn, Celery worker and beat ---------------------------------------------------------------


def stack_environment(database_url: str, args) -> dict:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "DATABASE_URL": database_url,
        "CACHE_URL": CACHE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "DEBUG": "0",
        "SECRET_KEY": "load-bench-only-secret-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SANDBOX_ENABLED": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "API_RATE_LIMIT_PER_MINUTE": str(args.rate_limit),
        "POLL_INTERVAL_SECONDS": str(args.poll_interval),
        "GUNICORN_WORKERS": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
    })
    return env


def manage(env: dict, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)


def start(name: str, command: list[str], env: dict) -> subprocess.Popen:
    log = open(VAR / f"bench_load_{name}.log", "w")  # noqa: SIM115 - the process's own, closed with it
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_up(port: int, processes: dict, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                sys.exit(f"{name} exited while starting: see var/bench_load_{name}.log")
        try:
            if Client(port).request("GET", "/services/").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit("the panel did not answer in time")


# --- After the load: polling's end, the provider's orders, the ledger ----------------------------------------------


def wait_for_polling(database: ThrowawayPostgres, timeout: float) -> tuple[float, dict]:
    """Until every order of the run was sent and reached a final status (or `timeout`); (seconds, counts)."""
    started = time.monotonic()
    while True:
        rows = database.query(
            "SELECT state, status = ANY(%s) AS final, count(*) FROM orders_order WHERE link NOT LIKE %s GROUP BY 1, 2",
            [list(FINAL), HISTORY_LINK + "%"])
        counts = {f"{state}{'' if state != 'placed' else (' final' if final else ' open')}": n
                  for state, final, n in rows}
        waiting = sum(n for key, n in counts.items() if key in ("queued", "sending", "placed open"))
        if not waiting or time.monotonic() - started > timeout:
            return time.monotonic() - started, counts
        time.sleep(1)


def check_provider(database: ThrowawayPostgres, provider_url: str, told: list[int]) -> tuple[list[str], dict]:
    """Every order the customers were told about is in the database once, and every charged order is at the
    provider once, under the ID the panel holds; the provider has no order the panel does not know."""
    problems = []
    rows = database.query("SELECT id, link, state, external_id, charge FROM orders_order WHERE link NOT LIKE %s",
                          [HISTORY_LINK + "%"])
    in_database = {row[0] for row in rows}
    if len(told) != len(set(told)):
        problems.append(f"{len(told) - len(set(told))} order IDs were given to two requests")
    if set(told) != in_database:
        problems.append(f"customers were told of {len(set(told))} orders, the database holds {len(in_database)} "
                        f"({len(set(told) - in_database)} missing, {len(in_database - set(told))} untold)")
    client = Client(int(provider_url.split(":")[2].split("/")[0]))
    received = json.loads(client.request("POST", "/api/v2", {"action": "bench_received"}).body)["links"]
    once = twice = missing = 0
    for _, link, state, external_id, charge in rows:
        ids = received.pop(link, [])
        if len(ids) > 1:
            twice += 1
        elif state == "placed" and ids == [external_id] and charge > 0:
            once += 1
        else:
            missing += 1
    if twice or missing or received:
        problems.append(f"at the provider: {twice} orders twice, {missing} charged orders not there once with "
                        f"their ID, {len(received)} orders the panel does not know")
    return problems, {"charged": sum(1 for row in rows if row[4] > 0), "once": once,
                      "received": once + twice + len(received)}


# --- The report ---------------------------------------------------------------------------------------------


def stats(rows) -> dict:
    seconds = [row[2] * 1000 for row in rows]
    problems = [row[3] for row in rows if row[3]]
    return {"n": len(rows), "errors": len(problems), "first": problems[:1],
            **({"p50": percentile(seconds, 0.5), "p95": percentile(seconds, 0.95), "p99": percentile(seconds, 0.99),
                "max": max(seconds)} if seconds else {})}


def report(load: dict, baseline: dict, duration: float) -> list[str]:
    measured = [row for row in load["rows"] if load["from"] <= row[1] < load["to"]]
    by_kind, base_by_kind = defaultdict(list), defaultdict(list)
    for row in measured:
        by_kind[row[0]].append(row)
    for row in baseline["rows"]:
        base_by_kind[row[0]].append(row)
    once = defaultdict(list)
    for row in load["rows"]:
        if row[0] in KINDS_ONCE:
            once[row[0]].append(row)
    head = (f"{'kind':<19} {'requests':>8} {'req/s':>7} {'errors':>8}   {'p50':>7} {'p95':>7} {'p99':>7} "
            f"{'max':>7}   {'idle p50':>8} {'idle p95':>8}  (ms)")
    print(head)
    print("-" * len(head))
    errors = []

    def line(name, rows, base_rows, per_second=True):
        s, b = stats(rows), stats(base_rows)
        if not s["n"]:
            return
        rate = f"{s['n'] / duration:7.1f}" if per_second else f"{'-':>7}"
        share = f"{100 * s['errors'] / s['n']:.1f}%"
        base = f"{b['p50']:8.1f} {b['p95']:8.1f}" if b["n"] else f"{'-':>8} {'-':>8}"
        print(f"{name:<19} {s['n']:>8} {rate} {share:>8}   {s['p50']:7.1f} {s['p95']:7.1f} {s['p99']:7.1f} "
              f"{s['max']:7.1f}   {base}")
        if s["errors"]:
            errors.append(f"{name}: {s['errors']} errors, the first: {s['first'][0]}")

    for kind in (*KINDS_WEB, *KINDS_API):
        line(kind, by_kind[kind], base_by_kind[kind])
    print("-" * len(head))
    line("pages", [r for r in measured if r[0] in KINDS_WEB], [r for r in baseline["rows"] if r[0] in KINDS_WEB])
    line("api", [r for r in measured if r[0] in KINDS_API], [r for r in baseline["rows"] if r[0] in KINDS_API])
    line("overall", measured, [r for r in baseline["rows"] if r[0] not in KINDS_ONCE])
    print("once per browser, before the clock (all at once):")
    for kind in KINDS_ONCE:
        line(f"  {kind}", once[kind], base_by_kind[kind], per_second=False)
    return errors


def main() -> None:  # noqa: C901, PLR0915 - a script's steps, in order
    global SERVICES  # the provider's catalog: set before its process is forked
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--api-customers", type=int, default=20, help="of the customers, resellers on /api/v2")
    parser.add_argument("--processes", type=int, default=5, help="load-generator processes (the customers' threads)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured")
    parser.add_argument("--warm-up", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--concurrency", type=int, default=4, help="Celery worker processes")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="seconds between polling cycles")
    parser.add_argument("--rate-limit", type=int, default=100000,
                        help="API calls per key per minute: counted in Redis on every call, high enough to refuse none")
    parser.add_argument("--services", type=int, default=SERVICES, help="services in the catalog")
    parser.add_argument("--history", type=int, default=100, help="finished orders each customer already has")
    parser.add_argument("--baseline-rounds", type=int, default=20)
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(prepare_in_django(json.load(sys.stdin))))
        return

    SERVICES = args.services
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        server = "postgres://postgres@127.0.0.1:5432/postgres"
    database = ThrowawayPostgres(server, DB_NAME)
    VAR.mkdir(exist_ok=True)
    for url in (CACHE_URL, BROKER_URL):
        redis_flush(url)
    failures: list[str] = []
    processes: dict[str, subprocess.Popen] = {}
    # The provider first: its process is forked before this one has threads or connections.
    with stub_provider(provider_answer, own_process=True) as provider_url:
        provider_pid = multiprocessing.active_children()[0].pid
        database.create()
        try:
            env = stack_environment(database.url, args)
            began = time.monotonic()
            setup = subprocess.run(
                [sys.executable, __file__, "--prepare"], cwd=ROOT, capture_output=True, text=True, check=False,
                env={**env, "CELERY_BROKER_URL": "memory://", "CACHE_URL": "locmemcache://"},
                input=json.dumps({"provider_url": provider_url, "services": args.services, "history": args.history,
                                  "customers": args.customers, "api_customers": args.api_customers}))
            if setup.returncode != 0:
                sys.exit(f"set-up failed:\n{setup.stderr[-3000:]}")
            prepared = json.loads(setup.stdout.strip().splitlines()[-1])
            static = manage(env, "collectstatic", "--noinput", "--verbosity", "0")
            if static.returncode != 0:
                sys.exit(f"collectstatic failed:\n{static.stderr[-2000:]}")
            print(f"set up in {time.monotonic() - began:.0f} s: {DB_NAME}, {args.customers} customers "
                  f"({args.api_customers} on the API) with {args.history} finished orders each, "
                  f"{args.services} services")
            port = _free_port()
            schedule = Path(tempfile.mkdtemp(prefix="bench_load_")) / "celerybeat-schedule"
            env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
            processes["gunicorn"] = start("gunicorn", [str(Path(sys.executable).with_name("gunicorn")),
                                                       "panel.wsgi:application", "-c", "panel/gunicorn.conf.py"], env)
            processes["worker"] = start("worker", [sys.executable, "-m", "celery", "-A", "panel", "worker",
                                                   "--loglevel=WARNING", f"--concurrency={args.concurrency}",
                                                   "-n", f"load{os.getpid()}@%h"], env)
            processes["beat"] = start("beat", [sys.executable, "-m", "celery", "-A", "panel", "beat",
                                               "--loglevel=WARNING", f"--schedule={schedule}"], env)
            wait_until_up(port, processes)
            print(f"gunicorn: {args.workers} workers x {args.threads} threads; Celery worker: {args.concurrency} "
                  f"processes; beat polling every {args.poll_interval:g} s; provider answers in "
                  f"{DELAY[0] * 1000:.0f}-{DELAY[1] * 1000:.0f} ms; {os.cpu_count()} cores")

            accounts = prepared["accounts"]
            base_web, base_api = accounts[-2], accounts[-1]
            baseline = run_baseline(port, base_web, base_api, prepared["services"], args.baseline_rounds)
            print(f"baseline: {len(baseline['rows'])} requests one at a time on the idle panel")

            redis_pid = _redis_pid()

            watch = CpuWatch({
                "gunicorn": lambda: process_tree(processes["gunicorn"].pid),
                "PostgreSQL": database.backend_pids,
                "Celery worker": lambda: process_tree(processes["worker"].pid),
                "beat": lambda: [processes["beat"].pid],
                "Redis (whole server)": lambda: [redis_pid] if redis_pid else [],
                "provider": lambda: [provider_pid],
            })

            def sample_cpu(started=None):
                return watch.start() if started is None else watch.stop()

            load = run_load(port, accounts[:-2], prepared["services"], processes=args.processes,
                            warm_up=args.warm_up, seconds=args.seconds, on_measure=sample_cpu)
            print()
            failures += report(load, baseline, args.seconds)

            cpu = dict(load["cpu"])
            machine = cpu.pop("machine")
            ours = sum(cpu.values()) + load["client_cpu"]
            print(f"\nCPU over the {args.seconds:.0f} s measured, in cores ({os.cpu_count()} on this machine): "
                  + ", ".join(f"{name} {seconds / args.seconds:.2f}" for name, seconds in cpu.items())
                  + f"; the load generator ({args.processes} processes) {load['client_cpu'] / args.seconds:.2f}; "
                  f"other processes on the machine {max(0.0, machine - ours) / args.seconds:.2f}")
            print(f"  the machine was {100 * machine / args.seconds / os.cpu_count():.0f}% busy; the load generator "
                  f"took {100 * load['client_cpu'] / max(machine, 1e-9):.0f}% of the CPU used, which the panel did "
                  "not get")
            print("\nafter the load:")
            drained, counts = wait_for_polling(database, args.drain_timeout)
            told = baseline["placed"] + load["placed"]
            print(f"  orders placed: {len(told)} ({len(load['placed'])} under load: "
                  f"{sum(1 for r in load['rows'] if r[0] == 'place order (form)' and not r[3])} by the form, "
                  f"{sum(1 for r in load['rows'] if r[0] == 'api add' and not r[3])} by the API, warm-up "
                  f"included); polling brought them to a final status {drained:.0f} s after the load: {counts}")
            if any(key in counts for key in ("queued", "sending", "placed open")):
                failures.append(f"orders not final {args.drain_timeout:.0f} s after the load: {counts}")
            problems, provider = check_provider(database, provider_url, told)
            failures += problems
            print(f"  the provider received {provider['received']} orders; {provider['once']} of the "
                  f"{provider['charged']} charged orders are there exactly once, with the panel's ID")
            ledger = manage(env, "check_ledger")
            print(f"  check_ledger: {'OK' if ledger.returncode == 0 else 'FAILED'}")
            if ledger.returncode != 0:
                failures.append(f"check_ledger: {ledger.stderr.strip()[-1500:]}")
            log = (VAR / "bench_load_gunicorn.log").read_text(errors="replace")
            tracebacks = log.count("Traceback")
            if tracebacks:
                failures.append(f"{tracebacks} tracebacks in var/bench_load_gunicorn.log")
        finally:
            for process in processes.values():
                stop(process)
            database.drop()
            for url in (CACHE_URL, BROKER_URL):
                redis_flush(url)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_pid() -> int | None:
    import redis

    client = redis.Redis.from_url(CACHE_URL)
    try:
        return int(client.info("server")["process_id"])
    except (redis.RedisError, KeyError, ValueError):
        return None
    finally:
        client.close()


if __name__ == "__main__":
    main()
