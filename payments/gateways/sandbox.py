"""The panel's client of the sandbox gateway (sandbox/gateway.py), spoken to over HTTP as to a real one:
`make run`'s demo and the browser tests pay with it, without the internet."""

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings

from .base import BadNotification, Checkout, GatewayError, GatewayRefused, Notice, Outcome, PaymentLike, Urls

TOLERANCE_SECONDS = 300
OUTCOMES = {"open": Outcome.PENDING, "paid": Outcome.PAID, "failed": Outcome.FAILED, "expired": Outcome.EXPIRED,
            "refunded": Outcome.REFUNDED}


class SandboxGateway:
    name = "sandbox"
    hosted = True

    def __init__(self, *, base_url: str, api_key: str, secret: str, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.secret = secret
        self.timeout = timeout
        self.session = requests.Session()

    def create(self, payment: PaymentLike, *, urls: Urls, description: str) -> Checkout:
        body: dict[str, object] = {"amount": f"{payment.total:f}", "currency": payment.currency, "reference": str(payment.reference),
                "description": description, "notify_url": urls.notify, "success_url": urls.success,
                "cancel_url": urls.cancel}
        expires_at = payment.expires_at
        if expires_at is not None:
            body["expires_at"] = int(expires_at.timestamp())
        data = self._call("POST", "/v1/checkouts", json=body)
        try:
            return Checkout(gateway_ref=str(data["id"]), redirect_url=str(data["url"]),
                            expires_at=datetime.fromtimestamp(int(data["expires_at"]), tz=UTC))
        except (KeyError, TypeError, ValueError):
            raise GatewayError("the sandbox gateway's answer lacks the checkout's id, url or expiry") from None

    def fetch(self, payment: PaymentLike) -> Notice:
        data = self._call("GET", f"/v1/checkouts/{payment.gateway_ref}")
        notice = self._notice(data, event_id="", kind="fetch")
        return replace(notice, event_id=f"fetch:{payment.gateway_ref}:{notice.outcome}:{data.get('refunded', '')}")

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        self._verify(body, headers.get("Sandbox-Signature", ""))
        try:
            event = json.loads(body)
            kind, data = str(event["type"]), event["data"]
            event_id = str(event["id"])
        except (ValueError, KeyError, TypeError):
            raise BadNotification("the body is not a sandbox gateway event") from None
        return self._notice(data, event_id=event_id, kind=kind, payload=event)

    def _verify(self, body: bytes, header: str) -> None:
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        if "t" not in parts or "v1" not in parts:
            raise BadNotification("no signature")
        try:
            timestamp = int(parts["t"])
        except ValueError:
            raise BadNotification("a signature without a readable time") from None
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise BadNotification("a signature too old (or from the future)")
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts["v1"]):
            raise BadNotification("the signature does not match")

    def _notice(self, data: Any, *, event_id: str, kind: str, payload: Any = None) -> Notice:
        if not isinstance(data, Mapping) or data.get("status") not in OUTCOMES:
            raise BadNotification("a checkout without a known status")
        return Notice(
            event_id=event_id, outcome=OUTCOMES[data["status"]], kind=kind, reference=str(data.get("reference", "")),
            gateway_ref=str(data.get("id", "")), amount=_decimal(data.get("amount")),
            currency=str(data.get("currency", "")), refunded=_decimal(data.get("refunded")),
            payload=payload if payload is not None else data,
        )

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.session.request(method, self.base_url + path, timeout=self.timeout,
                                            headers={"Authorization": f"Bearer {self.api_key}"}, **kwargs)
        except requests.RequestException as exc:
            raise GatewayError(f"the sandbox gateway could not be reached ({exc.__class__.__name__})") from None
        try:
            data = response.json()
        except ValueError:
            raise GatewayError(f"the sandbox gateway answered HTTP {response.status_code} without JSON") from None
        if response.status_code >= 500 or not isinstance(data, dict):
            raise GatewayError(f"the sandbox gateway answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise GatewayRefused(f"the sandbox gateway refused: {str(data.get('error', ''))[:200]}")
        return data


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def from_settings() -> SandboxGateway:
    return SandboxGateway(base_url=settings.SITE_URL.rstrip("/") + "/sandbox/gateway",
                          api_key=settings.SANDBOX_GATEWAY_KEY, secret=settings.SANDBOX_GATEWAY_SECRET,
                          timeout=settings.PAYMENT_GATEWAY_TIMEOUT)
