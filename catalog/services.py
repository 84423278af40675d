"""Writes on the catalog: providers and the panel's services. Each function is one transaction."""

from decimal import Decimal

from django.db import transaction

import smmapi

from . import health
from .models import Provider


class ProviderError(Exception):
    """A provider operation failed; the message is safe to show (it never holds the key)."""


@transaction.atomic
def provider_create(
    *, name: str, api_url: str, api_key: str, markup_percent: Decimal | None = None, currency: str = "USD",
    exchange_rate: Decimal = Decimal("1"), http_method: str = "POST", body_format: str = "form",
    key_field: str = "key",
) -> Provider:
    if Provider.objects.filter(name=name).exists():
        raise ProviderError(f"A provider named {name!r} already exists.")
    provider = Provider(
        name=name, api_url=api_url, api_key=api_key, currency=currency, exchange_rate=exchange_rate,
        http_method=http_method, body_format=body_format, key_field=key_field,
    )
    if markup_percent is not None:
        provider.markup_percent = markup_percent
    provider.full_clean()
    provider.save()
    return provider


def provider_check(provider: Provider) -> smmapi.Balance:
    """Ask the provider for its balance and record the provider's health either way."""
    try:
        balance = provider.client().balance()
    except smmapi.SmmApiError as exc:
        health.record_failure(provider, exc)
        raise ProviderError(str(exc)) from None
    health.record_success(provider, balance=balance.amount, currency=balance.currency)
    return balance
