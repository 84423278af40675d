"""Serve this Django project on a loopback port for a moment, from inside a management command.

`seed_demo` runs before the web server is up, yet the demo provider is this panel's own sandbox: the
catalog sync has to go through real HTTP somewhere, so it goes through a short-lived server here.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.wsgi import get_wsgi_application
from django.db import connections


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(WSGIServer):
    def close_request(self, request: Any) -> None:
        connections.close_all()  # the serving thread's own: it ends with the block, and must not leave them open
        super().close_request(request)


@contextmanager
def serve_self() -> Iterator[str]:
    """Yield the base URL (http://127.0.0.1:PORT) of this project, served until the block ends."""
    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_Server,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
