"""Manual methods (bank transfer and the like): no hosted page, no notification. The customer gives the
amount and the transfer's reference; staff check their account and approve or reject (payments.services)."""

from collections.abc import Mapping

from .base import BadNotification, Checkout, GatewayError, Notice, PaymentLike, Urls


class ManualGateway:
    name = "manual"
    hosted = False

    def create(self, payment: PaymentLike, *, urls: Urls, description: str) -> Checkout:
        raise GatewayError("a manual payment has no gateway to create it at")

    def parse(self, body: bytes, headers: Mapping[str, str]) -> Notice:
        raise BadNotification("manual payments take no notifications")

    def fetch(self, payment: PaymentLike) -> Notice:
        raise GatewayError("a manual payment has no gateway to ask")


def from_settings() -> ManualGateway:
    return ManualGateway()
