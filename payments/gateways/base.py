"""The one interface every gateway speaks: create a payment, verify a notification, fetch a payment's state.

A gateway module turns its own protocol into these plain values and knows nothing of the ledger: what a
notification means for the balance is decided once, in payments.services, for every gateway alike.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


class Outcome(enum.StrEnum):
    """What a notification (or a fetch) says happened to a payment."""

    PENDING = "pending"  # nothing settled yet (waiting for the payer, or for confirmations)
    PAID = "paid"  # the whole total arrived
    PARTIAL = "partial"  # final, and less than the total arrived: `received` says how much
    OVERPAID = "overpaid"  # final, and more than the total arrived: `received` says how much
    FAILED = "failed"  # the payer's attempt failed; nothing arrived
    EXPIRED = "expired"  # the hosted page closed unpaid
    REFUNDED = "refunded"  # the gateway sent money back: `refunded` is the total refunded so far
    DISPUTED = "disputed"  # the payer disputed it (a chargeback): `refunded` is the amount disputed
    REVIEW = "review"  # the gateway holds the money for a person to look at


@dataclass(frozen=True)
class Checkout:
    """A payment created at the gateway: where to send the customer, and until when it can be paid."""

    gateway_ref: str
    redirect_url: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Notice:
    """One verified statement of the gateway about one payment, in the gateway's units made plain Decimals.

    `amount` and `currency` are what the gateway says the payment was for: the panel compares them with what
    it asked, and credits what it asked, never a figure read from here. `received` and `refunded` are in the
    same currency as `amount`.
    """

    event_id: str
    outcome: Outcome
    kind: str = ""
    reference: str = ""  # the panel's Payment.reference, as the gateway echoes it back
    gateway_ref: str = ""
    charge_ref: str = ""  # a second ID later notifications name the payment by (Stripe's PaymentIntent)
    amount: Decimal | None = None
    currency: str = ""
    received: Decimal | None = None
    refunded: Decimal | None = None
    detail: str = ""  # a line for staff: why it failed, what the gateway said
    payload: Mapping[str, Any] = field(default_factory=dict)  # as received, secrets removed


@dataclass(frozen=True)
class Urls:
    """Where the gateway sends its notifications and the customer's browser afterwards."""

    notify: str
    success: str
    cancel: str


class GatewayError(Exception):
    """The gateway could not do it (unreachable, timed out, refused, answered nonsense). The message is safe
    to show staff: it never holds a key."""


class GatewayRefused(GatewayError):
    """The gateway answered, and said no (an amount below its own minimum, a currency it does not take)."""


class BadNotification(Exception):
    """A notification that is not the gateway's: a missing or wrong signature, or a body that cannot be read.
    Answered with HTTP 400 and acted on in no way."""


class PaymentLike(Protocol):
    reference: Any
    gateway_ref: str
    total: Decimal
    currency: str
    expires_at: datetime | None


class Gateway(Protocol):
    """What payments.services needs of a gateway. `hosted` is False for manual methods (no page, no webhook)."""

    name: str
    hosted: bool

    def create(self, payment: PaymentLike, *, urls: Urls, description: str) -> Checkout:
        """Create the payment at the gateway. Raises GatewayError; the customer has then been charged nothing."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        """Verify a notification as the gateway's documentation says, and read it. Raises BadNotification."""
        ...

    def fetch(self, payment: PaymentLike) -> Notice:
        """Ask the gateway for the payment's state (a missed webhook). Raises GatewayError."""
        ...


SECRET_WORDS = ("secret", "sign", "signature", "password", "token", "api_key", "apikey", "authorization")


def scrub(value: Any) -> Any:
    """The value with every field whose name speaks of a secret blanked, at any depth: what is kept of a
    notification for staff to read."""
    if isinstance(value, Mapping):
        return {key: "[removed]" if _secret_name(str(key)) else scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def minor_units(currency: str) -> int:
    """Decimal places of a currency's smallest unit, as card gateways count it (JPY 0, USD 2)."""
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


# Stripe's list of currencies without a minor unit.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)
