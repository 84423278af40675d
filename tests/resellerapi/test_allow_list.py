"""A key's allowed addresses: set on the API page, enforced by /api/v2 before anything is done."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from orders.models import Order

from .conftest import API_PATH, LINK, balance_of

pytestmark = pytest.mark.django_db

ALLOWED = "203.0.113.7"
ELSEWHERE = "198.51.100.9"


def networks_url():
    return reverse("resellerapi:networks")


def api(client, key, address, action="balance", **fields):
    response = client.post(API_PATH, {"key": key, "action": action, **fields}, REMOTE_ADDR=address)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def browsing(client, funded, key):
    client.force_login(funded)
    return client


def save(browsing, text):
    return browsing.post(networks_url(), {"networks": text})


def test_without_a_list_any_address_may_use_the_key(client, key):
    assert "balance" in api(client, key, ALLOWED) and "balance" in api(client, key, ELSEWHERE)


def test_with_a_list_only_its_addresses_and_networks_may_use_the_key(browsing, client, key, funded):
    response = save(browsing, f"{ALLOWED}\n192.0.2.0/24, 2001:db8::/48")
    assert response.status_code == 302 and response.url == reverse("resellerapi:page") + "#key"
    funded.refresh_from_db()
    assert funded.api_allowed_networks == [ALLOWED, "192.0.2.0/24", "2001:db8::/48"]
    for address in (ALLOWED, "192.0.2.200", "2001:db8:0:1::5", f"::ffff:{ALLOWED}"):
        assert "balance" in api(client, key, address), address
    for address in (ELSEWHERE, "192.0.3.1", "2001:db9::1"):
        assert api(client, key, address) == {"error": "This address may not use this API key"}, address


def test_a_refused_address_places_no_order_and_spends_nothing(browsing, client, key, funded, service):
    save(browsing, ALLOWED)
    answer = api(client, key, ELSEWHERE, "add", service=service.pk, link=LINK, quantity=1000)
    assert answer == {"error": "This address may not use this API key"}
    assert not Order.objects.exists() and balance_of(funded) == Decimal("10")


def test_a_wrong_key_is_still_an_invalid_key_from_anywhere(browsing, client, key):
    save(browsing, ALLOWED)
    assert api(client, "0" * 32, ELSEWHERE) == {"error": "Invalid API key"}


def test_refused_calls_do_not_use_up_the_customers_rate_limit(browsing, client, key, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    save(browsing, ALLOWED)
    for _ in range(5):
        api(client, key, ELSEWHERE)
    assert "balance" in api(client, key, ALLOWED)


def test_the_page_lists_the_addresses_used_lately_and_marks_the_refused_ones(browsing, client, key):
    save(browsing, ALLOWED)
    api(client, key, ALLOWED)
    api(client, key, ELSEWHERE)
    html = browsing.get(reverse("resellerapi:page")).content.decode()
    table = html[html.index('id="recent-addresses"'):]
    assert ALLOWED in table and ELSEWHERE in table and "refused" in table


def test_behind_the_operators_proxy_the_forwarded_address_is_the_one_checked(browsing, client, key, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    save(browsing, ALLOWED)
    forwarded = client.post(API_PATH, {"key": key, "action": "balance"}, REMOTE_ADDR="10.0.0.2",
                            HTTP_X_FORWARDED_FOR=ALLOWED)
    assert "balance" in forwarded.json()
    spoofed = client.post(API_PATH, {"key": key, "action": "balance"}, REMOTE_ADDR="10.0.0.2",
                          HTTP_X_FORWARDED_FOR=f"{ALLOWED}, {ELSEWHERE}")
    assert spoofed.json() == {"error": "This address may not use this API key"}


def test_emptying_the_list_lets_any_address_in_again(browsing, client, key, funded):
    save(browsing, ALLOWED)
    response = save(browsing, "")
    assert response.status_code == 302 and response.url == reverse("resellerapi:page") + "#key"
    assert "balance" in api(client, key, ELSEWHERE)
    funded.refresh_from_db()
    assert funded.api_allowed_networks == [] and funded.api_recent_addresses == {}


@pytest.mark.parametrize(("text", "message"), [
    ("not-an-address", "Not an IP address or network: not-an-address"),
    ("203.0.113.300", "Not an IP address or network"),
    ("10.0.0.0/33", "Not an IP address or network"),
    ("0.0.0.0/0", "would let every address use the key"),
    ("::/0", "would let every address use the key"),
    ("\n".join(f"203.0.113.{n}" for n in range(21)), "At most 20"),
    ("<script>alert(1)</script>", "Not an IP address or network: &lt;script&gt;"),
    ("1.2.3.4 " * 2000, "at most 4000 characters"),
])
def test_a_bad_list_is_refused_with_the_reason_and_the_old_list_kept(browsing, client, key, funded, text, message):
    save(browsing, ALLOWED)
    response = save(browsing, text)
    assert response.status_code == 400
    assert message in response.content.decode()
    funded.refresh_from_db()
    assert funded.api_allowed_networks == [ALLOWED]
    assert "balance" in api(client, key, ALLOWED)


def test_repeats_are_kept_once_and_networks_written_canonically(browsing, funded):
    save(browsing, f"{ALLOWED} {ALLOWED}/32 192.0.2.77/24 2001:DB8::1 ::ffff:198.51.100.0/120")
    funded.refresh_from_db()
    assert funded.api_allowed_networks == [ALLOWED, "192.0.2.0/24", "2001:db8::1", "198.51.100.0/24"]


def test_setting_the_list_needs_a_login_and_a_post(client, funded, key):
    response = client.post(networks_url(), {"networks": ALLOWED})
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(funded)
    assert client.get(networks_url()).status_code == 405
    assert User.objects.get(pk=funded.pk).api_allowed_networks == []


def test_one_customers_list_leaves_anothers_key_alone(browsing, client, key, bob_key):
    save(browsing, ALLOWED)
    assert "balance" in api(client, bob_key, ELSEWHERE)
