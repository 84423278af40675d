"""The three failure kinds a caller of the API v2 client has to act on.

Every failure the client raises is one of these, so callers can decide safely:

- ``ProviderRefused``: the provider answered and said no. Nothing happened upstream.
- ``NotSent``: the request certainly never reached the provider. Safe to retry.
- ``Ambiguous``: the provider may have processed it. Never resend an order on our own.

None of these ever carries the API key: the client builds every message itself and
scrubs provider text, and raises them ``from None`` so a chained ``requests`` exception
(whose text contains the URL, and with GET transport the key) never reaches a traceback.
"""

from __future__ import annotations

from typing import Any

# Refusals that are about the provider or our account with it, not about the order:
# our balance there, their rate limits, their maintenance, our credentials. The panel
# must not fail a customer's order for these; it should hold it and alert staff.
# Matched case-insensitively as substrings of the provider's message.
PROVIDER_SIDE_MARKERS: tuple[str, ...] = (
    # balance
    "not enough funds",
    "not enough balance",
    "insufficient",
    "low balance",
    # rate limits
    "too many requests",
    "spam protection",
    "rate limit",
    "try again later",
    "slow down",
    # maintenance / outage
    "maintenance",
    "temporarily unavailable",
    "service unavailable",
    # credentials (our configuration, not the customer's order)
    "api key",
    "invalid key",
    "incorrect key",
)


# Of those, the refusals that pass by themselves: asked again a moment later, the call may well go through.
TRANSIENT_MARKERS: tuple[str, ...] = (
    "too many requests", "spam protection", "rate limit", "try again later", "slow down", "maintenance",
    "temporarily unavailable", "service unavailable",
)


def is_transient_refusal(message: str) -> bool:
    """True when a refusal says "not now" (a rate limit, maintenance) rather than "no"."""
    text = (message or "").lower()
    return any(marker in text for marker in TRANSIENT_MARKERS)


def is_provider_side_refusal(message: str) -> bool:
    """True when a refusal is about the provider/account rather than the order itself."""
    text = (message or "").lower()
    return any(marker in text for marker in PROVIDER_SIDE_MARKERS)


class SmmApiError(Exception):
    """Base of everything the client raises for a failed call.

    ``partial`` is set on errors raised from a batched multi-ID call: it holds the
    results of the chunks that already succeeded (keyed like the full answer), so a
    caller passing 250 IDs does not lose 200 good answers to one failed chunk.
    ``action`` names the API action that failed, when the client knows it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.partial: dict[str, Any] | None = None
        self.action: str | None = None


class ProviderRefused(SmmApiError):
    """The provider answered ``{"error": "..."}`` for the whole request."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def is_provider_side(self) -> bool:
        return is_provider_side_refusal(self.message)


class NotSent(SmmApiError):
    """The request certainly did not reach the provider (refused, DNS, connect timeout)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Ambiguous(SmmApiError):
    """The provider may have processed the request; we cannot tell from what came back."""

    def __init__(self, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status
