from decimal import Decimal

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Category, ProviderService, Service, SyncRun
from catalog.sync import sync_catalog
from core.models import StaffNotice

from .conftest import FAKE_URL, upstream

pytestmark = pytest.mark.django_db


def _writes_to(queries, table):
    return [q["sql"] for q in queries if table in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")]


def test_first_sync_publishes_new_services_with_the_providers_markup_in_same_named_categories(fake, provider):
    fake.items = [upstream(1, rate="0.90", category="Instagram"), upstream(2, rate="8", category="TikTok")]
    run = sync_catalog(provider)
    assert run.ok and run.new == 2
    s1 = Service.objects.get(provider_service__external_id="1")
    assert s1.rate == Decimal("1.35000")  # 0.90 × 1.5
    assert s1.category.name == "Instagram" and s1.enabled
    assert Service.objects.get(provider_service__external_id="2").rate == Decimal("12.00000")
    assert set(Category.objects.values_list("name", flat=True)) == {"Instagram", "TikTok"}


def test_exchange_rate_converts_the_providers_currency(fake, provider):
    provider.currency, provider.exchange_rate = "INR", Decimal("0.012")
    provider.save()
    fake.items = [upstream(1, rate="95200")]
    sync_catalog(provider)
    assert Service.objects.get().rate == Decimal("1713.60000")  # 95200 × 0.012 × 1.5


def test_a_second_sync_of_an_unchanged_catalog_writes_no_service(fake, provider):
    fake.items = [upstream(i, rate=f"{i}.12345678") for i in range(1, 30)]
    sync_catalog(provider)
    with CaptureQueriesContext(connection) as ctx:
        run = sync_catalog(provider)
    assert run.ok and (run.new, run.changed, run.gone) == (0, 0, 0)
    assert _writes_to(ctx.captured_queries, "catalog_providerservice") == []
    assert _writes_to(ctx.captured_queries, "catalog_service") == []


def _resync_queries(fake, provider, before, after):
    fake.items = before
    sync_catalog(provider)
    fake.items = after
    with CaptureQueriesContext(connection) as ctx:
        sync_catalog(provider)
    return len(ctx.captured_queries)


def test_resync_query_count_of_an_unchanged_catalog_does_not_grow_with_the_catalog(fake, provider):
    small = _resync_queries(fake, provider, [upstream(i) for i in range(1, 6)], [upstream(i) for i in range(1, 6)])
    big = [upstream(i) for i in range(1, 801)]
    assert _resync_queries(fake, provider, big, big) == small


def test_resync_writes_changed_services_in_bulk_not_one_query_each(fake, provider):
    items = [upstream(i) for i in range(1, 801)]
    repriced = [upstream(i, rate="2.00") for i in range(1, 801)]  # every price moves
    queries = _resync_queries(fake, provider, items, repriced)
    assert queries < 40  # 800 mirrors and 800 services updated in batches
    assert set(Service.objects.values_list("rate", flat=True)) == {Decimal("3.00000")}


def test_upstream_price_change_moves_derived_prices_and_keeps_fixed_ones(fake, provider):
    fake.items = [upstream(1, rate="1.00"), upstream(2, rate="1.00")]
    sync_catalog(provider)
    Service.objects.filter(provider_service__external_id="2").update(
        price_mode=Service.PriceMode.FIXED, fixed_rate=Decimal("5"), rate=Decimal("5")
    )
    fake.items = [upstream(1, rate="2.00"), upstream(2, rate="2.00")]
    run = sync_catalog(provider)
    assert (run.changed, run.price_up, run.price_down) == (2, 2, 0)
    assert Service.objects.get(provider_service__external_id="1").rate == Decimal("3.00000")
    assert Service.objects.get(provider_service__external_id="2").rate == Decimal("5.00000")


def test_a_fixed_price_below_cost_is_disabled_and_staff_are_told(fake, provider):
    fake.items = [upstream(7, rate="1.00", name="Cheap likes")]
    sync_catalog(provider)
    Service.objects.update(price_mode=Service.PriceMode.FIXED, fixed_rate=Decimal("1.20"), rate=Decimal("1.20"))
    fake.items = [upstream(7, rate="1.50", name="Cheap likes")]
    run = sync_catalog(provider)
    service = Service.objects.get()
    assert not service.enabled and service.disabled_reason == Service.Disabled.BELOW_COST
    assert run.below_cost == 1
    notice = StaffNotice.objects.get()
    assert "below cost" in notice.subject and "Cheap likes" in notice.body

    fake.items = [upstream(7, rate="1.10", name="Cheap likes")]
    sync_catalog(provider)
    assert Service.objects.get().enabled


def test_a_service_gone_upstream_is_disabled_not_deleted_and_comes_back(fake, provider):
    fake.items = [upstream(1), upstream(2)]
    sync_catalog(provider)
    service_id = Service.objects.get(provider_service__external_id="2").pk
    fake.items = [upstream(1)]
    run = sync_catalog(provider)
    assert run.gone == 1
    gone = Service.objects.get(pk=service_id)
    assert not gone.enabled and gone.disabled_reason == Service.Disabled.GONE
    assert gone.provider_service.gone_since is not None

    fake.items = [upstream(1), upstream(2)]
    run = sync_catalog(provider)
    assert run.returned == 1
    back = Service.objects.get(pk=service_id)
    assert back.enabled and back.provider_service.gone_since is None
    assert Service.objects.count() == 2  # same IDs, nothing re-created


def test_a_service_staff_disabled_stays_disabled_when_it_returns(fake, provider):
    fake.items = [upstream(1)]
    sync_catalog(provider)
    Service.objects.update(enabled=False, disabled_reason=Service.Disabled.STAFF)
    fake.items = []
    sync_catalog(provider)
    fake.items = [upstream(1)]
    sync_catalog(provider)
    assert Service.objects.get().disabled_reason == Service.Disabled.STAFF


def test_min_and_max_follow_the_provider_unless_staff_narrowed_them(fake, provider):
    fake.items = [upstream(1, min_="10", max_="1000"), upstream(2, min_="10", max_="1000")]
    sync_catalog(provider)
    Service.objects.filter(provider_service__external_id="2").update(min_quantity=100, max_quantity=500)
    fake.items = [upstream(1, min_="20", max_="2000"), upstream(2, min_="200", max_="400")]
    sync_catalog(provider)
    s1 = Service.objects.get(provider_service__external_id="1")
    s2 = Service.objects.get(provider_service__external_id="2")
    assert (s1.min_quantity, s1.max_quantity) == (20, 2000)
    assert (s2.min_quantity, s2.max_quantity) == (200, 400)  # clamped into the provider's range


def test_a_malformed_item_is_skipped_and_recorded_without_aborting_the_run(fake, provider):
    fake.items = [upstream(1), {"service": 2, "name": "No rate"}, "garbage", upstream(3)]
    run = sync_catalog(provider)
    assert run.ok and run.new == 2 and run.skipped == 2
    assert len(run.skipped_items) == 2 and all(item["reason"] for item in run.skipped_items)


def test_a_duplicate_id_in_the_listing_is_skipped(fake, provider):
    fake.items = [upstream(1, name="First"), upstream(1, name="Second")]
    run = sync_catalog(provider)
    assert run.new == 1 and run.skipped == 1
    assert Service.objects.get().name == "First"


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "body": "<html><body>Bad gateway</body></html>"},
        {"status": 200, "body": "[{\"service\": 1, "},
        {"status": 200, "body": "{\"error\": \"Invalid API key\"}"},
    ],
    ids=["html-500", "broken-json", "refused"],
)
def test_a_failing_provider_leaves_the_catalog_exactly_as_it_was(fake, provider, fault):
    fake.items = [upstream(1, rate="1.00"), upstream(2)]
    sync_catalog(provider)
    before = list(Service.objects.values()), list(ProviderService.objects.values())
    fake.rsps.replace(responses.POST, FAKE_URL, status=fault["status"], body=fault["body"])
    run = sync_catalog(provider)
    assert not run.ok and run.error
    assert "secret-key-123" not in run.error
    assert (list(Service.objects.values()), list(ProviderService.objects.values())) == before
    provider.refresh_from_db()
    assert provider.last_error_at is not None and not provider.is_healthy


def test_every_run_leaves_a_sync_record_with_its_counts(fake, provider):
    fake.items = [upstream(1)]
    sync_catalog(provider)
    fake.items = [upstream(1, rate="0.50"), upstream(2)]
    sync_catalog(provider)
    latest = SyncRun.objects.first()
    assert (latest.new, latest.changed, latest.price_down, latest.ok) == (1, 1, 1, True)
    assert SyncRun.objects.count() == 2


def test_an_empty_listing_is_taken_for_a_glitch_and_changes_nothing(fake, provider):
    fake.items = [upstream(1), upstream(2)]
    sync_catalog(provider)
    fake.items = []
    run = sync_catalog(provider)
    assert not run.ok and "no services" in run.error
    assert Service.objects.filter(enabled=True).count() == 2
