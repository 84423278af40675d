"""`manage.py healthcheck --role web|worker|beat`: exit 0 when this container's process is healthy, 1 when not.

For Docker healthchecks, where the slim image has no curl:
- web: GET /healthz/live from the gunicorn in this container (the database and the cache), with a Host it
  accepts (the first of ALLOWED_HOSTS) and X-Forwarded-Proto: https, as the reverse proxy sends;
- worker: the Celery worker of this host (celery@<hostname>, Celery's default name) answers a ping through
  the broker; with several workers (`--scale worker=N`) each container asks about its own;
- beat: beat's heartbeat (noted every 30 s) is younger than panel.health.HEARTBEAT_MAX_AGE."""

import json
import os
import socket
import sys
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand

from panel import health


class Command(BaseCommand):
    help = "Exit 0 when this container's web, worker or beat process is healthy, 1 when it is not."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--role", choices=("web", "worker", "beat"), required=True)
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
        parser.add_argument("--url", help="web: the URL to ask (default: /healthz/live on GUNICORN_BIND's port)")
        parser.add_argument("--node", help="worker: the worker to ping (default: celery@<this host's name>)")

    def handle(self, *args, role, timeout, url, node, **options):
        ok, message = getattr(self, f"_{role}")(timeout=timeout, url=url, node=node)
        if not ok:
            self.stderr.write(f"{role}: unhealthy: {message}")
            sys.exit(1)
        self.stdout.write(f"{role}: healthy: {message}")

    def _web(self, *, timeout, url, **_):
        url = url or f"http://127.0.0.1:{_port()}/healthz/live"
        request = urllib.request.Request(url, headers={"Host": _host(), "X-Forwarded-Proto": "https"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own URL
                return True, f"{url} answered {response.status}"
        except urllib.error.HTTPError as error:
            return False, f"{url} answered {error.code}: {_failing(error.read())}"
        except (OSError, ValueError) as error:  # refused, timed out, a bad URL
            return False, f"{url} did not answer: {error}"

    def _worker(self, *, timeout, node, **_):
        from panel.celery import app

        node = node or f"celery@{socket.gethostname()}"
        try:
            replies = app.control.ping(destination=[node], timeout=timeout, limit=1)
        except Exception as error:  # the broker down
            return False, f"could not ask {node}: {type(error).__name__}"
        if any(reply.get(node) == {"ok": "pong"} for reply in replies or ()):
            return True, f"{node} answered"
        return False, f"{node} did not answer within {timeout:g} s"

    def _beat(self, **_):
        try:
            age = health.heartbeat_age("beat")
        except Exception as error:  # the database down
            return False, f"could not read beat's heartbeat: {type(error).__name__}"
        if age is None:
            return False, "beat has never noted a heartbeat"
        if age > health.HEARTBEAT_MAX_AGE:
            return False, f"beat's heartbeat is {age:.0f} s old (more than {health.HEARTBEAT_MAX_AGE} s)"
        return True, f"beat's heartbeat is {age:.0f} s old"


def _port() -> str:
    return os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]


def _host() -> str:
    """A Host header the panel accepts: the first of ALLOWED_HOSTS ('.example.com' stands for example.com)."""
    for host in settings.ALLOWED_HOSTS:
        if host != "*":
            return host.lstrip(".")
    return "localhost"


def _failing(body: bytes) -> str:
    """The names of the failing checks in a /healthz answer."""
    try:
        checks = json.loads(body)["checks"]
        return ", ".join(f"{name} {check['error']}" for name, check in checks.items() if not check["ok"])
    except (ValueError, KeyError, TypeError):
        return "not a health report"
