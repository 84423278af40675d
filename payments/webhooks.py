"""The gateways' notifications: verified by the gateway's module, kept, acted on once (payments.services)."""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import gateways, services
from .gateways.base import BadNotification

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, gateway: str) -> HttpResponse:
    """200 once a notification is kept and acted on (a replay too: the gateway may stop sending it); 400 for
    one that is not the gateway's, changing nothing; 404 for a gateway that is not configured here. A 500 (the
    database down) makes the gateway send it again later, which is what is wanted then."""
    try:
        gateway_module = gateways.get_gateway(gateway)
    except gateways.NotConfigured:
        return JsonResponse({"error": "no such gateway here"}, status=404)
    if not gateway_module.hosted:
        return JsonResponse({"error": "no such gateway here"}, status=404)
    body = request.body[:MAX_BODY + 1]
    if len(body) > MAX_BODY:
        return JsonResponse({"error": "too large"}, status=400)
    try:
        notice = gateway_module.parse(body, request.headers)
    except BadNotification as exc:
        # Neither the body nor the signature is logged: either may carry what a forger is fishing for.
        log.warning("payments: %s notification refused from %s: %s", gateway, request.META.get("REMOTE_ADDR"), exc)
        return JsonResponse({"error": "bad notification"}, status=400)
    outcome = services.notice_apply(gateway=gateway, notice=notice)
    log.info("payments: %s notification %s: %s", gateway, notice.event_id, outcome)
    return JsonResponse({"received": True})
