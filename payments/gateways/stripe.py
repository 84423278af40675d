"""Stripe Checkout: a hosted page per payment (a Checkout Session), notifications signed with the endpoint's
secret, and the session's state fetched for a missed webhook. Spoken through the official SDK.

Amounts at Stripe are integers in the currency's minor unit; here they become plain Decimals. What this module
reads from Stripe is only reported: payments.services compares it with what the panel asked and credits that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from django.utils import timezone

from .base import (
    BadNotification,
    Checkout,
    GatewayError,
    GatewayRefused,
    Notice,
    Outcome,
    PaymentLike,
    Urls,
    minor_units,
    scrub,
)

# A Checkout Session lives from 30 minutes to 24 hours after it is made. A minute of margin each side, so that
# our clock being a little ahead of or behind Stripe's does not get the session refused.
SESSION_MIN = timedelta(minutes=30) + timedelta(minutes=1)
SESSION_MAX = timedelta(hours=24) - timedelta(minutes=1)
# One retry of a timeout, a dropped connection, a 409 or a 5xx; safe for a create, which carries its
# idempotency key (the retry gets the session the first attempt made).
MAX_NETWORK_RETRIES = 1
PRODUCT_NAME_MAX = 250

SESSION_EVENTS = {
    "checkout.session.async_payment_succeeded": Outcome.PAID,
    "checkout.session.async_payment_failed": Outcome.FAILED,
    "checkout.session.expired": Outcome.EXPIRED,
}
# Secret and restricted keys (masked as Stripe's own error messages show them, too) and webhook secrets.
KEY_LIKE = re.compile(r"\b(?:sk|rk)_(?:test|live)_[0-9A-Za-z*]*|\bwhsec_[0-9A-Za-z*]*")


class StripeGateway:
    name = "stripe"
    hosted = True

    def __init__(self, *, api_key: str, webhook_secret: str, api_base: str, timeout: float,
                 max_network_retries: int = MAX_NETWORK_RETRIES):
        self._api_key = api_key
        self._webhook_secret = webhook_secret
        self._client = _client(api_key, api_base, timeout, max_network_retries)

    # --- create ------------------------------------------------------------------------------------------

    def create(self, payment: PaymentLike, *, urls: Urls, description: str) -> Checkout:
        reference = str(payment.reference)
        expires_at = _session_expiry(payment.expires_at)
        params = {
            "mode": "payment",
            "line_items": [{
                "quantity": 1,
                "price_data": {
                    "currency": payment.currency.lower(),
                    "unit_amount": _to_minor(payment.total, payment.currency),
                    "product_data": {"name": (description or "Add funds")[:PRODUCT_NAME_MAX]},
                },
            }],
            "client_reference_id": reference,
            "metadata": {"reference": reference},
            "payment_intent_data": {"metadata": {"reference": reference}},
            "success_url": urls.success,
            "cancel_url": urls.cancel,
            "expires_at": int(expires_at.timestamp()),
        }
        session = self._call(self._client.v1.checkout.sessions.create, params=params,
                             options={"idempotency_key": reference})
        if not session.get("id") or not session.get("url"):
            raise GatewayError("Stripe answered without a session ID or a page to send the customer to.")
        return Checkout(gateway_ref=str(session["id"]), redirect_url=str(session["url"]),
                        expires_at=_from_unix(session.get("expires_at")) or expires_at)

    # --- parse -------------------------------------------------------------------------------------------

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        signature = _header(headers, "Stripe-Signature")
        if not signature:
            raise BadNotification("no Stripe-Signature header")
        if not self._webhook_secret:
            raise BadNotification("no webhook secret is configured here (STRIPE_WEBHOOK_SECRET)")
        try:
            event = self._client.construct_event(body, signature, self._webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise BadNotification(_signature_problem(exc)) from None
        except (ValueError, TypeError, AttributeError):  # not UTF-8, not JSON, not an event object
            raise BadNotification("the body is not a Stripe event") from None
        data = event.to_dict(for_json=True)
        if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
            raise BadNotification("the body is not a Stripe event")
        return notice_from_event(data)

    # --- fetch -------------------------------------------------------------------------------------------

    def fetch(self, payment: PaymentLike) -> Notice:
        if not payment.gateway_ref:
            raise GatewayError("The payment has no Stripe session to ask about.")
        session = self._call(self._client.v1.checkout.sessions.retrieve, payment.gateway_ref)
        if session.get("status") == "complete" and session.get("payment_status") == "paid":
            outcome = Outcome.PAID
        elif session.get("status") == "expired":
            outcome = Outcome.EXPIRED
        else:
            outcome = Outcome.PENDING
        session_id = str(session.get("id") or payment.gateway_ref)
        return _session_notice(f"fetch:{session_id}:{outcome}", outcome, "checkout.session (fetched)", session,
                               payload=session)

    # --- the SDK's errors, made safe -----------------------------------------------------------------------

    def _call(self, method, *args, **kwargs) -> dict[str, Any]:
        try:
            return method(*args, **kwargs).to_dict(for_json=True)
        except stripe.StripeError as exc:
            raise self._error(exc) from None

    def _error(self, exc: stripe.StripeError) -> GatewayError:
        status = exc.http_status
        if isinstance(exc, stripe.APIConnectionError):
            return GatewayError(f"Stripe could not be reached ({_network_problem(exc)}).")
        if status is None:
            return GatewayError(f"Stripe call failed ({type(exc).__name__}).")
        # Stripe's own error object, when the answer was one: its message, with anything key-like taken out.
        # Otherwise (an HTML page, broken JSON) the SDK's message quotes the body, which is not repeated here.
        body = exc.json_body if isinstance(exc.json_body, Mapping) else {}
        said = self._redact(exc.user_message or "") if isinstance(body.get("error"), Mapping) else ""
        detail = f"HTTP {status}" + (f", {exc.code}" if exc.code else "") + \
                 (f", request {exc.request_id}" if exc.request_id else "")
        if not said:
            return GatewayError(f"Stripe answered with something that is not its JSON ({detail}).")
        if isinstance(exc, stripe.AuthenticationError):
            return GatewayError(f"Stripe refused the API key ({detail}): {said[:300]}")
        if 400 <= status < 500 and status != 429:
            return GatewayRefused(f"Stripe refused it ({detail}): {said[:300]}")
        return GatewayError(f"Stripe failed ({detail}): {said[:300]}")

    def _redact(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "[key]")
        if self._webhook_secret:
            text = text.replace(self._webhook_secret, "[secret]")
        return KEY_LIKE.sub("[key]", text)


# --- Events into notices --------------------------------------------------------------------------------


def notice_from_event(event: Mapping[str, Any]) -> Notice:
    """What one verified Stripe event (as a plain dict) says about one payment."""
    event_id, kind = str(event["id"]), str(event["type"])
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj, Mapping):
        obj = {}
    if kind == "checkout.session.completed":
        outcome = Outcome.PAID if obj.get("payment_status") == "paid" else Outcome.PENDING
        return _session_notice(event_id, outcome, kind, obj, payload=event)
    if kind in SESSION_EVENTS:
        return _session_notice(event_id, SESSION_EVENTS[kind], kind, obj, payload=event)
    if kind == "charge.refunded":
        currency = _currency(obj)
        return Notice(event_id=event_id, outcome=Outcome.REFUNDED, kind=kind, reference=_reference(obj),
                      charge_ref=_id_of(obj.get("payment_intent")), currency=currency,
                      amount=_from_minor(obj.get("amount"), currency),
                      refunded=_from_minor(obj.get("amount_refunded"), currency),
                      detail=f"Refunded at Stripe (charge {obj.get('id') or '?'}).", payload=scrub(event))
    if kind == "charge.dispute.created":
        currency = _currency(obj)
        return Notice(event_id=event_id, outcome=Outcome.DISPUTED, kind=kind,
                      charge_ref=_id_of(obj.get("payment_intent")), currency=currency,
                      refunded=_from_minor(obj.get("amount"), currency),
                      detail=f"Disputed at Stripe: {obj.get('reason') or 'no reason given'} "
                             f"(dispute {obj.get('id') or '?'}).", payload=scrub(event))
    return Notice(event_id=event_id, outcome=Outcome.PENDING, kind=kind, payload=scrub(event))


def _session_notice(event_id: str, outcome: Outcome, kind: str, session: Mapping[str, Any], *,
                    payload: Mapping[str, Any]) -> Notice:
    currency = _currency(session)
    detail = ""
    if outcome == Outcome.FAILED:
        detail = "Stripe says the payment failed (the bank transfer or debit did not clear)."
    elif outcome == Outcome.EXPIRED:
        detail = "The Stripe Checkout page closed unpaid."
    return Notice(event_id=event_id, outcome=outcome, kind=kind, reference=_reference(session),
                  gateway_ref=str(session.get("id") or ""), charge_ref=_id_of(session.get("payment_intent")),
                  amount=_from_minor(session.get("amount_total"), currency), currency=currency, detail=detail,
                  payload=scrub(dict(payload)))


def _reference(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata")
    from_metadata = metadata.get("reference") if isinstance(metadata, Mapping) else None
    return str(obj.get("client_reference_id") or from_metadata or "")


def _id_of(value: Any) -> str:
    """An ID Stripe gives as a string, or as the expanded object holding it."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _currency(obj: Mapping[str, Any]) -> str:
    currency = obj.get("currency")
    return currency.upper() if isinstance(currency, str) else ""


def _from_minor(value: Any, currency: str) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return Decimal(value).scaleb(-minor_units(currency or "USD"))


def _to_minor(amount: Decimal, currency: str) -> int:
    minor = Decimal(amount).scaleb(minor_units(currency))
    if minor != minor.to_integral_value():
        raise GatewayError(f"{amount} {currency} is not a whole number of the currency's smallest unit.")
    return int(minor)


# --- Small helpers -----------------------------------------------------------------------------------------


def _session_expiry(payment_expires_at: datetime | None) -> datetime:
    now = timezone.now()
    remaining = (payment_expires_at - now) if payment_expires_at else \
        timedelta(seconds=settings.PAYMENT_LIFETIME_SECONDS)
    return now + min(max(remaining, SESSION_MIN), SESSION_MAX)


def _from_unix(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == wanted), None)
    return str(value or "").strip()


def _signature_problem(exc: stripe.SignatureVerificationError) -> str:
    """A short reason, from the SDK's own wording, that holds neither the header nor the secret."""
    message = str(exc.user_message or "")
    if "tolerance" in message:
        return "the signature's timestamp is too old (or too far off)"
    if "matching the expected signature" in message:
        return "the signature does not match the body"
    if "expected scheme" in message or "extract timestamp" in message:
        return "the Stripe-Signature header is malformed"
    if "webhook secret" in message:
        return "no webhook secret is configured here"
    return "the signature could not be verified"


def _network_problem(exc: stripe.APIConnectionError) -> str:
    cause = exc.__cause__
    if cause is not None and "Timeout" in type(cause).__name__:
        return "timed out"
    return "the connection failed" if cause is not None else "a network error"


@lru_cache(maxsize=8)
def _client(api_key: str, api_base: str, timeout: float, max_network_retries: int) -> stripe.StripeClient:
    """One client (and its HTTP connections, kept per thread) per configuration."""
    return stripe.StripeClient(api_key, base_addresses={"api": api_base.rstrip("/")},
                               http_client=stripe.RequestsClient(timeout=timeout),
                               max_network_retries=max_network_retries)


def from_settings() -> StripeGateway:
    return StripeGateway(api_key=settings.STRIPE_SECRET_KEY, webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
                         api_base=settings.STRIPE_API_BASE, timeout=float(settings.PAYMENT_GATEWAY_TIMEOUT))
