"""The admin covers every model as the fallback; what would bypass the ledger is read only, and what it may
change is audited."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from accounts.models import LedgerEntry
from accounts.services import wallet_deposit
from core.models import AuditEntry
from tests.catalog.staff_fixtures import make_provider
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

READ_ONLY = ["accounts.ledgerentry", "orders.order", "orders.refill", "orders.orderevent", "payments.payment",
             "payments.gatewayevent", "core.auditentry", "catalog.syncrun", "catalog.providerservice"]


@pytest.fixture
def superuser(client, carol):
    carol.is_superuser = True
    carol.save()
    client.force_login(carol)
    return client


def test_every_model_of_the_panel_is_in_the_admin():
    missing = [model._meta.label for model in apps.get_models()
               if model._meta.app_label in {"accounts", "catalog", "orders", "payments", "panel", "sandbox"}
               and model._meta.managed and model not in admin.site._registry]
    assert missing == []


def test_every_changelist_renders(superuser, alice):
    wallet_deposit(user=alice, amount=Decimal("1"))
    OrderFactory(user=alice)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert superuser.get(url).status_code == 200, url


@pytest.mark.parametrize("label", READ_ONLY)
def test_money_orders_and_trails_are_read_only_in_the_admin(superuser, label):
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(None)
    assert not model_admin.has_change_permission(None) and not model_admin.has_delete_permission(None)


def test_a_customers_balance_cannot_be_changed_in_the_admin(superuser, alice):
    wallet_deposit(user=alice, amount=Decimal("5"))
    html = superuser.get(reverse("admin:accounts_user_change", args=[alice.pk])).content.decode()
    assert 'name="balance"' not in html and "5.00000" in html
    assert LedgerEntry.objects.count() == 1


def test_a_change_in_the_admin_is_audited_without_the_key(superuser, carol):
    provider = make_provider()
    response = superuser.post(reverse("admin:catalog_provider_change", args=[provider.pk]), {
        "name": "Renamed", "api_url": provider.api_url, "api_key": "new-secret-in-admin", "currency": "USD",
        "exchange_rate": "1", "markup_percent": "50", "is_active": "on", "http_method": "POST",
        "body_format": "form", "key_field": "key"})
    assert response.status_code == 302 and response.url == reverse("admin:catalog_provider_changelist")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.after["name"]) == (carol, "admin.provider.change", "Renamed")
    assert entry.after["api_key"] == "(hidden)" and "new-secret-in-admin" not in str(entry.after)
