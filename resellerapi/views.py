"""The HTTP faces of the reseller API: /api/v2 itself, and the customers' API page with their key."""

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.services import api_key_networks_set, api_key_rotate

from . import api, docs, errors, selectors
from .forms import AllowListForm

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from accounts.models import User

    class LoggedInRequest(HttpRequest):
        """A request that login_required let through: its user is a customer (or staff), never anonymous."""

        user: User
else:
    LoggedInRequest = HttpRequest


@csrf_exempt  # a machine endpoint authenticated by its key field, never by a session cookie
def api_v2(request: HttpRequest) -> HttpResponse:
    # Every answer is HTTP 200 JSON, errors included: clients in the wild read non-2xx as a network failure.
    answer = api.handle(request)
    try:
        return JsonResponse(answer, safe=False)
    except (TypeError, ValueError):  # an answer that is not JSON-able is our bug; the client still gets JSON
        log.exception("reseller API: an answer was not serialisable")
        return JsonResponse({"error": errors.INTERNAL_ERROR})


def _page(request: LoggedInRequest, *, new_key: str = "", allow_form: AllowListForm | None = None,
          status: int = 200) -> HttpResponse:
    endpoint = request.build_absolute_uri(reverse("resellerapi:v2"))
    user = request.user
    user.refresh_from_db(fields=["api_key_digest", "api_key_hint", "api_key_created_at", "api_allowed_networks",
                                 "api_recent_addresses"])
    if allow_form is None:
        allow_form = AllowListForm(initial={"networks": "\n".join(user.api_allowed_networks)})
    recent = sorted(((address, datetime.fromtimestamp(seen, tz=UTC))
                     for address, seen in (user.api_recent_addresses or {}).items() if isinstance(seen, int)),
                    key=lambda item: item[1], reverse=True)
    response = render(request, "resellerapi/api.html", {
        "endpoint": endpoint,
        "has_key": bool(user.api_key_digest),
        "key_hint": user.api_key_hint,
        "key_created_at": user.api_key_created_at,
        "new_key": new_key,
        "allow_form": allow_form,
        "allowed": user.api_allowed_networks,
        "recent": [{"address": address, "seen": seen,
                    "allowed": selectors.address_allowed(user, address)} for address, seen in recent],
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
    }, status=status)
    return response


@never_cache
@login_required
def api_page(request: LoggedInRequest) -> HttpResponse:
    return _page(request)


@never_cache
@require_POST
@login_required
def api_key_new(request: LoggedInRequest) -> HttpResponse:
    """Make a new key and show it on this answer, the only time it is shown (only its digest is kept). The
    answer is the page itself rather than a redirect: the key is never put in a session or a message store."""
    request.user.refresh_from_db(fields=["api_key_digest"])
    had_key = bool(request.user.api_key_digest)
    key = api_key_rotate(user=request.user)
    if had_key:
        messages.success(request, "New API key made. The old key stopped working just now.")
    else:
        messages.success(request, "API key made.")
    return _page(request, new_key=key)


@never_cache
@require_POST
@login_required
def api_networks(request: LoggedInRequest) -> HttpResponse:
    form = AllowListForm(request.POST)
    if not form.is_valid():
        return _page(request, allow_form=form, status=400)
    networks = form.cleaned_data["networks"]
    api_key_networks_set(user=request.user, networks=networks)
    if networks:
        messages.success(request, f"Only {len(networks)} listed address{'es' if len(networks) != 1 else ''} or "
                                  f"network{'s' if len(networks) != 1 else ''} may use your key now.")
    else:
        messages.success(request, "Any address may use your key now.")
    return redirect(reverse("resellerapi:page") + "#key")
