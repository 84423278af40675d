"""Every staff URL: staff see it, customers are refused, anonymous visitors are sent to log in."""

import pytest
from django.urls import reverse

from core.models import StaffNotice

from .staff_fixtures import SECRET_KEY, make_provider, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


@pytest.fixture
def customer(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def world(db):
    provider = make_provider()
    service = make_service(provider)
    notice = StaffNotice.objects.create(subject="Look here")
    return {"provider": provider, "service": service, "category": service.category, "notice": notice}


PAGES = [
    ("dashboard", None),
    ("providers", None),
    ("provider_add", None),
    ("provider_edit", "provider"),
    ("provider_syncs", "provider"),
    ("services", None),
    ("service_edit", "service"),
    ("categories", None),
]
ACTIONS = [
    ("notice_resolve", "notice"),
    ("provider_check", "provider"),
    ("provider_sync", "provider"),
    ("services_bulk", None),
    ("category_rename", "category"),
    ("category_move", "category"),
]


def _url(world, name, arg):
    return reverse(f"staff_catalog:{name}", args=[world[arg].pk] if arg else [])


@pytest.mark.parametrize(("name", "arg"), PAGES)
def test_every_staff_page_renders_for_staff_inside_the_staff_layout(staff, world, name, arg):
    response = staff.get(_url(world, name, arg))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="subnav"' in html and "Categories</a>" in html
    assert SECRET_KEY not in html


@pytest.mark.parametrize(("name", "arg"), PAGES + ACTIONS)
def test_customers_get_403_on_every_staff_url(customer, world, name, arg):
    url = _url(world, name, arg)
    assert customer.get(url).status_code == 403
    assert customer.post(url).status_code == 403


@pytest.mark.parametrize(("name", "arg"), PAGES + ACTIONS)
def test_anonymous_visitors_are_sent_to_log_in_from_every_staff_url(client, world, name, arg):
    url = _url(world, name, arg)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login")) and "next=" in response.url


@pytest.mark.parametrize(("name", "arg"), ACTIONS)
def test_actions_refuse_get_so_a_link_cannot_change_anything(staff, world, name, arg):
    assert staff.get(_url(world, name, arg)).status_code == 405


def test_customers_do_not_see_the_back_office_link_and_staff_do(customer, carol, client):
    assert reverse("staff_catalog:dashboard") not in customer.get(reverse("home")).content.decode()
    client.force_login(carol)
    assert reverse("staff_catalog:dashboard") in client.get(reverse("home")).content.decode()
