"""Every /staff/ URL, read from the URLconf rather than a hand-kept list: anonymous visitors go to log in,
customers and role-less staff are refused, Support is refused what its role lacks, Admin gets everything."""

import pytest
from django.urls import URLPattern, URLResolver, reverse

from accounts.models import User
from backoffice import urls as backoffice_urls
from backoffice.roles import ROLES, SUPPORT

pytestmark = pytest.mark.django_db


def staff_pages():
    """(name, view) for every pattern under /staff/, with its namespace."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                found.append((f"{namespace}:{pattern.name}", pattern.callback, pattern.pattern.converters))

    walk(backoffice_urls.urlpatterns, "")
    return found


PAGES = staff_pages()


# Arguments that are not IDs: a value that names a real page, so that its refusal is checked, not a 404 (the
# money exports, which ask for more, are checked in test_reports).
SAMPLE_ARGS = {"backoffice:export": {"kind": "orders"}}


def url_of(name, converters):
    return reverse(name, kwargs={arg: 999999 for arg in converters} | SAMPLE_ARGS.get(name, {}))


def test_there_are_staff_pages_to_check_and_each_names_its_permission():
    assert len(PAGES) >= 25
    for name, view, _ in PAGES:
        assert getattr(view, "staff_permission", None), f"{name} is not behind staff_required"


@pytest.mark.parametrize(("name", "view", "converters"), PAGES, ids=[name for name, _, _ in PAGES])
def test_a_staff_page_refuses_whoever_lacks_its_permission(client, alice, dave, carol, name, view, converters):
    url = url_of(name, converters)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))

    nobody = User.objects.create_user("ex-staff", password="x", is_staff=True)  # staff without a role
    for user in (alice, nobody):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403

    client.force_login(dave)
    support_may = view.staff_permission in ROLES[SUPPORT]
    answers = {client.get(url).status_code, client.post(url).status_code}
    assert (403 not in answers) if support_may else (answers == {403}), (name, answers)

    client.force_login(carol)
    assert 403 not in {client.get(url).status_code, client.post(url).status_code}
