"""Catalog rows and clients shared by the staff page tests (no tests here; pytest collects it harmlessly)."""

from decimal import Decimal

from django.utils import timezone

from catalog.models import Category, Provider, ProviderService, Service

FAKE_URL = "https://provider.example/api/v2"
# Distinctive enough that finding it anywhere in a page can only mean the key leaked.
SECRET_KEY = "sk-live-9f8e7d6c5b4a-DO-NOT-SHOW"


def make_provider(name="Upstream", *, key=SECRET_KEY, **fields) -> Provider:
    fields.setdefault("api_url", FAKE_URL)
    fields.setdefault("markup_percent", Decimal("50"))
    return Provider.objects.create(name=name, api_key=key, **fields)


def make_service(
    provider=None, *, name="IG Followers", category="Instagram", upstream_rate="1.00", external_id=None,
    upstream_min=10, upstream_max=10000, upstream_refill=False, upstream_cancel=False, gone=False, **fields,
) -> Service:
    provider = provider or Provider.objects.first() or make_provider()
    now = timezone.now()
    mirror = ProviderService.objects.create(
        provider=provider, external_id=external_id or str(ProviderService.objects.count() + 1), name=name,
        type="Default", category=category, rate=Decimal(upstream_rate), min_quantity=upstream_min,
        max_quantity=upstream_max, refill=upstream_refill, cancel=upstream_cancel, first_seen_at=now,
        last_seen_at=now, gone_since=now if gone else None,
    )
    category_row, _ = Category.objects.get_or_create(name=category)
    fields.setdefault("rate", Decimal(upstream_rate) * (1 + provider.markup_percent / 100))
    fields.setdefault("min_quantity", upstream_min)
    fields.setdefault("max_quantity", upstream_max)
    return Service.objects.create(
        name=name, category=category_row, type="Default", provider_service=mirror, **fields
    )
