"""The HTTP face of the sandbox: read the fields however they came, apply a queued fault, answer JSON."""

import contextlib
import json
import logging
import socket
import sys
import threading
import time
from types import FrameType
from typing import Any

from django.core.servers.basehttp import ServerHandler
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from . import api, faults
from .models import FaultKind, SandboxFault

logger = logging.getLogger(__name__)

HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>{status}</title></head><body><h1>{status} {reason}</h1></body></html>"
)
NOT_PERFORMED: dict[str, tuple[int, str]] = {FaultKind.HTML_500: (500, "Internal Server Error"), FaultKind.HTML_502: (502, "Bad Gateway")}


# The test database behind live_server is in-memory SQLite in "shared cache" mode, where a write that meets
# another thread's open transaction fails at once ("database table is locked") instead of waiting its turn.
# Taking turns per process avoids that; SQLite serialises writers anyway. On PostgreSQL no lock is taken:
# row locks and conditional UPDATEs keep concurrent requests correct, and they do under this lock too.
_SQLITE_TURN = threading.Lock()


def one_at_a_time():
    return _SQLITE_TURN if connection.vendor == "sqlite" else contextlib.nullcontext()


@csrf_exempt
def api_v2(request: HttpRequest) -> HttpResponseBase:
    fields = request_fields(request)
    with one_at_a_time():
        fault = faults.take(action=fields.get("action", "").strip())
        if fault and fault.kind in NOT_PERFORMED:
            return html_error(*NOT_PERFORMED[fault.kind])
        if fault and fault.kind == FaultKind.REFUSE:
            return JsonResponse({"error": fault.message})
        answer = safe_answer(fields)
    # Outside the turn: a slow or dropped answer must not hold up other requests.
    return deliver(answer, fault)


def html_error(status: int, reason: str) -> HttpResponse:
    page = HTML_ERROR.format(status=status, reason=reason)
    return HttpResponse(page, status=status, content_type="text/html")


def safe_answer(fields: dict[str, str]) -> Any:
    try:
        return api.answer(fields)
    except Exception:
        # Errors stay at HTTP 200 like a real provider's: a 500 must only ever come from an injected fault,
        # or tests of the client's "ambiguous" handling could pass for the wrong reason.
        logger.exception("sandbox API failed on action %r", fields.get("action"))
        return {"error": "Internal error"}


def request_fields(request: HttpRequest) -> dict[str, str]:
    """The request's fields from the query string, a form body or a JSON body (later ones win)."""
    fields = request.GET.dict()  # the last value of each field, as dict(items()) gives them
    if request.content_type == "application/json":
        fields.update(json_fields(request.body))
    elif request.method == "POST":
        fields.update(request.POST.dict())
    return fields


def json_fields(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(name): _field_text(value) for name, value in data.items()}


def _field_text(value: Any) -> str:
    # JSON clients send numbers and lists ("orders": [1, 2]); the API reads text, as from a form.
    if isinstance(value, list):
        return ",".join(_field_text(item) for item in value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def deliver(answer: Any, fault: SandboxFault | None) -> HttpResponseBase:
    body = json.dumps(answer).encode()
    if fault is None:
        return HttpResponse(body, content_type="application/json")
    if fault.kind == FaultKind.BROKEN_JSON:
        # Cut short by its closing bracket ("{\"order\": 12"): an object or array missing it is never JSON.
        return HttpResponse(body[:-1], content_type="application/json")
    if fault.kind == FaultKind.SLOW:
        time.sleep(fault.seconds)
        return HttpResponse(body, content_type="application/json")
    if fault.kind == FaultKind.DROP:
        return dropped(body)
    return HttpResponse(body, content_type="application/json")


def dropped(body: bytes) -> StreamingHttpResponse:
    """Announce the whole body, send half of it, then break the connection."""

    def chunks():
        yield body[: len(body) // 2]
        sever_dev_server_connection()
        # Production servers (gunicorn) close a connection whose app raised mid-body; Django's dev server
        # quietly ends on ConnectionAbortedError once the socket is shut above.
        raise ConnectionAbortedError("sandbox fault: connection dropped")

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    response["Content-Length"] = str(len(body))
    return response


def sever_dev_server_connection() -> None:
    # Django's dev/live server keeps an HTTP/1.1 connection open after an app error mid-body, so the client
    # would wait for the missing bytes until its timeout: a hang, not a drop. Find the server's handler up
    # the stack (it consumes our iterator) and shut its socket so the client sees the connection end now.
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        handler = frame.f_locals.get("self")
        if isinstance(handler, ServerHandler):
            # WSGIRequestHandler.handle_one_request sets request_handler on its ServerHandler (not in the stubs).
            request_handler = handler.request_handler  # type: ignore[attr-defined]
            request_handler.close_connection = True
            try:
                request_handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        frame = frame.f_back
