from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.services import wallet_deposit
from backoffice.roles import ADMIN, SUPPORT
from payments.models import Payment, PaymentMethod


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", "alice@example.com", "alice-pass-123")


@pytest.fixture
def bob(db):
    return User.objects.create_user("bob", "bob@example.com", "bob-pass-123")


@pytest.fixture
def carol(db):
    """Staff with the Admin role: every back-office page and action."""
    return _staff("carol", ADMIN)


@pytest.fixture
def dave(db):
    """Staff with the Support role: reads everything, acts on orders and tickets, no money, no settings."""
    return _staff("dave", SUPPORT)


def _staff(username: str, role: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", f"{username}-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_provider_call_timings_from_other_tests():
    """Timings are written in batches from a process-wide buffer: each test starts (and ends) with it empty."""
    from catalog import health

    health._pending.clear()
    yield
    health._pending.clear()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters (sign-up, password reset, the API) live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _retry_without_pausing(settings):
    """A failed provider call is tried again after a short pause; the tests need not wait it out."""
    settings.POLL_RETRY_SECONDS = 0


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
    with mock.patch("orders.services.celery_app.send_task") as send_task:
        yield send_task


@pytest.fixture
def make_method(db):
    """A payment method of the given gateway (enabled, no limits, no fee, no bonus unless given)."""

    def make(gateway: str = "sandbox", **fields) -> PaymentMethod:
        fields.setdefault("name", {"stripe": "Card", "cryptomus": "Crypto", "manual": "Bank transfer",
                                   "sandbox": "Test card"}.get(gateway, gateway))
        return PaymentMethod.objects.create(gateway=gateway, **fields)

    return make


@pytest.fixture
def make_payment(db):
    """A payment as payment_start leaves it at a hosted gateway: pending, with the gateway's ID and page."""

    def make(user, method, *, amount="10.00", fee="0", bonus="0", status=Payment.Status.PENDING,
             gateway_ref="ref-1", **fields) -> Payment:
        amount, fee = Decimal(amount), Decimal(fee)
        fields.setdefault("redirect_url", "https://gateway.example/pay/" + (gateway_ref or "x"))
        fields.setdefault("currency", "USD")
        return Payment.objects.create(user=user, method=method, gateway=method.gateway, amount=amount, fee=fee,
                                      total=amount + fee, bonus=Decimal(bonus), status=status,
                                      gateway_ref=gateway_ref, **fields)

    return make
