from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.models import LedgerEntry, User, api_key_digest
from accounts.services import wallet_deposit

pytestmark = pytest.mark.django_db


def test_create_customer_then_add_funds_then_api_key(capsys):
    call_command("create_customer", "dave", email="dave@example.com", password="a-long-pass-phrase")
    call_command("add_funds", "dave", "12.5", note="wire")
    dave = User.objects.get(username="dave")
    assert not dave.is_staff and dave.balance == Decimal("12.5")
    assert LedgerEntry.objects.get(user=dave).note == "wire"
    call_command("api_key", "dave")
    assert "dave has no API key" in capsys.readouterr().out
    call_command("api_key", "dave", "--rotate")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    dave.refresh_from_db()
    assert len(key) == 32 and dave.api_key_digest == api_key_digest(key)
    call_command("api_key", "dave")
    out = capsys.readouterr().out
    assert f"ending in …{key[-4:]}" in out and key not in out  # only a digest is kept: never shown again
    call_command("api_key", "dave", "--rotate")
    assert capsys.readouterr().out.strip().splitlines()[-1] != key


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (["create_customer", "alice"], {"email": "a@example.com", "password": "a-long-pass-phrase"}, "taken"),
        (["create_customer", "erin"], {"email": "e@example.com", "password": "123"}, "password refused"),
        (["add_funds", "nobody", "5"], {}, "No user"),
        (["add_funds", "alice", "abc"], {}, "positive number"),
        (["add_funds", "alice", "-5"], {}, "positive number"),
        (["api_key", "nobody"], {}, "No user"),
    ],
)
def test_operator_commands_refuse_bad_input_clearly(alice, args, kwargs, message):
    with pytest.raises(CommandError, match=message):
        call_command(*args, **kwargs)
    assert LedgerEntry.objects.count() == 0


def test_check_ledger_passes_when_balances_match(alice, capsys):
    wallet_deposit(user=alice, amount=Decimal("5"))
    call_command("check_ledger")
    assert "Ledger OK" in capsys.readouterr().out


def test_check_ledger_names_the_account_whose_balance_drifted(alice, bob, capsys):
    wallet_deposit(user=alice, amount=Decimal("5"))
    User.objects.filter(pk=bob.pk).update(balance=Decimal("3"))
    with pytest.raises(CommandError):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert "account bob" in err and "alice" not in err
