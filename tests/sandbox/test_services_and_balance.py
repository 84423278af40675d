from decimal import Decimal

import pytest

from sandbox.models import SandboxService

pytestmark = pytest.mark.django_db

SEED_KEYS = {"service", "name", "type", "category", "rate", "min", "max", "refill", "cancel"}


def test_services_lists_every_active_service_in_the_seed_shape(call):
    services = call("services")
    assert len(services) == SandboxService.objects.count()
    for item in services:
        assert SEED_KEYS <= set(item)
        assert isinstance(item["service"], int)
        assert all(isinstance(item[k], str) for k in ("name", "type", "category", "rate", "min", "max"))
        assert isinstance(item["refill"], bool) and isinstance(item["cancel"], bool)


def test_services_shows_the_first_service_exactly(call):
    first = call("services")[0]
    assert {k: first[k] for k in SEED_KEYS} == {
        "service": 1,
        "name": "Instagram Followers [Real, 30 days refill]",
        "type": "Default",
        "category": "Instagram Followers",
        "rate": "0.90",
        "min": "50",
        "max": "10000",
        "refill": True,
        "cancel": True,
    }
    assert first["dripfeed"] is True


def test_rates_are_decimal_strings_never_floats(call):
    rates = {item["service"]: item["rate"] for item in call("services")}
    assert rates[16] == "0.01"
    assert rates[5] == "8"
    assert all(Decimal(rate) > 0 for rate in rates.values())


def test_inactive_services_are_not_listed(call):
    SandboxService.objects.filter(pk=2).update(active=False)
    assert 2 not in [item["service"] for item in call("services")]


def test_html_in_a_service_name_is_sent_verbatim(call):
    names = [item["name"] for item in call("services")]
    assert "Likes <script>alert(1)</script> [HQ]" in names


def test_balance_is_a_five_place_string_with_the_currency(call, account):
    account.balance = Decimal("100.84292")
    account.save()
    assert call("balance") == {"balance": "100.84292", "currency": "USD"}


def test_balance_shows_the_accounts_own_currency(client, catalog):
    from sandbox.services import create_account

    rupees = create_account(name="inr", balance="95200", currency="INR")
    answer = client.post("/sandbox/api/v2", {"key": rupees.api_key, "action": "balance"}).json()
    assert answer == {"balance": "95200.00000", "currency": "INR"}
