"""Keys: rotated on the API page, compared in constant time, never logged; a per-key rate limit per minute."""

import hmac
import logging
from unittest import mock

import pytest
from django.urls import reverse

from accounts.models import User, api_key_digest
from resellerapi import api

from .conftest import API_PATH, LINK

pytestmark = pytest.mark.django_db


def test_rotating_the_key_is_a_post_and_the_old_key_stops_working_at_once(client, call, funded, key):
    client.force_login(funded)
    assert client.get(reverse("resellerapi:key_new")).status_code == 405
    assert call("balance")["balance"] == "10.00000"
    response = client.post(reverse("resellerapi:key_new"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new_key = response.context["new_key"]
    assert len(new_key) == 32 and new_key != key
    assert f'<code id="api-key">{new_key}</code>' in response.content.decode()
    assert call("balance") == {"error": "Invalid API key"}
    assert call("balance", key=new_key)["balance"] == "10.00000"


def test_a_customer_without_a_key_gets_one_by_post(client, bob):
    client.force_login(bob)
    assert User.objects.get(pk=bob.pk).api_key_digest is None
    new_key = client.post(reverse("resellerapi:key_new")).context["new_key"]
    assert User.objects.get(pk=bob.pk).api_key_digest == api_key_digest(new_key)


def test_rotating_needs_a_login(client, funded, key):
    response = client.post(reverse("resellerapi:key_new"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert User.objects.get(pk=funded.pk).api_key_digest == api_key_digest(key)


def test_keys_are_compared_with_hmac_compare_digest(call, key):
    with mock.patch("resellerapi.selectors.hmac.compare_digest", wraps=hmac.compare_digest) as compare:
        assert "balance" in call("balance")
    compare.assert_called_once_with(api_key_digest(key), api_key_digest(key))


def test_a_key_that_the_database_matched_but_compare_digest_refuses_is_invalid(call, key):
    # A case-insensitive collation (MySQL) would match "ABC" to "abc": only the exact bytes get in.
    with mock.patch("resellerapi.selectors.hmac.compare_digest", return_value=False):
        assert call("balance") == {"error": "Invalid API key"}


def test_the_key_is_never_logged_whatever_happens(client, call, key, service, no_broker, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    call("add", service=service.pk, link=LINK, quantity=1000)
    call("add", service=service.pk, link="bad", quantity=1)
    call("status", orders="1,2,x")
    client.get(API_PATH, {"key": key, "action": "balance"})
    client.post(API_PATH, {"key": key, "action": "balance"}, content_type="application/json")
    client.generic("POST", API_PATH, b"{broken", content_type="application/json")

    def broken(user, fields):
        raise ValueError(f"key was {fields['key']}")

    monkeypatch.setitem(api.ACTIONS, "services", broken)
    assert call("services") == {"error": "Internal error, try again later"}
    assert "ValueError" in caplog.text  # the failure was logged ...
    assert key not in caplog.text  # ... and the key nowhere


def test_the_rate_limit_answers_too_many_requests_past_the_limit_in_a_minute(call, key, bob_key, settings,
                                                                           monkeypatch):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    monkeypatch.setattr(api.time, "time", lambda: 1_000_000 * 60 + 5)
    assert all("balance" in call("balance") for _ in range(3))
    assert call("balance") == {"error": "Too many requests"}
    assert call("services") == {"error": "Too many requests"}
    assert "balance" in call("balance", key=bob_key)  # bob's key has its own count
    monkeypatch.setattr(api.time, "time", lambda: 1_000_001 * 60 + 1)  # the next minute
    assert "balance" in call("balance")


def test_rotating_the_key_does_not_reset_the_count(client, call, funded, key, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    assert "balance" in call("balance")
    client.force_login(funded)
    new_key = client.post(reverse("resellerapi:key_new")).context["new_key"]
    assert call("balance", key=new_key) == {"error": "Too many requests"}


def test_a_limit_of_0_turns_the_rate_limit_off(call, key, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 0
    assert all("balance" in call("balance") for _ in range(5))


def test_requests_with_a_wrong_key_count_against_no_one(call, key, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    for _ in range(5):
        call("balance", key="wrong")
    assert "balance" in call("balance")


def test_with_the_rate_limits_cache_down_calls_go_through_and_staff_are_warned(call, key, monkeypatch, caplog):
    """Redis down (the cache and the limit's counts): the limit cannot count, and refusing every reseller's
    orders for it would be worse than not counting for a while."""

    class Down:
        def add(self, *args, **kwargs):
            raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

        incr = set = add

    monkeypatch.setattr(api, "cache", Down())
    assert "balance" in call("balance")
    assert "rate limit's cache is unavailable" in caplog.text
