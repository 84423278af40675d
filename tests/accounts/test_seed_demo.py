from decimal import Decimal

import pytest
from django.contrib.auth import authenticate as authenticate_with
from django.core.management import call_command
from django.test import RequestFactory

from accounts.models import User
from catalog.models import Provider, Service
from payments.models import PaymentMethod


def authenticate(**credentials):
    # Logins go through django-axes, which needs the request they come with.
    return authenticate_with(RequestFactory().post("/login/"), **credentials)


pytestmark = pytest.mark.django_db(transaction=True)  # seed_demo serves the sandbox over HTTP to itself


def test_seed_demo_makes_users_a_funded_customer_and_a_synced_sandbox_provider(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "admin / admin-demo" in out and "demo / demo-demo" in out and "support / support-demo" in out
    assert authenticate(username="admin", password="admin-demo").is_superuser
    support = authenticate(username="support", password="support-demo")
    assert support.is_staff and not support.is_superuser
    assert support.has_perm("backoffice.act_on_orders") and not support.has_perm("backoffice.manage_money")
    customer = authenticate(username="demo", password="demo-demo")
    assert not customer.is_staff and customer.balance == Decimal("100")
    provider = Provider.objects.get(name="Sandbox")
    assert provider.api_url == "http://127.0.0.1:8000/sandbox/api/v2"
    assert Service.objects.filter(enabled=True, provider_service__provider=provider).count() >= 30
    assert sorted(PaymentMethod.objects.values_list("gateway", flat=True)) == ["manual", "sandbox"]  # no Stripe key


def test_seed_demo_run_twice_keeps_one_of_each_restores_passwords_and_funds_once():
    call_command("seed_demo")
    demo = User.objects.get(username="demo")
    demo.set_password("changed")
    demo.save()
    services_before = Service.objects.count()
    call_command("seed_demo")
    assert User.objects.filter(username__in=["admin", "support", "demo"]).count() == 3
    assert authenticate(username="demo", password="demo-demo").balance == Decimal("100")
    assert Service.objects.count() == services_before and Provider.objects.count() == 1
    assert PaymentMethod.objects.count() == 2
