"""Staff pages for providers: list, add, edit, test connection, sync now, sync history."""

from decimal import Decimal

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from catalog.models import Provider, Service, SyncRun
from core.models import StaffNotice

from .staff_fixtures import FAKE_URL, SECRET_KEY, make_provider, make_service

pytestmark = pytest.mark.django_db

XSS = "<script>alert('pwned')</script>"


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


@pytest.fixture
def provider_http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def _form(**overrides):
    data = {
        "name": "Second", "api_url": "https://second.example/api/v2", "api_key": "new-key-456", "currency": "USD",
        "exchange_rate": "1", "markup_percent": "40", "is_active": "on", "http_method": "POST",
        "body_format": "form", "key_field": "key",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _page(client, name, *args):
    response = client.get(reverse(f"staff_catalog:{name}", args=args))
    assert response.status_code == 200
    return response.content.decode()


# ---------------------------------------------------------------- list


def test_provider_list_shows_host_markup_balance_health_last_sync_and_service_counts(staff):
    provider = make_provider(
        balance=Decimal("123.45"), balance_currency="USD", last_success_at=timezone.now(), markup_percent=Decimal("35")
    )
    make_service(provider)
    make_service(provider, enabled=False, disabled_reason="staff")
    SyncRun.objects.create(provider=provider, started_at=timezone.now(), ok=True)
    html = _page(staff, "providers")
    assert "provider.example" in html and "https://provider.example/api/v2" not in html
    assert "35%" in html and "123.45000 USD" in html
    assert ">ok<" in html
    assert "1 on sale / 2" in html and "2 upstream" in html


def test_failing_provider_shows_since_when_and_its_last_error(staff):
    make_provider(last_success_at=timezone.now() - timezone.timedelta(days=1), last_error_at=timezone.now(),
                  last_error="NotSent: connection refused by provider.example")
    html = _page(staff, "providers")
    assert "failing" in html and "connection refused by provider.example" in html


def test_a_backed_off_provider_shows_until_when_polling_is_paused_and_not_once_that_passed(staff):
    provider = make_provider(last_success_at=timezone.now() - timezone.timedelta(hours=1), last_error_at=timezone.now(),
                             last_error="Ambiguous: read timed out", poll_failures=3,
                             poll_backoff_until=timezone.now() + timezone.timedelta(minutes=4))
    until = timezone.localtime(provider.poll_backoff_until).strftime("%Y-%m-%d %H:%M")
    for name in ("providers", "dashboard"):
        html = _page(staff, name)
        assert f"Polling paused until {until} after 3 failed calls in a row." in html, name
    Provider.objects.filter(pk=provider.pk).update(poll_backoff_until=timezone.now() - timezone.timedelta(seconds=1))
    assert "Polling paused" not in _page(staff, "providers")


def test_provider_list_runs_a_constant_number_of_queries(staff, django_assert_max_num_queries):
    first = make_provider("P0")
    make_service(first)
    SyncRun.objects.create(provider=first, started_at=timezone.now(), ok=True)
    with django_assert_max_num_queries(50) as one:
        _page(staff, "providers")
    baseline = len(one.captured_queries)
    for i in range(1, 8):
        provider = make_provider(f"P{i}", key=f"k{i}")
        make_service(provider)
        SyncRun.objects.create(provider=provider, started_at=timezone.now(), ok=False, error="boom")
    with django_assert_max_num_queries(baseline):
        _page(staff, "providers")


def test_dashboard_runs_a_constant_number_of_queries(staff, django_assert_max_num_queries):
    make_provider("P0")
    with django_assert_max_num_queries(50) as one:
        _page(staff, "dashboard")
    baseline = len(one.captured_queries)
    for i in range(1, 6):
        make_service(make_provider(f"P{i}", key=f"k{i}"))
    with django_assert_max_num_queries(baseline):
        _page(staff, "dashboard")


# ---------------------------------------------------------------- the key is write-only


def test_the_api_key_appears_in_no_page(staff):
    provider = make_provider()
    SyncRun.objects.create(provider=provider, started_at=timezone.now(), ok=True)
    service = make_service(provider)
    for name, args in [("dashboard", []), ("providers", []), ("provider_edit", [provider.pk]),
                       ("provider_syncs", [provider.pk]), ("services", []), ("service_edit", [service.pk])]:
        assert SECRET_KEY not in _page(staff, name, *args), name


def test_the_edit_form_has_an_empty_password_field_for_the_key(staff):
    provider = make_provider()
    html = _page(staff, "provider_edit", provider.pk)
    assert 'type="password" name="api_key"' in html
    assert "Leave empty to keep the current key" in html and "set (hidden)" in html


def test_editing_with_an_empty_key_keeps_the_stored_key(staff):
    provider = make_provider()
    response = staff.post(reverse("staff_catalog:provider_edit", args=[provider.pk]), _form(name="Renamed", api_key=""))
    assert response.status_code == 302 and response.url == reverse("staff_catalog:providers")
    provider.refresh_from_db()
    assert provider.name == "Renamed" and provider.api_key == SECRET_KEY


def test_editing_with_a_new_key_replaces_it(staff):
    provider = make_provider()
    staff.post(reverse("staff_catalog:provider_edit", args=[provider.pk]), _form(api_key="brand-new-key"))
    provider.refresh_from_db()
    assert provider.api_key == "brand-new-key"


def test_a_rejected_edit_does_not_echo_the_typed_key_back(staff):
    provider = make_provider()
    response = staff.post(
        reverse("staff_catalog:provider_edit", args=[provider.pk]), _form(api_key="typed-key-777", api_url="nope")
    )
    assert response.status_code == 200 and "typed-key-777" not in response.content.decode()


# ---------------------------------------------------------------- add and edit


def test_staff_add_a_provider_with_its_transport_settings(staff):
    response = staff.post(reverse("staff_catalog:provider_add"), _form(
        http_method="GET", body_format="json", key_field="api_key", is_active=None, exchange_rate="0.012",
        currency="INR",
    ))
    assert response.status_code == 302 and response.url == reverse("staff_catalog:providers")
    provider = Provider.objects.get(name="Second")
    assert (provider.http_method, provider.body_format, provider.key_field) == ("GET", "json", "api_key")
    assert provider.api_key == "new-key-456" and not provider.is_active
    assert provider.markup_percent == Decimal("40") and provider.exchange_rate == Decimal("0.012")
    assert provider.currency == "INR"


def test_adding_a_provider_needs_a_key(staff):
    response = staff.post(reverse("staff_catalog:provider_add"), _form(api_key=""))
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not Provider.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "Upstream", "Provider with this Name already exists."),
    ("api_url", "not a url", "Enter a valid URL."),
    ("api_url", "ftp://files.example/api", "must start with https:// or http://"),
    ("markup_percent", "-5", "Cannot be negative."),
    ("exchange_rate", "0", "Must be above zero."),
    ("key_field", "api key!", "Letters, digits and underscores only"),
])
def test_bad_provider_input_is_refused_with_a_clear_error_and_changes_nothing(staff, field, value, message):
    make_provider()  # "Upstream", the name a duplicate would clash with
    other = make_provider("Other", key="other-key")
    before = list(Provider.objects.order_by("pk").values())
    add = staff.post(reverse("staff_catalog:provider_add"), _form(**{field: value}))
    data = _form(**{field: value}) | ({"name": "Other"} if field != "name" else {})
    edit = staff.post(reverse("staff_catalog:provider_edit", args=[other.pk]), data)
    for response in (add, edit):
        assert response.status_code == 200
        assert message in response.content.decode()
    assert list(Provider.objects.order_by("pk").values()) == before


def test_changing_the_providers_markup_reprices_its_derived_services_but_not_fixed_or_overridden_ones(staff):
    provider = make_provider(markup_percent=Decimal("50"))
    follows = make_service(provider, upstream_rate="2.00")
    own_markup = make_service(provider, upstream_rate="2.00", markup_percent=Decimal("10"), rate=Decimal("2.2"))
    fixed = make_service(provider, upstream_rate="2.00", price_mode="fixed", fixed_rate=Decimal("9"), rate=Decimal("9"))
    staff.post(reverse("staff_catalog:provider_edit", args=[provider.pk]), _form(name="Upstream", markup_percent="100"))
    assert Service.objects.get(pk=follows.pk).rate == Decimal("4.00000")
    assert Service.objects.get(pk=own_markup.pk).rate == Decimal("2.20000")
    assert Service.objects.get(pk=fixed.pk).rate == Decimal("9.00000")


def test_a_new_exchange_rate_that_puts_a_fixed_price_below_cost_takes_it_off_sale(staff):
    provider = make_provider()
    fixed = make_service(provider, upstream_rate="2.00", price_mode="fixed", fixed_rate=Decimal("3"), rate=Decimal("3"))
    staff.post(reverse("staff_catalog:provider_edit", args=[provider.pk]), _form(name="Upstream", exchange_rate="2"))
    fixed.refresh_from_db()
    assert not fixed.enabled and fixed.disabled_reason == Service.Disabled.BELOW_COST
    notice = StaffNotice.objects.get()
    assert "1 service(s) of Upstream disabled" in notice.subject and f"#{fixed.pk}" in notice.body


# ---------------------------------------------------------------- test connection


def test_test_connection_shows_the_balance_and_records_it(staff, provider_http):
    provider = make_provider(api_url=FAKE_URL)
    provider_http.add(responses.POST, FAKE_URL, json={"balance": "100.84292", "currency": "USD"})
    response = staff.post(reverse("staff_catalog:provider_check", args=[provider.pk]), follow=True)
    assert "connected, balance 100.84292 USD" in response.content.decode()
    provider.refresh_from_db()
    assert provider.balance == Decimal("100.84292") and provider.is_healthy


def test_test_connection_shows_the_providers_error_escaped(staff, provider_http):
    provider = make_provider(api_url=FAKE_URL)
    provider_http.add(responses.POST, FAKE_URL, json={"error": f"Invalid API key {XSS}"})
    html = staff.post(reverse("staff_catalog:provider_check", args=[provider.pk]), follow=True).content.decode()
    assert "connection failed" in html and "Invalid API key" in html
    assert XSS not in html and "&lt;script&gt;" in html
    assert SECRET_KEY not in html
    provider.refresh_from_db()
    assert provider.last_error_at is not None


def test_the_providers_stored_error_is_escaped_on_list_and_dashboard(staff):
    make_provider(name=f"Evil {XSS}", last_error_at=timezone.now(), last_error=f"ProviderRefused: {XSS}")
    for name in ("providers", "dashboard"):
        html = _page(staff, name)
        assert XSS not in html and "&lt;script&gt;" in html


# ---------------------------------------------------------------- sync now and history


def _catalog(items):
    def answer(request):
        import json
        if "action=services" in (request.body or ""):
            return 200, {}, json.dumps(items)
        return 200, {}, json.dumps({"error": "Incorrect request"})
    return answer


def test_sync_now_runs_the_sync_and_shows_its_counts(staff, provider_http):
    provider = make_provider(api_url=FAKE_URL)
    provider_http.add_callback(responses.POST, FAKE_URL, callback=_catalog([
        {"service": 1, "name": "Likes", "type": "Default", "category": "IG", "rate": "1", "min": "10", "max": "100"},
        {"service": 2, "name": "Views", "type": "Default", "category": "IG", "rate": "2", "min": "10", "max": "100"},
    ]))
    response = staff.post(reverse("staff_catalog:provider_sync", args=[provider.pk]), follow=True)
    html = response.content.decode()
    assert "catalog synced: 2 new, 0 changed" in html
    assert Service.objects.count() == 2 and SyncRun.objects.get().ok


def test_sync_now_shows_the_error_of_a_failed_sync(staff, provider_http):
    provider = make_provider(api_url=FAKE_URL)
    provider_http.add(responses.POST, FAKE_URL, json={"error": f"Maintenance {XSS}"})
    html = staff.post(reverse("staff_catalog:provider_sync", args=[provider.pk]), follow=True).content.decode()
    assert "sync failed" in html and "Maintenance" in html
    assert XSS not in html
    assert not SyncRun.objects.get().ok


def test_sync_history_shows_counts_errors_and_skipped_items_escaped(staff):
    provider = make_provider()
    SyncRun.objects.create(
        provider=provider, started_at=timezone.now(), ok=True, new=7, changed=3, gone=2, skipped=1,
        skipped_items=[{"reason": f"bad rate {XSS}", "item": f"{{'name': '{XSS}'}}"}],
    )
    SyncRun.objects.create(provider=provider, started_at=timezone.now(), ok=False, error=f"Ambiguous: {XSS}")
    other = make_provider("Other", key="k2")
    SyncRun.objects.create(provider=other, started_at=timezone.now(), ok=True, new=999)
    html = _page(staff, "provider_syncs", provider.pk)
    assert ">7<" in html and ">3<" in html and "bad rate" in html and "Ambiguous" in html
    assert "999" not in html
    assert XSS not in html and "&lt;script&gt;" in html
