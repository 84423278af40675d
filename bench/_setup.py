"""Shared set-up for the benchmarks: Django on a throw-away test database, and a stub provider over HTTP."""

import json
import multiprocessing
import os
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings")


@contextmanager
def django_test_database(name: str = "bench"):
    """Django set up against a fresh test database: on SQLite the file `<name>.sqlite3` beside the panel's own
    database (a file, not memory: threads and processes must share it; each bench its own name, and a
    DATABASE_URL in a folder of its own keeps concurrent runs apart), test_<name> on PostgreSQL."""
    import django

    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        folder = Path(connection.settings_dict["NAME"]).parent
        folder.mkdir(parents=True, exist_ok=True)
        connection.settings_dict["TEST"]["NAME"] = str(folder / f"{name}.sqlite3")
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment(debug=False)  # as in production: no per-query log or SQL formatting
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


class QueryCounter:
    """Counts the statements run inside the block, on `connection` and on the connections other threads open
    meanwhile (the poller writes from threads of its own on PostgreSQL), without the cost of Django's debug
    cursor (which formats every statement's SQL and parameters, and would be measured along with the work)."""

    def __init__(self, connection):
        self.connection = connection
        self.count = 0
        self._lock = threading.Lock()
        self._wrapped = []

    def __call__(self, execute, sql, params, many, context):
        with self._lock:
            self.count += 1
        return execute(sql, params, many, context)

    def _connection_created(self, sender, connection, **kwargs):
        if self not in connection.execute_wrappers:  # a reconnection of a connection already counted
            connection.execute_wrappers.append(self)
            self._wrapped.append(connection)

    def __enter__(self):
        from django.db.backends.signals import connection_created

        self.connection.execute_wrappers.append(self)
        self._wrapped.append(self.connection)
        connection_created.connect(self._connection_created)
        return self

    def __exit__(self, *exc):
        from django.db.backends.signals import connection_created

        connection_created.disconnect(self._connection_created)
        for connection in self._wrapped:
            connection.execute_wrappers.remove(self)


def _stub_server(answer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out without waiting for a delayed ACK

        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            fields = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            body = json.dumps(answer(fields)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def _serve_in_child(answer, port_pipe):
    server = _stub_server(answer)
    port_pipe.send(server.server_address[1])
    server.serve_forever()


@contextmanager
def stub_provider(answer, *, own_process: bool = False):
    """An API v2 provider on 127.0.0.1: `answer(fields: dict) -> JSON-able` answers every request.

    With `own_process`, the provider runs in a forked process, as a real provider runs on another machine:
    its work then does not compete with the code being measured for this process's interpreter lock. Fork
    it before Django opens a database connection (it is given none, and must not share the parent's).
    """
    if own_process:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_serve_in_child, args=(answer, send), daemon=True)
        child.start()
        try:
            yield f"http://127.0.0.1:{receive.recv()}/api/v2"
        finally:
            child.terminate()
            child.join()
        return
    server = _stub_server(answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    finally:
        server.shutdown()
        server.server_close()


class ThrowawayPostgres:
    """A database of a bench's own on the PostgreSQL server `server_url` names (its path is ignored): created
    empty, dropped (with any connection left to it) at the end. Name it with the pid, so that two benches on one
    server never drop each other's."""

    def __init__(self, server_url: str, name: str):
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(server_url)
        self.name = name
        self.admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        self.url = urlunsplit(parts._replace(path=f"/{name}"))

    def _admin(self, sql: str, params=None) -> list:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def create(self) -> None:
        self.drop()
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def backend_pids(self) -> list[int]:
        """The server processes serving connections to this database now."""
        return [pid for (pid,) in self._admin("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.name])]

    def query(self, sql: str, params=None) -> list:
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as conn:
            return conn.execute(sql, params).fetchall()


def redis_flush(url: str) -> None:
    """Empty the one Redis database `url` names (redis://host:port/N), and no other."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def process_cpu_seconds(pids) -> float:
    """User + system CPU time of the processes (Linux /proc), 0 for one that is gone."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """The process and its descendants now (a gunicorn master and its workers, a Celery worker's pool)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        children = Path(f"/proc/{current}/task/{current}/children")
        try:
            todo.extend(int(child) for child in children.read_text().split())
        except OSError:
            continue
    return pids


def percentile(values, share: float) -> float:
    """The nearest-rank percentile of `values` (share 0.5 is the median, 1.0 the largest)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has been busy (every core, every process) since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
