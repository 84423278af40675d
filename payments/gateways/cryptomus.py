"""Cryptomus (crypto invoices), spoken to with `requests`: no well-kept SDK exists, and the protocol is small.

What its documentation (doc.cryptomus.com) says, and this module does:

- Every call is a POST of a JSON body to {CRYPTOMUS_API_BASE}/v1/..., with the headers `merchant` (the merchant's
  UUID) and `sign` = md5(base64(the body's exact bytes) + the payment API key), hex. An answer is
  {"state": 0, "result": {...}}; a refusal is {"state": 1, "message": ..., "errors": {...}}, often HTTP 422.
- A webhook is a POST whose JSON body carries its signature in the `sign` field. Cryptomus computes it over the
  other fields as PHP's json_encode($data, JSON_UNESCAPED_UNICODE) writes them (keys in the order received, no
  spaces, non-ASCII as it is, and forward slashes written `\\/`), base64, plus the key, md5. So the body is read,
  `sign` taken out, and the rest written again exactly that way (`php_json`).
- The invoice is in the panel's currency (`amount`, `currency`); the payer pays in crypto (`payer_currency`),
  `payer_amount` being what they were asked and `payment_amount` what they sent, both in that crypto. What
  arrived is told to the panel in the invoice's currency: amount × payment_amount / payer_amount.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import requests
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

# The invoice's lifetime, in seconds, as Cryptomus accepts it.
LIFETIME_MIN, LIFETIME_MAX = 300, 43200

# The statuses of doc.cryptomus.com "Payment statuses", as the panel reads them.
OUTCOMES = {
    "paid": Outcome.PAID,  # exactly the amount arrived
    "paid_over": Outcome.OVERPAID,  # more arrived
    "wrong_amount": Outcome.PARTIAL,  # less arrived, and the invoice is final
    "process": Outcome.PENDING,
    "check": Outcome.PENDING,  # waiting for the transaction to appear on the chain
    "confirm_check": Outcome.PENDING,  # seen, waiting for confirmations
    "wrong_amount_waiting": Outcome.PENDING,  # less arrived, the payer may still send the rest
    "fail": Outcome.FAILED,
    "system_fail": Outcome.FAILED,
    "cancel": Outcome.EXPIRED,  # the payer did not pay in time
    "refund_paid": Outcome.REFUNDED,
    "refund_process": Outcome.PENDING,  # nothing to do until the refund is made
    "refund_fail": Outcome.PENDING,  # the money stays with the operator: nothing to undo
    "locked": Outcome.REVIEW,  # the funds are held by Cryptomus' AML checks
}
DETAILS = {
    "fail": "Cryptomus says the payment failed (fail).",
    "system_fail": "Cryptomus had a system error with the payment (system_fail).",
    "cancel": "The Cryptomus invoice closed unpaid (cancel).",
    "locked": "Cryptomus locked the funds for its AML checks (locked)",
    "wrong_amount": "Less than the invoice's amount arrived at Cryptomus (wrong_amount).",
    "paid_over": "More than the invoice's amount arrived at Cryptomus (paid_over).",
}


class CryptomusGateway:
    name = "cryptomus"
    hosted = True

    def __init__(self, *, merchant_id: str, api_key: str, base_url: str, timeout: float):
        self.merchant_id = merchant_id
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    # --- The gateway's three verbs ------------------------------------------------------------------------

    def create(self, payment: PaymentLike, *, urls: Urls, description: str) -> Checkout:
        """An invoice for the payment's total. Cryptomus answers an existing invoice's details for an order_id it
        already has, so a retried create makes no second invoice."""
        body = {
            "amount": _amount_str(payment.total, payment.currency),
            "currency": payment.currency,
            "order_id": str(payment.reference),
            "url_callback": urls.notify,
            "url_return": urls.cancel,
            "url_success": urls.success,
            "lifetime": _lifetime(payment.expires_at),
            "is_payment_multiple": True,  # an underpaying payer may send the rest before it closes
        }
        result = self._call("/v1/payment", body)
        uuid, url = result.get("uuid"), result.get("url")
        if not isinstance(uuid, str) or not uuid or not isinstance(url, str) or \
                not url.startswith(("https://", "http://")):
            raise GatewayError("Cryptomus answered without the invoice's uuid or page")
        return Checkout(gateway_ref=uuid, redirect_url=url, expires_at=_from_unix(result.get("expired_at")))

    def fetch(self, payment: PaymentLike) -> Notice:
        """The invoice's state (payment/info), by its uuid, or by our reference when no uuid is known yet."""
        query = {"uuid": payment.gateway_ref} if payment.gateway_ref else {"order_id": str(payment.reference)}
        result = self._call("/v1/payment/info", query)
        status = _status(result)
        event_id = f"fetch:{result.get('uuid') or payment.gateway_ref}:{status}:{result.get('payment_amount')}"
        try:
            return _notice(result, event_id=event_id, payload=result)
        except BadNotification as exc:
            raise GatewayError(f"Cryptomus answered an invoice the panel cannot read: {exc}") from None

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        """A webhook, verified as doc.cryptomus.com "Webhook" says. Raises BadNotification."""
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise BadNotification("the body is not JSON") from None
        if not isinstance(data, dict):
            raise BadNotification("the body is not a JSON object")
        sign = data.get("sign")
        if not isinstance(sign, str) or not sign:
            raise BadNotification("no signature")
        signed = {key: value for key, value in data.items() if key != "sign"}
        try:
            text = php_json(signed)
        except (ValueError, RecursionError):
            raise BadNotification("the body holds a value that cannot be signed") from None
        if not hmac.compare_digest(self.signature(text.encode("utf-8")).encode(), sign.encode("utf-8")):
            raise BadNotification("the signature does not match")
        # Cryptomus sends no event ID: the same body sent again is the same event.
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        event_id = f"{data.get('uuid', '')}:{_status(data)}:{digest}"
        return _notice(data, event_id=event_id, payload=scrub(data))

    # --- The wire ---------------------------------------------------------------------------------------

    def signature(self, body: bytes) -> str:
        """md5(base64(body) + the payment API key), hex: the `sign` of a request, and of a webhook's fields."""
        return hashlib.md5(base64.b64encode(body) + self.api_key.encode("utf-8")).hexdigest()

    def _call(self, path: str, payload: dict) -> dict:
        # PHP's own json_encode() output (slashes and non-ASCII escaped), so the body reads the same to a server
        # that checks the bytes it received as to one that decodes and encodes them again before checking.
        body = php_json(payload, unescaped_unicode=False).encode("utf-8")
        headers = {"merchant": self.merchant_id, "sign": self.signature(body), "Content-Type": "application/json",
                   "Accept": "application/json"}
        try:
            response = self.session.post(self.base_url + path, data=body, headers=headers,
                                         timeout=(self.timeout, self.timeout), allow_redirects=False)
        except requests.Timeout:
            raise GatewayError(f"Cryptomus did not answer within {self.timeout:g} seconds") from None
        except requests.ConnectionError:
            raise GatewayError("Cryptomus could not be reached (the connection failed or was dropped)") from None
        except requests.RequestException as exc:
            raise GatewayError(f"the call to Cryptomus failed ({exc.__class__.__name__})") from None
        code = response.status_code
        try:
            data = response.json()
        except ValueError:
            raise GatewayError(f"Cryptomus answered HTTP {code} without JSON") from None
        if code >= 500 or not isinstance(data, dict):
            raise GatewayError(f"Cryptomus answered HTTP {code}")
        if data.get("state") != 0:
            raise GatewayRefused(f"Cryptomus refused it (HTTP {code}): {self._said(data)}")
        if not 200 <= code < 300:
            raise GatewayError(f"Cryptomus answered HTTP {code}")
        result = data.get("result")
        if not isinstance(result, dict):
            raise GatewayError("Cryptomus answered without a result")
        return result

    def _said(self, data: dict) -> str:
        """The refusal's message and field errors, for staff: short, and with no secret in it whatever it echoes."""
        parts = []
        if data.get("message"):
            parts.append(str(data["message"]))
        errors = data.get("errors")
        if isinstance(errors, Mapping):
            for field_name, problems in errors.items():
                listed = problems if isinstance(problems, list) else [problems]
                parts.append(f"{field_name}: {', '.join(str(problem) for problem in listed)}")
        text = "; ".join(parts) or "no reason given"
        for secret in (self.api_key, self.merchant_id):
            if secret:
                text = text.replace(secret, "[removed]")
        return text[:300]


# --- Reading an invoice ---------------------------------------------------------------------------------


def _status(data: Mapping[str, Any]) -> str:
    return str(data.get("status") or data.get("payment_status") or "")


def _notice(data: Mapping[str, Any], *, event_id: str, payload: Mapping[str, Any]) -> Notice:
    """An invoice, as a webhook or payment/info tells it, made a Notice."""
    status = _status(data)
    if not status:
        raise BadNotification("an invoice without a status")
    outcome = OUTCOMES.get(status, Outcome.REVIEW)
    detail = DETAILS.get(status, "" if status in OUTCOMES else f"Cryptomus says {status[:50]!r}, a status the panel "
                                                              "does not know")
    amount = _decimal(data.get("amount"))
    currency = str(data.get("currency") or "").upper()
    received = _received(data, amount, currency) if outcome in (Outcome.PARTIAL, Outcome.OVERPAID) else None
    if received is not None and amount is not None and (
            (outcome == Outcome.PARTIAL and received >= amount) or (outcome == Outcome.OVERPAID and received <= amount)):
        received = None  # the figures contradict the status: staff decide, nothing is credited on a guess
    # A refund gives back what was paid for the invoice, all of it: its share of what the panel credited.
    refunded = amount if outcome == Outcome.REFUNDED else None
    return Notice(
        event_id=event_id, outcome=outcome, kind=status[:100], reference=str(data.get("order_id") or ""),
        gateway_ref=str(data.get("uuid") or ""), amount=amount, currency=currency, received=received,
        refunded=refunded, detail=detail, payload=payload,
    )


def _received(data: Mapping[str, Any], amount: Decimal | None, currency: str) -> Decimal | None:
    """What arrived, in the invoice's currency; None when the answer does not say (staff then decide)."""
    paid, asked = _decimal(data.get("payment_amount")), _decimal(data.get("payer_amount"))
    if amount is not None and paid is not None and asked is not None and asked > 0 and paid >= 0:
        value = amount * paid / asked
    elif currency == "USD" and (usd := _decimal(data.get("payment_amount_usd"))) is not None:
        value = usd
    else:
        return None
    if value < 0:
        return None
    return value.quantize(Decimal(1).scaleb(-minor_units(currency or "USD")), rounding=ROUND_DOWN)


def _decimal(value: Any) -> Decimal | None:
    """A Decimal of an amount Cryptomus writes as a string ("15.00"); None for anything else."""
    if value is None or isinstance(value, bool | float):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _from_unix(value: Any) -> datetime | None:
    """The invoice's `expired_at` (unix seconds); None when it says none the panel can read."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _amount_str(total: Decimal, currency: str) -> str:
    """The amount as Cryptomus takes it: a string with the currency's places and a '.' ("103.00")."""
    return f"{Decimal(total).quantize(Decimal(1).scaleb(-minor_units(currency))):f}"


def _lifetime(expires_at: datetime | None) -> int:
    seconds = settings.PAYMENT_LIFETIME_SECONDS if expires_at is None else \
        math.ceil((expires_at - timezone.now()).total_seconds())
    return max(LIFETIME_MIN, min(LIFETIME_MAX, int(seconds)))


# --- PHP's json_encode -------------------------------------------------------------------------------------


def php_json(value: Any, *, unescaped_unicode: bool = True) -> str:
    """`value` as PHP's json_encode() writes it: no spaces, keys in their order, `/` written `\\/`, and non-ASCII
    as it is (JSON_UNESCAPED_UNICODE, which still escapes U+2028 and U+2029) or as \\uXXXX (PHP's default)."""
    def inner(item: Any) -> str:
        return php_json(item, unescaped_unicode=unescaped_unicode)

    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_php_str(str(key), unescaped_unicode)}:{inner(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(inner(item) for item in value) + "]"
    if isinstance(value, str):
        return _php_str(value, unescaped_unicode)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _php_float(value)
    raise ValueError(f"json_encode() writes no {type(value).__name__}")


def _php_str(text: str, unescaped_unicode: bool) -> str:
    # Python's escapes of '"', '\\' and control characters are PHP's (\b \f \n \r \t, else \u00xx in lower case).
    written = json.dumps(text, ensure_ascii=not unescaped_unicode).replace("/", "\\/")
    if unescaped_unicode:
        written = written.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return written


def _php_float(number: float) -> str:
    """A float as PHP 7.1+ writes it (serialize_precision -1): the shortest form that reads back, 1.0 for one."""
    if not math.isfinite(number):
        raise ValueError("json_encode() writes no NaN or infinity")
    text = repr(number)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text


def from_settings() -> CryptomusGateway:
    return CryptomusGateway(merchant_id=settings.CRYPTOMUS_MERCHANT_ID, api_key=settings.CRYPTOMUS_API_KEY,
                            base_url=settings.CRYPTOMUS_API_BASE, timeout=settings.PAYMENT_GATEWAY_TIMEOUT)
