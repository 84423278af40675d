"""Constants and helpers for the smmapi tests (imported by name; not a test module)."""

import json
import socket
import threading
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from smmapi import Transport

URL = "https://provider.example/api/v2"
# Characters that URL-encoding changes, so a leak in encoded form would be caught too.
KEY = "sEcReT-k3y/+=&42"
KEY_FORMS = (KEY, "sEcReT-k3y%2F%2B%3D%2642", "sEcReT-k3y")

GET = Transport(method="GET")
POST_FORM = Transport()
POST_JSON = Transport(body="json")
TRANSPORTS = {"get": GET, "post-form": POST_FORM, "post-json": POST_JSON}


def sent_fields(request) -> dict[str, str]:
    """The fields a recorded request carried, whatever the transport."""
    query = parse_qs(urlsplit(request.url).query, keep_blank_values=True)
    if query:
        return {name: values[0] for name, values in query.items()}
    body = request.body or b""
    if isinstance(body, bytes):
        body = body.decode()
    if request.headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(body)
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


def leaks_key(text: str) -> bool:
    return any(form in text for form in KEY_FORMS)


def error_chain_text(error: BaseException) -> str:
    """str/repr/args of an error and of everything chained to it."""
    parts = []
    seen = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args), repr(vars(current))]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def closed_port() -> int:
    """A local port nothing listens on: bind, read the port, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def json_answer(body: bytes):
    """A handler that answers one well-formed JSON response and closes."""

    def handle(conn):
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )

    return handle


@contextmanager
def raw_http_server(handle):
    """A one-thread TCP server on 127.0.0.1 calling ``handle(conn)`` for each connection.

    Yields (url, connections): the raw requests received, one per connection, so tests
    can prove the client did not resend anything.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.1)
    stop = threading.Event()
    connections: list[bytes] = []  # one entry per accepted connection: the raw request

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                try:
                    connections.append(_read_request(conn))
                    handle(conn)
                except OSError:
                    pass  # the client gave up first (timeouts): nothing to do

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v2", connections
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _read_request(conn: socket.socket) -> bytes:
    """Read headers and a Content-Length body so the client has fully sent its request."""
    conn.settimeout(2)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
