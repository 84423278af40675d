from decimal import Decimal

import pytest

from sandbox.catalog import ensure_catalog
from sandbox.models import SandboxAccount, SandboxService, ServiceType
from sandbox.services import create_account, get_or_create_demo_account

pytestmark = pytest.mark.django_db


def test_ensure_catalog_creates_at_least_thirty_services():
    ensure_catalog()
    assert SandboxService.objects.count() >= 30


def test_ensure_catalog_is_idempotent_and_restores_edited_rows():
    ensure_catalog()
    SandboxService.objects.filter(pk=1).update(rate=Decimal("99"), active=False)
    count = SandboxService.objects.count()
    ensure_catalog()
    service = SandboxService.objects.get(pk=1)
    assert SandboxService.objects.count() == count
    assert service.rate == Decimal("0.90")
    assert service.active


def test_catalog_covers_every_type_the_sandbox_validates():
    ensure_catalog()
    listed = set(SandboxService.objects.values_list("type", flat=True))
    assert listed == set(ServiceType.values)


def test_catalog_spans_several_platform_categories():
    ensure_catalog()
    categories = " ".join(SandboxService.objects.values_list("category", flat=True))
    for platform in ("Instagram", "TikTok", "YouTube", "Twitter", "Telegram", "Website"):
        assert platform in categories


def test_catalog_mixes_refill_cancel_and_dripfeed_options():
    ensure_catalog()
    for flag in ("refill", "cancel", "dripfeed"):
        values = set(SandboxService.objects.values_list(flag, flat=True))
        assert values == {True, False}, flag


def test_catalog_rates_are_realistic_and_limits_ordered():
    ensure_catalog()
    for service in SandboxService.objects.all():
        assert Decimal("0.01") <= service.rate <= Decimal("50"), service
        assert 1 <= service.min <= service.max, service


def test_exactly_one_service_name_holds_html():
    ensure_catalog()
    names = [name for name in SandboxService.objects.values_list("name", flat=True) if "<" in name]
    assert names == ["Likes <script>alert(1)</script> [HQ]"]


def test_create_account_gives_a_unique_random_hex_key_and_the_balance():
    first = create_account(name="one", balance="12.5")
    second = create_account(name="two", balance=0, currency="EUR")
    assert len(first.api_key) == 32 and int(first.api_key, 16) >= 0
    assert first.api_key != second.api_key
    assert first.balance == Decimal("12.50000")
    assert second.currency == "EUR"


def test_demo_account_is_created_once_with_a_thousand():
    first = get_or_create_demo_account()
    again = get_or_create_demo_account()
    assert first.pk == again.pk
    assert (first.name, first.balance) == ("demo", Decimal("1000"))
    assert SandboxAccount.objects.filter(name="demo").count() == 1
