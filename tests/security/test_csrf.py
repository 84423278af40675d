"""CSRF (issue #16): every URL in the URLconf, read from it, refuses a POST without the form's token (a page on
another site posting into a logged-in session), except exactly the machine endpoints: the panel's /api/v2
(authenticated by its key field, never by a cookie), the payment gateways' webhooks (by their signature) and
the sandbox's stand-ins for a provider and a gateway. A new exemption fails this test until it is listed."""

import re

import pytest
from django.http import HttpResponseForbidden
from django.test import Client
from django.urls import resolve, reverse

from tests.urlconf import all_patterns

pytestmark = pytest.mark.django_db

REFUSED = "csrf-refused"

EXEMPT = {
    "api/v2",
    "api/v2/",
    "payments/webhook/<slug:gateway>/",
    "sandbox/api/v2",
    "sandbox/api/v2/",
    "sandbox/gateway/v1/checkouts",
    "sandbox/gateway/v1/checkouts/<str:checkout_id>/refund",
    "sandbox/gateway/checkout/<str:checkout_id>/",  # the stand-in gateway's hosted page (not the panel's)
}


def csrf_refused(request, reason=""):
    """The CSRF failure view for these tests: tells a CSRF refusal apart from any other 403."""
    return HttpResponseForbidden(REFUSED)


SAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "1", "uuid": "00000000-0000-4000-8000-000000000001"}


def sample_path(route: str) -> str:
    """A path the route matches: each converter gets a sample, a regex group its first alternative."""
    path = re.sub(r"\(\?P<\w+>([^)|]*)[^)]*\)", lambda found: found.group(1) or "x", route)
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda found: SAMPLES[found.group(1) or "str"], path)
    path = path.replace("^", "").replace("$", "")
    if route.endswith("(?P<url>.*)$"):  # the admin's catch-all
        path = path.removesuffix("x") + "nowhere/"
    return "/" + path


ROUTES = all_patterns()


@pytest.fixture
def attacker_post(settings, carol):
    """A cross-site form post into carol's session: her session and CSRF cookies go along, no token does."""
    settings.CSRF_FAILURE_VIEW = "tests.security.test_csrf.csrf_refused"
    client = Client(enforce_csrf_checks=True)
    client.force_login(carol)
    client.get("/notifications/")  # sets the csrftoken cookie, as any earlier visit would have
    assert "csrftoken" in client.cookies

    def post(path):
        return client.post(path, {"amount": "5", "reason": "x", "body": "x", "action": "pay"})

    return post


def test_every_route_gets_a_sample_path_that_resolves_to_it():
    assert len(ROUTES) >= 100
    for route, pattern in ROUTES:
        assert resolve(sample_path(route)).func == pattern.callback, route


def test_every_post_without_a_token_is_refused_except_exactly_the_machine_endpoints(attacker_post):
    accepted = set()
    for route, _ in ROUTES:
        response = attacker_post(sample_path(route))
        if not (response.status_code == 403 and response.content == REFUSED.encode()):
            accepted.add(route)
    assert accepted == EXEMPT, {"exempt but not listed": sorted(accepted - EXEMPT),
                                "listed but refused": sorted(EXEMPT - accepted)}


def test_a_post_with_the_token_gets_through(settings, alice):
    """The refusal above is for the missing token: the same client with it is let in."""
    settings.CSRF_FAILURE_VIEW = "tests.security.test_csrf.csrf_refused"
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/notifications/")
    token = client.cookies["csrftoken"].value
    response = client.post("/notifications/read/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response.url == reverse("notifications:list")
    response = client.post("/notifications/read/", headers={"X-CSRFToken": token})  # as HTMX sends it
    assert response.status_code == 302 and response.url == reverse("notifications:list")


def test_the_login_form_itself_needs_the_token(settings, alice):
    settings.CSRF_FAILURE_VIEW = "tests.security.test_csrf.csrf_refused"
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 403 and response.content == REFUSED.encode()
    assert "_auth_user_id" not in client.session
