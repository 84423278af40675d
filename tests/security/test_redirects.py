"""Open redirects (issue #16): no address given from outside sends a visitor off the panel. Login's and
logout's `next`, the staff lists' `next`, a notification's link, and the payment return and cancel addresses
the gateways are given (built from SITE_URL, never from the Host header a visitor chooses)."""

import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import responses
from django.urls import reverse

from support.models import Notification

pytestmark = pytest.mark.django_db

OFF_SITE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "https:evil.example",
    " //evil.example",
    "\t//evil.example",
    "http://testserver@evil.example/",
    "https://testserver.evil.example/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
]


def stays_on_site(location: str) -> bool:
    """A browser following this Location header stays on the panel (testserver)."""
    location = location.strip().replace("\\", "/")
    parts = urlsplit(location)
    if parts.scheme and (parts.scheme not in ("http", "https") or not parts.netloc):
        return False  # javascript:, data:, and "https:evil.example", which a browser reads as https://evil.example
    return parts.netloc in ("", "testserver") and not location.startswith("//")


def test_the_judge_of_these_tests_knows_off_site_from_on_site():
    assert all(not stays_on_site(target) for target in OFF_SITE if not target.startswith("/%5C"))
    assert stays_on_site("/orders/") and stays_on_site("http://testserver/orders/")


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_sends_you_off_site(client, alice, target):
    response = client.post(reverse("login") + "?next=" + target.replace("%", "%25"),
                           {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 302, response.status_code
    assert stays_on_site(response["Location"]), response["Location"]
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-pass-123", "next": target})
    assert stays_on_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_logged_in_visit_to_login_never_sends_you_off_site(client, alice, target):
    client.force_login(alice)
    response = client.get(reverse("login"), {"next": target})
    assert response.status_code == 302 and stays_on_site(response["Location"]), response["Location"]


def test_login_does_follow_a_next_on_the_panel(client, alice):
    response = client.post(reverse("login") + "?next=/orders/?status=Pending",
                           {"username": "alice", "password": "alice-pass-123"})
    assert response["Location"] == "/orders/?status=Pending"


@pytest.mark.parametrize("target", OFF_SITE)
def test_logout_never_sends_you_off_site(client, alice, target):
    client.force_login(alice)
    response = client.post(reverse("logout"), {"next": target})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert stays_on_site(response["Location"]), response["Location"]
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_admin_login_never_sends_you_off_site(client, carol, target):
    response = client.post(reverse("admin:login") + "?next=" + target.replace("%", "%25"),
                           {"username": "carol", "password": "carol-pass-123"})
    assert response.status_code == 302 and stays_on_site(response["Location"]), response["Location"]


def test_signup_ignores_a_next(client, db):
    response = client.post(reverse("signup") + "?next=https://evil.example/", {
        "username": "newcomer", "email": "newcomer@example.com", "password1": "a-long-pass-123",
        "password2": "a-long-pass-123"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")


@pytest.mark.parametrize("target", [*OFF_SITE, "?\r\nSet-Cookie: stolen=1", "?q=1\nLocation: https://evil.example"])
def test_the_staff_orders_bulk_action_goes_back_to_its_list_only(client, carol, target):
    client.force_login(carol)
    response = client.post(reverse("staff_orders:bulk"), {"action": "complete", "orders": ["1"], "next": target})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(reverse("staff_orders:list")) and stays_on_site(location), location
    assert "\n" not in location and "\r" not in location and "stolen" not in response.cookies


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_a_notification_with_an_off_site_link_opens_the_notifications_list(client, alice, url):
    notification = Notification.objects.create(
        channel=Notification.Channel.INAPP, recipient=alice, recipient_key=f"user:{alice.pk}",
        kind=Notification.Kind.ORDER_FINISHED, key="order:1:finished", subject="Order #1 finished", url=url,
        status=Notification.Status.SENT)
    client.force_login(alice)
    response = client.post(reverse("notifications:mark_read"), {"id": notification.pk})
    assert response.status_code == 302 and response["Location"] == reverse("notifications:list")


def test_a_notification_on_the_panel_opens_its_page(client, alice):
    notification = Notification.objects.create(
        channel=Notification.Channel.INAPP, recipient=alice, recipient_key=f"user:{alice.pk}",
        kind=Notification.Kind.ORDER_FINISHED, key="order:1:finished", subject="Order #1 finished",
        url="/orders/1/", status=Notification.Status.SENT)
    client.force_login(alice)
    assert client.post(reverse("notifications:mark_read"), {"id": notification.pk})["Location"] == "/orders/1/"


def test_payment_return_and_cancel_addresses_come_from_site_url_not_the_host_header(client, alice, make_method,
                                                                                     settings):
    """Even with ALLOWED_HOSTS wide open, a visitor's Host header cannot make the gateway send them elsewhere."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = "https://panel.example"
    method = make_method("sandbox", min_amount=Decimal("5"))
    client.force_login(alice)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, "https://panel.example/sandbox/gateway/v1/checkouts",
                 json={"id": "cs_1", "url": "https://panel.example/sandbox/gateway/checkout/cs_1/", "status": "open",
                       "expires_at": 4102444800})
        response = client.post(reverse("payments:add") + "?next=https://evil.example/",
                               {"method": method.pk, "amount": "10", "next": "https://evil.example/",
                                "success_url": "https://evil.example/", "cancel_url": "https://evil.example/"},
                               headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
        sent = json.loads(rsps.calls[0].request.body)
    assert response.status_code == 302
    assert response["Location"] == "https://panel.example/sandbox/gateway/checkout/cs_1/"
    for name in ("success_url", "cancel_url", "notify_url"):
        assert sent[name].startswith("https://panel.example/"), (name, sent[name])
    assert "evil" not in json.dumps(sent)


def test_a_payments_return_page_is_the_panels_own_whatever_its_query(client, alice, make_method, make_payment):
    payment = make_payment(alice, make_method())
    client.force_login(alice)
    for query in ("?returned=1&next=https://evil.example/", "?canceled=1&return=//evil.example"):
        response = client.get(reverse("payments:detail", args=[payment.reference]) + query)
        assert response.status_code == 200  # a page, not a redirect anywhere
