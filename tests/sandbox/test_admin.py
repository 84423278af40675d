import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

PAGES = ["sandboxaccount", "sandboxservice", "sandboxorder", "sandboxrefill", "sandboxfault"]


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "root-pass-123"))
    return client


@pytest.mark.parametrize("model", PAGES)
def test_staff_can_list_every_sandbox_table(admin_client, call, model):
    call("add", service=1, link="https://x.test/a", quantity=100)
    assert admin_client.get(reverse(f"admin:sandbox_{model}_changelist")).status_code == 200


def test_orders_cannot_be_added_or_edited_in_the_admin(admin_client, call):
    order = call("add", service=1, link="https://x.test/a", quantity=100)["order"]
    assert admin_client.get(reverse("admin:sandbox_sandboxorder_add")).status_code == 403
    page = admin_client.get(reverse("admin:sandbox_sandboxorder_change", args=[order]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


def test_the_service_with_html_in_its_name_is_escaped_in_the_admin(admin_client, catalog):
    page = admin_client.get(reverse("admin:sandbox_sandboxservice_changelist"))
    assert b"<script>alert(1)</script>" not in page.content
    assert b"&lt;script&gt;" in page.content
