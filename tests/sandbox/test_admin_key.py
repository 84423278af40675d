"""The sandbox account's key is a provider key to the panel: the admin shows only its end."""

import pytest
from django.urls import reverse

from sandbox.models import SandboxAccount

pytestmark = pytest.mark.django_db


def test_the_admin_shows_the_end_of_a_sandbox_accounts_key_never_the_key(admin_client):
    account = SandboxAccount.objects.create(name="Reseller")
    html = admin_client.get(reverse("admin:sandbox_sandboxaccount_change", args=[account.pk])).content.decode()
    assert f"…{account.api_key[-4:]}" in html and account.api_key not in html
