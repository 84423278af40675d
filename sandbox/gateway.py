"""The simulated payment gateway: an API to create and read checkouts, a hosted page with Pay / Fail /
Abandon, and signed notifications to the merchant, sent a moment after the button (as real gateways send
them, after the customer is on their way back).

Signature: header `Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
SANDBOX_GATEWAY_SECRET, the scheme of Stripe's. The API takes `Authorization: Bearer <SANDBOX_GATEWAY_KEY>`.
"""

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

import requests
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .models import CheckoutStatus, SandboxCheckout

log = logging.getLogger(__name__)

DEFAULT_LIFETIME = timedelta(hours=1)
NOTIFY_TIMEOUT = 10


# --- The API the merchant calls -----------------------------------------------------------------------

def _authorized(request: HttpRequest) -> bool:
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(given) and hmac.compare_digest(given, settings.SANDBOX_GATEWAY_KEY)


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def checkout_json(checkout: SandboxCheckout, request: HttpRequest | None = None) -> dict:
    path = reverse("sandbox:gateway_page", args=[checkout.id])
    return {
        "id": checkout.id, "object": "checkout", "status": _status_now(checkout),
        "amount": f"{checkout.amount:f}", "currency": checkout.currency, "reference": checkout.reference,
        "refunded": f"{checkout.refunded:f}", "expires_at": int(checkout.expires_at.timestamp()),
        "url": request.build_absolute_uri(path) if request else path,
    }


def _status_now(checkout: SandboxCheckout) -> str:
    if checkout.status == CheckoutStatus.OPEN and checkout.expires_at <= timezone.now():
        return CheckoutStatus.EXPIRED
    return checkout.status


@csrf_exempt
def api_checkouts(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _error("POST a checkout", 405)
    if not _authorized(request):
        return _error("invalid API key", 401)
    try:
        data = json.loads(request.body or b"{}")
        amount = Decimal(str(data["amount"]))
        currency = str(data["currency"]).upper()
        fields = {name: str(data[name]) for name in ("reference", "notify_url", "success_url", "cancel_url")}
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return _error("amount, currency, reference, notify_url, success_url and cancel_url are required", 400)
    if not amount.is_finite() or amount <= 0 or len(currency) != 3:
        return _error("amount must be above zero and currency a 3-letter code", 400)
    now = timezone.now()
    expires_at = now + DEFAULT_LIFETIME
    if isinstance(data.get("expires_at"), int):
        expires_at = min(max(datetime.fromtimestamp(data["expires_at"], tz=UTC),
                             now + timedelta(minutes=1)), now + timedelta(days=1))
    checkout = SandboxCheckout.objects.create(amount=amount, currency=currency, created_at=now, expires_at=expires_at,
                                              description=str(data.get("description", ""))[:255], **fields)
    return JsonResponse(checkout_json(checkout, request))


def api_checkout(request: HttpRequest, checkout_id: str) -> HttpResponse:
    if not _authorized(request):
        return _error("invalid API key", 401)
    checkout = SandboxCheckout.objects.filter(pk=checkout_id).first()
    if checkout is None:
        return _error("no such checkout", 404)
    return JsonResponse(checkout_json(checkout, request))


@csrf_exempt
def api_refund(request: HttpRequest, checkout_id: str) -> HttpResponse:
    """Refund a paid checkout, whole or in part (`amount`), and notify the merchant."""
    if request.method != "POST":
        return _error("POST a refund", 405)
    if not _authorized(request):
        return _error("invalid API key", 401)
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return _error("the body must be JSON", 400)
    with transaction.atomic():
        checkout = SandboxCheckout.objects.select_for_update().filter(pk=checkout_id).first()
        if checkout is None:
            return _error("no such checkout", 404)
        if checkout.status not in (CheckoutStatus.PAID, CheckoutStatus.REFUNDED):
            return _error("only a paid checkout can be refunded", 400)
        try:
            amount = Decimal(str(data.get("amount", checkout.amount - checkout.refunded)))
        except InvalidOperation:
            return _error("amount must be a number", 400)
        if amount <= 0 or checkout.refunded + amount > checkout.amount:
            return _error("that is more than is left to refund", 400)
        checkout.refunded += amount
        checkout.status = CheckoutStatus.REFUNDED
        checkout.save(update_fields=["refunded", "status"])
    notify(checkout, "checkout.refunded", delay=0)
    return JsonResponse(checkout_json(checkout, request))


# --- The hosted page the customer pays on ----------------------------------------------------------------

@csrf_exempt  # the page's form carries a per-checkout ID; it is a stand-in gateway, not a page of the panel
def page(request: HttpRequest, checkout_id: str) -> HttpResponse:
    checkout = get_object_or_404(SandboxCheckout, pk=checkout_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "abandon":
            return redirect(checkout.cancel_url)
        if action in ("pay", "fail"):
            outcome = CheckoutStatus.PAID if action == "pay" else CheckoutStatus.FAILED
            moved = SandboxCheckout.objects.filter(pk=checkout.pk, status=CheckoutStatus.OPEN,
                                                   expires_at__gt=timezone.now()).update(status=outcome)
            if moved:
                checkout.status = outcome
                if request.POST.get("notify", "1") == "1":
                    notify(checkout, f"checkout.{outcome}", delay=settings.SANDBOX_GATEWAY_NOTIFY_DELAY)
                return redirect(checkout.success_url)
    return render(request, "sandbox/checkout.html", {"checkout": checkout, "status": _status_now(checkout)})


# --- Notifications ----------------------------------------------------------------------------------------

def sign(body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
    """The Sandbox-Signature header for a body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = (secret or settings.SANDBOX_GATEWAY_SECRET).encode()
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def notification(checkout: SandboxCheckout, kind: str) -> bytes:
    return json.dumps({"id": "evt_sandbox_" + secrets.token_hex(12), "type": kind, "created": int(time.time()),
                       "data": checkout_json(checkout)}).encode()


def notify(checkout: SandboxCheckout, kind: str, *, delay: float) -> None:
    """Send a signed notification to the merchant, after `delay` seconds in a thread of its own (the request
    that caused it does not wait, as with a real gateway). A delivery that fails is only logged: the merchant
    finds out by reading the checkout, as it must when a real webhook is lost."""
    body = notification(checkout, kind)
    if delay <= 0:
        deliver(checkout.notify_url, body)
        return
    threading.Thread(target=_deliver_later, args=(checkout.notify_url, body, delay), daemon=True).start()


def _deliver_later(url: str, body: bytes, delay: float) -> None:
    time.sleep(delay)
    deliver(url, body)


def deliver(url: str, body: bytes) -> None:
    try:
        response = requests.post(url, data=body, timeout=NOTIFY_TIMEOUT,
                                 headers={"Content-Type": "application/json", "Sandbox-Signature": sign(body)})
        if response.status_code != 200:
            log.warning("sandbox gateway: the merchant answered %s to a notification", response.status_code)
    except requests.RequestException as exc:
        log.warning("sandbox gateway: notification not delivered: %s", exc.__class__.__name__)
