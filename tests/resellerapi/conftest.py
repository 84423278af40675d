"""Fixtures for /api/v2: a funded customer with a key, a service on sale, and a `call` that posts a form."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from accounts.services import api_key_rotate, wallet_deposit
from tests.factories import ServiceFactory

API_PATH = "/api/v2"
LINK = "https://instagram.com/p/abc"


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    """Rate-limit counters live in the process-wide cache; user IDs repeat between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def service(db):
    """Followers at 2.00 per 1000, 10 to 10000, refill and cancel offered."""
    return ServiceFactory(provider_service__external_id="101", refill=True, cancel=True)


@pytest.fixture
def key(funded):
    return api_key_rotate(user=funded)


@pytest.fixture
def bob_key(bob):
    wallet_deposit(user=bob, amount=Decimal("10"))
    return api_key_rotate(user=bob)


@pytest.fixture
def call(client, key):
    """POST a form to /api/v2 with alice's key (unless given) and return the decoded JSON; always HTTP 200."""

    def post(action: str, **fields):
        fields.setdefault("key", key)
        response = client.post(API_PATH, {"action": action, **fields})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        return response.json()

    return post


def balance_of(user) -> Decimal:
    user.refresh_from_db(fields=["balance"])
    return user.balance
