from decimal import Decimal
from unittest import mock

import pytest

from accounts.models import User
from accounts.services import wallet_deposit


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", "alice@example.com", "alice-pass-123")


@pytest.fixture
def bob(db):
    return User.objects.create_user("bob", "bob@example.com", "bob-pass-123")


@pytest.fixture
def carol(db):
    return User.objects.create_user("carol", "carol@example.com", "carol-pass-123", is_staff=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _poll_again_at_once(settings):
    """Tests run cycle after cycle with no time between; the gap between two polls of an order has its own."""
    settings.POLL_REPOLL_SECONDS = 0


@pytest.fixture
def funded(alice):
    """alice with 10.00 on her balance (a deposit in the ledger)."""
    wallet_deposit(user=alice, amount=Decimal("10"))
    alice.refresh_from_db()
    return alice


@pytest.fixture
def no_broker():
    """Tasks are not sent anywhere: tests drive order_send themselves and can assert on the dispatch."""
    with mock.patch("orders.tasks.send_order.apply_async") as apply_async:
        yield apply_async
