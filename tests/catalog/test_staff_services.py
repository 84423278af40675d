"""Staff pages for the panel's services: filtered list, per-service edit, bulk actions."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Category, Service

from .staff_fixtures import make_provider, make_service

pytestmark = pytest.mark.django_db

XSS = "<script>alert('pwned')</script>"
LIST = reverse("staff_catalog:services")
BULK = reverse("staff_catalog:services_bulk")


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


def _list(client, **params):
    response = client.get(LIST, params)
    assert response.status_code == 200
    return response.content.decode()


def _rows(html):
    return {int(chunk.split('"', 1)[0]) for chunk in html.split('<tr id="service-')[1:]}


def _snapshot():
    return list(Service.objects.order_by("pk").values())


# ---------------------------------------------------------------- list


def test_list_shows_cost_price_rule_provider_and_why_a_service_is_disabled(staff):
    provider = make_provider(exchange_rate=Decimal("0.5"), markup_percent=Decimal("50"))
    make_service(provider, name="Derived one", upstream_rate="4.00", external_id="X17", rate=Decimal("3"))
    make_service(provider, name="Own markup", upstream_rate="4.00", markup_percent=Decimal("20"), rate=Decimal("2.4"))
    make_service(provider, name="Fixed one", price_mode="fixed", fixed_rate=Decimal("7"), rate=Decimal("7"),
                 enabled=False, disabled_reason="gone")
    html = _list(staff)
    assert "2.00000" in html  # cost: 4.00 × 0.5
    assert "3.00000" in html and "Upstream <span class=\"muted\">#X17</span>" in html
    assert "derived +50% (provider&#x27;s)" in html and "derived +20%" in html and ">fixed<" in html
    assert "Gone upstream" in html


def test_list_filters_by_provider_category_enabled_and_name(staff):
    one, two = make_provider("One"), make_provider("Two", key="k2")
    a = make_service(one, name="Alpha likes", category="IG")
    b = make_service(two, name="Beta views", category="IG", enabled=False, disabled_reason="staff")
    c = make_service(two, name="Gamma likes", category="TT")
    ig = Category.objects.get(name="IG")
    assert _rows(_list(staff)) == {a.pk, b.pk, c.pk}
    assert _rows(_list(staff, provider=two.pk)) == {b.pk, c.pk}
    assert _rows(_list(staff, category=ig.pk)) == {a.pk, b.pk}
    assert _rows(_list(staff, enabled="no")) == {b.pk}
    assert _rows(_list(staff, enabled="yes", q="likes")) == {a.pk, c.pk}
    assert _rows(_list(staff, provider=two.pk, category=ig.pk, enabled="no")) == {b.pk}


def test_list_is_paginated_by_fifty_and_keeps_the_filters_in_page_links(staff):
    provider = make_provider()
    for i in range(55):
        make_service(provider, name=f"Svc {i}")
    first, second = _list(staff, enabled="yes"), _list(staff, enabled="yes", page=2)
    assert len(_rows(first)) == 50 and len(_rows(second)) == 5
    assert "?enabled=yes&amp;page=2" in first


def test_list_runs_a_constant_number_of_queries_per_page(staff, django_assert_max_num_queries):
    provider = make_provider()
    make_service(provider)
    with django_assert_max_num_queries(50) as one:
        _list(staff)
    baseline = len(one.captured_queries)
    others = [make_provider(f"P{i}", key=f"k{i}") for i in range(4)]
    for i in range(60):
        make_service(others[i % 4], name=f"S{i}", category=f"C{i % 7}")
    with django_assert_max_num_queries(baseline):
        _list(staff)


def test_provider_sent_names_are_escaped_in_the_list_and_edit_page(staff):
    service = make_service(name=f"Likes {XSS}", category=f"Cat {XSS}", description=XSS)
    for html in (_list(staff), staff.get(reverse("staff_catalog:service_edit", args=[service.pk])).content.decode()):
        assert XSS not in html and "&lt;script&gt;" in html


# ---------------------------------------------------------------- edit


def _edit(client, service, **overrides):
    data = {
        "name": service.name, "description": service.description, "category": service.category_id,
        "price_mode": service.price_mode, "markup_percent": service.markup_percent or "",
        "fixed_rate": service.fixed_rate or "", "min_quantity": service.min_quantity,
        "max_quantity": service.max_quantity,
    }
    if service.refill:
        data["refill"] = "on"
    if service.cancel:
        data["cancel"] = "on"
    data.update(overrides)
    return client.post(reverse("staff_catalog:service_edit", args=[service.pk]), {k: v for k, v in data.items() if v is not None})


def test_staff_edit_name_description_category_and_limits(staff):
    service = make_service(upstream_min=10, upstream_max=10000)
    tiktok = Category.objects.create(name="TikTok")
    response = _edit(staff, service, name="Real followers", description="Fast", category=tiktok.pk,
                     min_quantity=100, max_quantity=5000)
    assert response.status_code == 302 and response.url.startswith(reverse("staff_catalog:services"))
    service.refresh_from_db()
    assert (service.name, service.description, service.category, service.min_quantity, service.max_quantity) == (
        "Real followers", "Fast", tiktok, 100, 5000
    )


def test_a_markup_override_recomputes_the_derived_rate(staff):
    service = make_service(make_provider(exchange_rate=Decimal("2")), upstream_rate="1.50")
    _edit(staff, service, markup_percent="10")
    service.refresh_from_db()
    assert service.rate == Decimal("3.30000") and service.markup_percent == Decimal("10")


def test_clearing_the_markup_override_goes_back_to_the_providers_markup(staff):
    service = make_service(upstream_rate="2.00", markup_percent=Decimal("10"), rate=Decimal("2.2"))
    _edit(staff, service, markup_percent="")
    service.refresh_from_db()
    assert service.markup_percent is None and service.rate == Decimal("3.00000")


def test_a_fixed_price_sets_the_rate(staff):
    service = make_service(upstream_rate="2.00")
    _edit(staff, service, price_mode="fixed", fixed_rate="2.50")
    service.refresh_from_db()
    assert service.price_mode == "fixed" and service.rate == Decimal("2.50000") and service.enabled


def test_repricing_a_service_disabled_below_cost_puts_it_back_on_sale(staff):
    service = make_service(upstream_rate="2.00", price_mode="fixed", fixed_rate=Decimal("1"), rate=Decimal("1"),
                           enabled=False, disabled_reason="below_cost")
    _edit(staff, service, fixed_rate="2.10")
    service.refresh_from_db()
    assert service.enabled and service.disabled_reason == ""


def test_editing_keeps_a_staff_disabled_service_disabled(staff):
    service = make_service(enabled=False, disabled_reason="staff")
    _edit(staff, service, name="New name")
    service.refresh_from_db()
    assert service.name == "New name" and not service.enabled


@pytest.mark.parametrize(("overrides", "message"), [
    ({"min_quantity": 500, "max_quantity": 100}, "The maximum cannot be below the minimum."),
    ({"min_quantity": 5}, "The provider&#x27;s minimum is 10."),
    ({"max_quantity": 20000}, "The provider&#x27;s maximum is 10000."),
    ({"price_mode": "fixed", "fixed_rate": "1.99"}, "This price is below cost (2.00000 per 1000)."),
    ({"price_mode": "fixed", "fixed_rate": ""}, "A fixed price needs an amount."),
    ({"markup_percent": "-10"}, "The markup cannot be negative."),
    ({"refill": "on"}, "The provider does not offer refills for this service."),
    ({"cancel": "on"}, "The provider does not offer cancellation for this service."),
    ({"name": ""}, "This field is required."),
    ({"min_quantity": "lots"}, "Enter a whole number."),
])
def test_bad_service_edits_are_refused_with_a_field_error_and_change_nothing(staff, overrides, message):
    service = make_service(upstream_rate="2.00", upstream_min=10, upstream_max=10000)
    before = _snapshot()
    response = _edit(staff, service, name="Changed name", **overrides) if "name" not in overrides else _edit(
        staff, service, **overrides
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _snapshot() == before


def test_refill_can_be_turned_on_when_the_provider_offers_it(staff):
    service = make_service(upstream_refill=True)
    _edit(staff, service, refill="on")
    service.refresh_from_db()
    assert service.refill


# ---------------------------------------------------------------- bulk


def _bulk(client, action, services, **extra):
    data = {"action": action, "services": [s.pk for s in services], **extra}
    return client.post(BULK, data, follow=True)


def test_bulk_disable_takes_the_checked_services_off_sale_as_staffs_choice(staff):
    a, b, c = make_service(name="A"), make_service(name="B"), make_service(name="C")
    _bulk(staff, "disable", [a, b])
    assert set(Service.objects.filter(enabled=False).values_list("pk", "disabled_reason")) == {
        (a.pk, "staff"), (b.pk, "staff")
    }
    c.refresh_from_db()
    assert c.enabled


def test_bulk_enable_puts_checked_services_back_on_sale(staff):
    a = make_service(name="A", enabled=False, disabled_reason="staff")
    b = make_service(name="B", enabled=False, disabled_reason="staff")
    html = _bulk(staff, "enable", [a, b]).content.decode()
    assert "2 service(s) enabled." in html
    assert set(Service.objects.filter(enabled=True).values_list("pk", flat=True)) == {a.pk, b.pk}
    assert set(Service.objects.values_list("disabled_reason", flat=True)) == {""}


def test_bulk_enable_refuses_gone_and_below_cost_services_with_a_clear_message(staff):
    ok = make_service(name="Fine", enabled=False, disabled_reason="staff")
    gone = make_service(name="Vanished", gone=True, enabled=False, disabled_reason="gone")
    cheap = make_service(name="Cheap", upstream_rate="2.00", price_mode="fixed", fixed_rate=Decimal("1"),
                         rate=Decimal("1"), enabled=False, disabled_reason="below_cost")
    html = _bulk(staff, "enable", [ok, gone, cheap]).content.decode()
    assert "1 service(s) enabled." in html
    assert f"#{gone.pk} Vanished not enabled: the provider no longer offers it." in html
    assert f"#{cheap.pk} Cheap not enabled: its price 1.00000 is below cost (2.00000)." in html
    assert set(Service.objects.filter(enabled=True).values_list("pk", flat=True)) == {ok.pk}
    cheap.refresh_from_db()
    assert cheap.disabled_reason == "below_cost"


def test_bulk_markup_switches_services_to_derived_pricing_and_recomputes_rates(staff):
    provider = make_provider(exchange_rate=Decimal("2"))
    fixed = make_service(provider, upstream_rate="1.00", price_mode="fixed", fixed_rate=Decimal("5"), rate=Decimal("5"))
    derived = make_service(provider, upstream_rate="3.00")
    untouched = make_service(provider, upstream_rate="3.00")
    html = _bulk(staff, "markup", [fixed, derived], markup_percent="25").content.decode()
    assert "2 service(s) now priced at cost + 25%." in html
    fixed.refresh_from_db()
    derived.refresh_from_db()
    assert (fixed.price_mode, fixed.markup_percent, fixed.fixed_rate, fixed.rate) == (
        "derived", Decimal("25"), None, Decimal("2.50000")
    )
    assert derived.rate == Decimal("7.50000")
    assert Service.objects.get(pk=untouched.pk).rate == untouched.rate


def test_bulk_markup_puts_a_below_cost_service_back_on_sale(staff):
    cheap = make_service(upstream_rate="2.00", price_mode="fixed", fixed_rate=Decimal("1"), rate=Decimal("1"),
                         enabled=False, disabled_reason="below_cost")
    _bulk(staff, "markup", [cheap], markup_percent="10")
    cheap.refresh_from_db()
    assert cheap.enabled and cheap.rate == Decimal("2.20000")


@pytest.mark.parametrize(("data", "message"), [
    ({"action": "disable"}, "Select at least one service."),
    ({"action": "markup", "services": ["SELF"]}, "Enter the markup % to set."),
    ({"action": "markup", "services": ["SELF"], "markup_percent": "-1"}, "The markup cannot be negative."),
    ({"action": "explode", "services": ["SELF"]}, "Select a valid choice."),
])
def test_bad_bulk_actions_are_refused_with_a_clear_message_and_change_nothing(staff, data, message):
    service = make_service(upstream_rate="2.00")
    if "services" in data:
        data["services"] = [service.pk]
    before = _snapshot()
    html = staff.post(BULK, data, follow=True).content.decode()
    assert message in html
    assert _snapshot() == before


def test_bulk_actions_return_to_the_list_as_it_was_filtered(staff):
    service = make_service()
    response = staff.post(BULK, {"action": "disable", "services": [service.pk], "query": "enabled=yes&page=1"})
    assert response.status_code == 302 and response.url == f"{LIST}?enabled=yes&page=1"


def test_a_stale_filter_value_drops_only_that_filter(staff):
    on = make_service(name="On")
    make_service(name="Off", enabled=False, disabled_reason="staff")
    assert _rows(_list(staff, provider=99999, enabled="yes")) == {on.pk}
