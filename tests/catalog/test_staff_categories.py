"""Staff pages for categories and the back-office dashboard."""

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Category
from core.models import StaffNotice
from tests.pages import rendered

from .staff_fixtures import make_provider, make_service

pytestmark = pytest.mark.django_db

XSS = "<script>alert('pwned')</script>"


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


def _names():
    return list(Category.objects.order_by("sort_order", "name").values_list("name", flat=True))


def _move(client, category, direction):
    return client.post(reverse("staff_catalog:category_move", args=[category.pk]), {"direction": direction})


def _rename(client, category, name):
    return client.post(reverse("staff_catalog:category_rename", args=[category.pk]), {"name": name}, follow=True)


# ---------------------------------------------------------------- categories


def test_categories_are_listed_in_order_with_their_service_counts(staff):
    make_service(name="A", category="Instagram")
    make_service(name="B", category="Instagram", enabled=False, disabled_reason="staff")
    make_service(name="C", category="TikTok")
    Category.objects.filter(name="TikTok").update(sort_order=-1)
    html = staff.get(reverse("staff_catalog:categories")).content.decode()
    assert html.index('value="TikTok"') < html.index('value="Instagram"')
    assert "1 on sale / 2" in html and "1 on sale / 1" in html


def test_categories_page_runs_a_constant_number_of_queries(staff, django_assert_max_num_queries):
    make_service(category="C0")
    with django_assert_max_num_queries(50) as one:
        rendered(staff.get(reverse("staff_catalog:categories")), "<h1>Categories</h1>")
    baseline = len(one.captured_queries)
    for i in range(1, 10):
        make_service(name=f"S{i}", category=f"C{i}")
    with django_assert_max_num_queries(baseline):
        html = rendered(staff.get(reverse("staff_catalog:categories")), "<h1>Categories</h1>")
    assert all(f"C{i}" in html for i in range(10))  # every category listed, within the same queries


def test_moving_a_category_up_swaps_it_with_the_one_above(staff):
    a, b, c = (Category.objects.create(name=n, sort_order=i) for i, n in enumerate("ABC"))
    _move(staff, c, "up")
    assert _names() == ["A", "C", "B"]
    _move(staff, c, "up")
    assert _names() == ["C", "A", "B"]


def test_moving_a_category_down_swaps_it_with_the_one_below(staff):
    a, b, c = (Category.objects.create(name=n, sort_order=i) for i, n in enumerate("ABC"))
    _move(staff, a, "down")
    assert _names() == ["B", "A", "C"]


def test_moving_works_even_when_categories_share_a_sort_order(staff):
    a, b, c = (Category.objects.create(name=n, sort_order=0) for n in "ABC")
    _move(staff, b, "up")
    assert _names() == ["B", "A", "C"]


def test_moving_the_first_category_up_or_the_last_down_changes_nothing(staff):
    a, b = Category.objects.create(name="A", sort_order=10), Category.objects.create(name="B", sort_order=20)
    _move(staff, a, "up")
    _move(staff, b, "down")
    assert list(Category.objects.order_by("pk").values_list("name", "sort_order")) == [("A", 10), ("B", 20)]


def test_staff_rename_a_category(staff):
    category = Category.objects.create(name="Insta")
    html = _rename(staff, category, "  Instagram followers ").content.decode()
    category.refresh_from_db()
    assert category.name == "Instagram followers"
    assert "renamed to “Instagram followers”" in html


@pytest.mark.parametrize("name", ["TikTok", "tiktok"])
def test_renaming_to_a_taken_name_is_refused_with_a_clear_error(staff, name):
    category = Category.objects.create(name="Insta")
    Category.objects.create(name="TikTok")
    html = _rename(staff, category, name).content.decode()
    assert f"A category named “{name}” already exists." in html
    assert _names() == ["Insta", "TikTok"]


def test_renaming_to_an_empty_name_is_refused(staff):
    category = Category.objects.create(name="Insta")
    html = _rename(staff, category, "   ").content.decode()
    assert "A category needs a name" in html
    assert _names() == ["Insta"]


def test_category_names_from_providers_are_escaped(staff):
    Category.objects.create(name=f"Evil {XSS}")
    html = staff.get(reverse("staff_catalog:categories")).content.decode()
    assert XSS not in html and "&lt;script&gt;" in html


# ---------------------------------------------------------------- dashboard


def test_dashboard_lists_unresolved_notices_only(staff):
    StaffNotice.objects.create(subject="3 services disabled below cost", body="#4 Likes: fixed 1.0 per 1000")
    StaffNotice.objects.create(subject="Old news", resolved_at=timezone.now())
    html = staff.get(reverse("staff_catalog:dashboard")).content.decode()
    assert "3 services disabled below cost" in html and "#4 Likes" in html
    assert "Old news" not in html


def test_mark_resolved_takes_a_notice_off_the_dashboard(staff):
    notice = StaffNotice.objects.create(subject="Provider out of balance")
    response = staff.post(reverse("staff_catalog:notice_resolve", args=[notice.pk]), follow=True)
    notice.refresh_from_db()
    assert notice.resolved_at is not None
    assert "Provider out of balance" not in response.content.decode()


def test_resolving_twice_keeps_the_first_resolution_time(staff):
    notice = StaffNotice.objects.create(subject="x")
    staff.post(reverse("staff_catalog:notice_resolve", args=[notice.pk]))
    first = StaffNotice.objects.get().resolved_at
    html = staff.post(reverse("staff_catalog:notice_resolve", args=[notice.pk]), follow=True).content.decode()
    assert StaffNotice.objects.get().resolved_at == first and "already resolved" in html


def test_dashboard_shows_provider_health_at_a_glance(staff):
    make_provider("Healthy", last_success_at=timezone.now())
    make_provider("Broken", key="k2", last_error_at=timezone.now(), last_error="NotSent: refused")
    make_provider("New", key="k3")
    html = staff.get(reverse("staff_catalog:dashboard")).content.decode()
    assert "Healthy" in html and "NotSent: refused" in html and "never contacted" in html


def test_notice_text_is_escaped_on_the_dashboard(staff):
    StaffNotice.objects.create(subject=f"Service {XSS} disabled", body=XSS)
    html = staff.get(reverse("staff_catalog:dashboard")).content.decode()
    assert XSS not in html and "&lt;script&gt;" in html
