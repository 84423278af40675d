"""The API's rate limit with 2 gunicorn workers: counted in each worker's memory (LocMem) or shared (Redis).

For each cache, gunicorn serves the panel as production does (panel/gunicorn.conf.py: 2 workers, gthread
with 4 threads, DEBUG=0) with API_RATE_LIMIT_PER_MINUTE=600, and 8 clients send 1,400 `balance` calls with
one customer's key inside one minute (the limit's window is the clock's minute: the calls start early in a
minute, and the run is done again if they cross into the next). Printed per cache: the calls accepted and
refused ("Too many requests"). On LocMem each worker counts alone, so up to 2 x 600 go through; on Redis
(`CACHE_URL=redis://127.0.0.1:6379/11`, this bench's own database, emptied before and after) the count is
one, and exactly 600 go through.

Run: `.venv/bin/python bench/rate_limit.py [--calls 1400] [--limit 600] [--workers 2]` (DATABASE_URL picks
the database as for bench/api_load.py: a SQLite file under var/ by default, or a throw-away PostgreSQL one).
"""

import argparse
import functools
import sys
import threading
import time
from pathlib import Path

from _setup import ROOT, redis_flush
from api_load import ApiClient, bench_database, bench_environment, free_port, prepare, stop

print = functools.partial(print, flush=True)  # noqa: A001 - each line as soon as it is known

REDIS_CACHE = "redis://127.0.0.1:6379/11"
CACHES = {"LocMem (each worker's memory)": "locmemcache://", "Redis (shared)": REDIS_CACHE}
CLIENTS = 8
TOO_MANY = "Too many requests"


def start_gunicorn(env: dict, port: int, workers: int, log_path: Path):
    import subprocess

    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}
    return subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "panel.wsgi:application",
                             "-c", "panel/gunicorn.conf.py"], cwd=ROOT, env=env,
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115 - the server's


def wait_until_up(url: str, server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited while starting: see var/bench_rate_limit_gunicorn.log")
        try:
            if ApiClient(url).post({"action": "balance"}):  # no key: answered, and counted against no one
                return
        except (OSError, ValueError):
            time.sleep(0.2)
    sys.exit("gunicorn did not answer in time")


def wait_for_early_in_a_minute(seconds_needed: float) -> None:
    """Until the clock's minute has at least `seconds_needed` left (the limiter's window is that minute)."""
    into = time.time() % 60
    if into > 60 - seconds_needed:
        time.sleep(60 - into + 0.2)


def send(url: str, key: str, calls: int) -> dict:
    """`calls` balance calls with one key from CLIENTS threads; the answers counted."""
    counts = {"accepted": 0, "refused": 0, "other": 0}
    left = [calls]
    lock = threading.Lock()
    others = []

    def client() -> None:
        api = ApiClient(url)
        while True:
            with lock:
                if not left[0]:
                    return
                left[0] -= 1
            answer = api.post({"key": key, "action": "balance"})
            kind = "accepted" if "balance" in answer else "refused" if answer == {"error": TOO_MANY} else "other"
            with lock:
                counts[kind] += 1
                if kind == "other":
                    others.append(answer)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts["others"] = others[:3]
    return counts


def one_cache(label: str, cache_url: str, args) -> dict:
    database = bench_database()
    env = bench_environment(database)
    env.update({"CACHE_URL": cache_url, "API_RATE_LIMIT_PER_MINUTE": str(args.limit),
                "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"})
    if cache_url.startswith("redis://"):
        redis_flush(cache_url)
    database.create()
    server = None
    try:
        key, _ = prepare(env)
        port = free_port()
        url = f"http://127.0.0.1:{port}/api/v2"
        server = start_gunicorn(env, port, args.workers, ROOT / "var" / "bench_rate_limit_gunicorn.log")
        wait_until_up(url, server)
        for _attempt in range(3):
            wait_for_early_in_a_minute(args.window_needed)
            started = time.time()
            counts = send(url, key, args.calls)
            ended = time.time()
            if int(started // 60) == int(ended // 60):
                return {**counts, "seconds": ended - started}
            print(f"  {label}: the calls crossed a minute boundary ({ended - started:.1f} s); again")
            time.sleep(61)  # a fresh window, whatever the previous one counted
        sys.exit(f"{label}: the calls never fitted in one minute")
    finally:
        if server is not None:
            stop(server)
        database.drop()
        if cache_url.startswith("redis://"):
            redis_flush(cache_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1400)
    parser.add_argument("--limit", type=int, default=600, help="API_RATE_LIMIT_PER_MINUTE")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--window-needed", type=float, default=40.0,
                        help="start only with this many seconds left in the minute")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    print(f"{args.calls} `balance` calls with one key, {CLIENTS} clients, gunicorn {args.workers} workers "
          f"(gthread), API_RATE_LIMIT_PER_MINUTE={args.limit}, all inside one minute:")
    results = {}
    for label, cache_url in CACHES.items():
        counts = one_cache(label, cache_url, args)
        results[label] = counts
        print(f"  {label:<30} accepted {counts['accepted']:>5}, refused {counts['refused']:>5}, "
              f"other {counts['other']} ({counts['seconds']:.1f} s)" + (f" {counts['others']}" if counts["other"] else ""))
    shared = results["Redis (shared)"]
    if shared["accepted"] != min(args.limit, args.calls) or shared["other"]:
        sys.exit(f"on Redis {shared['accepted']} calls went through, not {min(args.limit, args.calls)}")


if __name__ == "__main__":
    main()
