"""The operator commands for providers, and the catalog synced from the sandbox over real HTTP."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Provider, Service, SyncRun
from sandbox import faults
from sandbox.catalog import ensure_catalog
from sandbox.services import create_account

API_PATH = "/sandbox/api/v2"


@pytest.fixture
def sandbox_provider(live_server):
    ensure_catalog()
    account = create_account(name="panel", balance="250")
    call_command("provider", "add", "--name", "Sandbox", "--url", live_server.url + API_PATH,
                 "--key", account.api_key, "--markup", "20")
    return Provider.objects.get(name="Sandbox")


@pytest.mark.django_db(transaction=True)
def test_provider_add_then_check_then_list_against_the_sandbox(sandbox_provider, capsys):
    assert sandbox_provider.markup_percent == Decimal("20")
    call_command("provider", "check", "Sandbox")
    assert "Sandbox: balance 250.00000 USD" in capsys.readouterr().out
    call_command("provider", "list")
    out = capsys.readouterr().out
    assert "Sandbox" in out and "250.00000 USD" in out and "ok since" in out
    assert sandbox_provider.api_key not in out


@pytest.mark.django_db(transaction=True)
def test_sync_catalog_mirrors_the_sandbox_over_http_and_a_second_sync_changes_nothing(sandbox_provider, capsys):
    call_command("sync_catalog", "--provider", "Sandbox")
    assert "36 new" in capsys.readouterr().out
    assert Service.objects.filter(enabled=True).count() == 36
    escaped = Service.objects.get(name__contains="<script>")  # stored as sent, escaped when shown
    assert escaped.rate == (escaped.provider_service.rate * Decimal("1.2")).quantize(Decimal("0.00001"))
    call_command("sync_catalog")
    run = SyncRun.objects.first()
    assert run.ok and (run.new, run.changed, run.gone) == (0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_sync_failing_mid_way_leaves_the_catalog_as_it_was(sandbox_provider):
    call_command("sync_catalog")
    before = sorted(Service.objects.values_list("id", "rate", "enabled"))
    faults.inject("html_500", action="services")
    with pytest.raises(CommandError):
        call_command("sync_catalog", "--provider", "Sandbox")
    assert sorted(Service.objects.values_list("id", "rate", "enabled")) == before
    assert "HTTP 500" in SyncRun.objects.first().error


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "--name", "X", "--url", "not a url", "--key", "k"], "api_url"),
        (["add", "--name", "X", "--url", "https://x.example/api/v2", "--key", "k", "--markup", "lots"], "not a number"),
        (["check", "Nobody"], "No provider named"),
    ],
)
def test_provider_commands_refuse_bad_input_clearly(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("provider", *args)
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_provider_add_refuses_a_duplicate_name_and_sync_an_unknown_provider():
    call_command("provider", "add", "--name", "X", "--url", "https://x.example/api/v2", "--key", "k")
    with pytest.raises(CommandError, match="already exists"):
        call_command("provider", "add", "--name", "X", "--url", "https://y.example/api/v2", "--key", "k")
    with pytest.raises(CommandError, match="No provider named"):
        call_command("sync_catalog", "--provider", "Nope")


@pytest.mark.django_db
def test_provider_check_of_an_unreachable_provider_fails_and_records_health():
    call_command("provider", "add", "--name", "Dead", "--url", "http://127.0.0.1:9/api/v2", "--key", "secret-k")
    with pytest.raises(CommandError) as failed:
        call_command("provider", "check", "Dead")
    assert "secret-k" not in str(failed.value)
    assert Provider.objects.get(name="Dead").last_error_at is not None
