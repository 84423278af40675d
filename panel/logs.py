"""Logs an operator can feed to a collector: one JSON object a line, each with the request (or task) it
belongs to, and never a secret.

- `RequestIdMiddleware` gives every request an id: the proxy's `X-Request-ID` when it is a sane token, else a
  new one. It is answered back in `X-Request-ID` and stamped on every log line written while the request runs
  (gunicorn's access line too, panel.gunicorn_logging). A Celery task's lines carry its task id instead.
- `JsonFormatter` writes time, level, logger, message, request_id (and the exception's traceback).
- `RedactSecrets` blanks what looks like a credential in a line (`key=...`, `api_key: ...`, `password=...`,
  `Authorization: Bearer ...`, and the current SECRET_KEY) whatever logger wrote it: a third-party library's
  debug line must not be the leak.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from django.core.signals import request_finished

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

HEADER = "HTTP_X_REQUEST_ID"
SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

SECRET_FIELD = re.compile(
    r"(?P<name>\b(?:key|api_key|apikey|secret|password|passwd|token|sign|signature)\b[\"']?\s*[=:]\s*[\"']?)"
    r"(?P<value>[^\s&\"',;}]+)",
    re.IGNORECASE,
)
BEARER = re.compile(r"(?P<name>\b(?:Bearer|Basic)\s+)(?P<value>[A-Za-z0-9._~+/=-]+)")
MASK = "[redacted]"


def redact(text: str) -> str:
    text = SECRET_FIELD.sub(lambda m: m.group("name") + MASK, text)
    text = BEARER.sub(lambda m: m.group("name") + MASK, text)
    from django.conf import settings

    secret = getattr(settings, "SECRET_KEY", "") if settings.configured else ""
    if secret and len(secret) >= 16 and secret in text:
        text = text.replace(secret, MASK)
    return text


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get(HEADER, "")
        rid = given if SANE_ID.match(given) else uuid.uuid4().hex
        # Kept until the response is closed (request_finished below): Django logs a 4xx/5xx after the
        # middleware has returned, and that line belongs to this request too.
        request_id.set(rid)
        request.request_id = rid
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


def _forget_request_id(**kwargs) -> None:
    request_id.set("")


request_finished.connect(_forget_request_id, dispatch_uid="panel.logs.forget_request_id")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id.get() or _task_id()
        return True


class RedactSecrets(logging.Filter):
    """Formats the message once, redacted, so neither the formatter nor a handler sees the raw arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the template, never the arguments
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id.get(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def _task_id() -> str:
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return ""
    task = current_task
    request = getattr(task, "request", None) if task else None
    return (getattr(request, "id", None) or "") if request else ""
