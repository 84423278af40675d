from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Category, Provider, ProviderService, Service
from tests.pages import rendered

pytestmark = pytest.mark.django_db


def make_service(name, *, category="Instagram", rate="1.50", enabled=True, refill=False, cancel=False, desc=""):
    provider, _ = Provider.objects.get_or_create(name="P", defaults={"api_url": "https://p.example/api/v2", "api_key": "k"})
    category, _ = Category.objects.get_or_create(name=category)
    now = timezone.now()
    mirror = ProviderService.objects.create(
        provider=provider, external_id=str(ProviderService.objects.count() + 1), name=name, type="Default",
        category=category.name, rate=Decimal("1"), min_quantity=10, max_quantity=1000,
        first_seen_at=now, last_seen_at=now,
    )
    return Service.objects.create(
        name=name, description=desc, category=category, type="Default", provider_service=mirror,
        rate=Decimal(rate), min_quantity=10, max_quantity=1000, enabled=enabled, refill=refill, cancel=cancel,
    )


def test_services_page_is_public_and_groups_services_by_category(client):
    make_service("IG Followers", category="Instagram", refill=True)
    make_service("TT Views", category="TikTok", cancel=True, desc="Fast start")
    html = client.get(reverse("catalog:services")).content.decode()
    assert "<h2>Instagram</h2>" in html and "<h2>TikTok</h2>" in html
    assert "IG Followers" in html and "1.50000" in html and "10 / 1000" in html
    assert "badge-refill" in html and "badge-cancel" in html and "Fast start" in html


def test_disabled_services_are_absent(client):
    make_service("Hidden one", enabled=False)
    make_service("Shown one")
    html = client.get(reverse("catalog:services")).content.decode()
    assert "Hidden one" not in html and "Shown one" in html


def test_search_finds_by_name_category_or_id(client):
    followers = make_service("Followers HQ", category="Instagram")
    make_service("Views", category="YouTube")
    html = client.get(reverse("catalog:services"), {"q": "followers"}).content.decode()
    assert "Followers HQ" in html and "Views" not in html
    html = client.get(reverse("catalog:services"), {"q": str(followers.pk)}).content.decode()
    assert "Followers HQ" in html and ">Views<" not in html
    html = client.get(reverse("catalog:services"), {"q": "youtube"}).content.decode()
    assert "Views" in html and "Followers HQ" not in html


def test_search_with_no_match_says_so(client):
    make_service("Followers")
    html = client.get(reverse("catalog:services"), {"q": "<b>zzz</b>"}).content.decode()
    assert "No service matches" in html and "&lt;b&gt;zzz&lt;/b&gt;" in html


def test_provider_sent_html_is_shown_as_text(client):
    make_service("Likes <script>alert(1)</script>", desc="<img src=x onerror=alert(2)>",
                 category="<i>Cat</i>")
    html = client.get(reverse("catalog:services")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "Likes &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<i>Cat</i>" not in html


def test_services_page_query_count_does_not_grow_with_services(client, django_assert_max_num_queries):
    for i in range(30):
        make_service(f"S{i}", category=f"C{i % 5}")
    with django_assert_max_num_queries(3):
        response = client.get(reverse("catalog:services"))
    rendered(response, "<h1>Services</h1>")
