"""Fixtures for the sandbox provider's own tests: a seeded catalog, two sandbox accounts, a frozen clock."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sandbox.catalog import ensure_catalog
from sandbox.services import create_account

API_PATH = "/sandbox/api/v2"


@pytest.fixture
def catalog(db):
    ensure_catalog()


@pytest.fixture
def account(catalog):
    return create_account(name="alice-sandbox", balance="100")


@pytest.fixture
def other_account(catalog):
    return create_account(name="bob-sandbox", balance="100")


@pytest.fixture
def instant(settings):
    """Orders and refills are final as soon as they exist."""
    settings.SANDBOX_ORDER_SECONDS = 0


class Clock:
    """A hand-moved `timezone.now`, so time progression is tested without sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch, settings):
    settings.SANDBOX_ORDER_SECONDS = 100
    frozen = Clock(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def call(client, account):
    """POST a form to the sandbox API with `account`'s key and return the decoded JSON."""

    def post(action: str, **fields):
        fields.setdefault("key", account.api_key)
        response = client.post(API_PATH, {"action": action, **fields})
        assert response.status_code == 200
        return response.json()

    return post
