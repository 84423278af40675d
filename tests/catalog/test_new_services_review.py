"""An operator may have a sync's new services wait, disabled, for staff to review them before they are sold."""

import pytest
from django.urls import reverse

from catalog.models import Service
from catalog.sync import sync_catalog
from core.models import AuditEntry, SiteSettings, StaffNotice
from tests.pages import rendered

from .conftest import upstream

pytestmark = pytest.mark.django_db


def test_by_default_new_services_go_on_sale_at_once(fake, provider):
    fake.items = [upstream(1)]
    sync_catalog(provider)
    assert Service.objects.get().enabled


def test_with_review_on_new_services_wait_and_staff_are_told(fake, provider, client, carol):
    SiteSettings.objects.create(pk=1, new_services_on_sale=False)
    fake.items = [upstream(1), upstream(2)]
    sync_catalog(provider)
    assert list(Service.objects.values_list("enabled", "disabled_reason")) == [(False, "new"), (False, "new")]
    assert StaffNotice.objects.filter(subject__contains="new services wait for review").exists()

    fake.items = [upstream(1), upstream(2), upstream(3, rate="2")]
    sync_catalog(provider)  # a later sync does not put them on sale behind staff's back
    assert not Service.objects.filter(enabled=True).exists()

    client.force_login(carol)
    waiting = client.get(reverse("staff_catalog:services"), {"enabled": "new"}).context
    ids = [service.pk for service in Service.objects.all()]
    assert {row.pk for row in waiting["page"]} == set(ids)
    client.post(reverse("staff_catalog:services_bulk"), {"action": "enable", "services": ids[:1]})
    assert Service.objects.get(pk=ids[0]).enabled and Service.objects.filter(enabled=False).count() == 2


def test_the_setting_is_changed_on_its_page_by_admins_only_and_audited(client, carol, dave):
    client.force_login(dave)
    assert client.post(reverse("backoffice:settings"), {}).status_code == 403
    client.force_login(carol)
    rendered(client.get(reverse("backoffice:settings")), "<h1>Settings</h1>")
    client.post(reverse("backoffice:settings"), {})  # the box left unticked
    assert SiteSettings.current().new_services_on_sale is False
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.before, entry.after) == ("settings.update", {"new_services_on_sale": True},
                                                          {"new_services_on_sale": False})
