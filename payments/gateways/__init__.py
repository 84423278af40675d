"""The gateways, one module each, behind base.Gateway; which are configured comes from the environment."""

from importlib import import_module

from django.conf import settings

from .base import Gateway

_MODULES = {
    "stripe": "payments.gateways.stripe",
    "cryptomus": "payments.gateways.cryptomus",
    "manual": "payments.gateways.manual",
    "sandbox": "payments.gateways.sandbox",
}


class NotConfigured(Exception):
    """The gateway's settings are missing (or the gateway is unknown): it takes no payment and no webhook."""


def configured(name: str) -> bool:
    """Whether the gateway has what it needs from the environment to take payments."""
    if name == "stripe":
        return bool(settings.STRIPE_SECRET_KEY)
    if name == "cryptomus":
        return bool(settings.CRYPTOMUS_MERCHANT_ID and settings.CRYPTOMUS_API_KEY)
    if name == "sandbox":
        return bool(settings.SANDBOX_ENABLED)
    return name == "manual"


def get_gateway(name: str) -> Gateway:
    if name not in _MODULES or not configured(name):
        raise NotConfigured(name)
    return import_module(_MODULES[name]).from_settings()
