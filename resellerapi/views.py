"""The HTTP faces of the reseller API: /api/v2 itself, and the customers' API page with their key."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.services import api_key_rotate

from . import api, docs, errors

log = logging.getLogger(__name__)


@csrf_exempt  # a machine endpoint authenticated by its key field, never by a session cookie
def api_v2(request: HttpRequest) -> HttpResponse:
    # Every answer is HTTP 200 JSON, errors included: clients in the wild read non-2xx as a network failure.
    answer = api.handle(request)
    try:
        return JsonResponse(answer, safe=False)
    except (TypeError, ValueError):  # an answer that is not JSON-able is our bug; the client still gets JSON
        log.exception("reseller API: an answer was not serialisable")
        return JsonResponse({"error": errors.INTERNAL_ERROR})


@never_cache
@login_required
def api_page(request: HttpRequest) -> HttpResponse:
    endpoint = request.build_absolute_uri(reverse("resellerapi:v2"))
    request.user.refresh_from_db(fields=["api_key"])
    return render(request, "resellerapi/api.html", {
        "endpoint": endpoint,
        "api_key": request.user.api_key,
        "actions": [
            {"action": action, "calls": [
                {"call": call, "curl": docs.curl_example(endpoint, action.name, call)} for call in action.calls
            ]}
            for action in docs.ACTIONS
        ],
        "add_types": docs.ADD_TYPES,
        "errors": docs.ERRORS,
        "max_ids": docs.MAX_IDS,
        "python_example": docs.python_example(endpoint),
        "php_example": docs.php_example(endpoint),
        "key_placeholder": docs.KEY_PLACEHOLDER,
    })


@require_POST
@login_required
def api_key_new(request: HttpRequest) -> HttpResponse:
    had_key = bool(request.user.api_key)
    api_key_rotate(user=request.user)
    if had_key:
        messages.success(request, "New API key made. The old key stopped working just now.")
    else:
        messages.success(request, "API key made.")
    return redirect("resellerapi:page")
