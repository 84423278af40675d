"""Every staff action writes an audit row, in the action's own transaction; the trail cannot be changed."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.urls import reverse

from core.models import AuditEntry, StaffNotice
from core.services import audit
from payments.models import PaymentMethod
from tests.catalog.staff_fixtures import make_provider, make_service
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


def last_entry():
    return AuditEntry.objects.order_by("-id").first()


def test_cancel_and_refund_of_a_failed_order_is_audited_with_before_and_after(staff, carol, alice):
    order = OrderFactory(user=alice, state="failed", needs_attention=True)
    staff.post(reverse("staff_orders:cancel_refund", args=[order.pk]))
    entry = last_entry()
    assert (entry.actor, entry.action, entry.target_type, entry.target_id) == (carol, "order.cancel_refund", "order",
                                                                               str(order.pk))
    assert entry.before["state"] == "failed" and entry.after == {"state": "canceled", "status": "Canceled",
                                                                  "refunded": "2.00000"}


def test_a_refused_action_writes_no_audit_row(staff, alice):
    order = OrderFactory(user=alice, state="placed")
    staff.post(reverse("staff_orders:cancel_refund", args=[order.pk]))
    assert not AuditEntry.objects.exists()


def test_resend_and_clear_flag_are_audited(staff, alice, no_broker):
    failed = OrderFactory(user=alice, state="failed", needs_attention=True)
    flagged = OrderFactory(user=alice, state="placed", needs_attention=True)
    staff.post(reverse("staff_orders:resend", args=[failed.pk]))
    staff.post(reverse("staff_orders:clear_flag", args=[flagged.pk]))
    assert list(AuditEntry.objects.order_by("id").values_list("action", "target_id")) == [
        ("order.resend", str(failed.pk)), ("order.clear_flag", str(flagged.pk))]


def test_a_provider_change_is_audited_without_its_key(staff, carol):
    provider = make_provider()
    staff.post(reverse("staff_catalog:provider_edit", args=[provider.pk]), {
        "name": provider.name, "api_url": provider.api_url, "currency": provider.currency, "exchange_rate": "1",
        "markup_percent": "75", "is_active": "on", "http_method": "POST", "body_format": "form", "key_field": "key",
        "api_key": "brand-new-secret-key"})
    entry = last_entry()
    assert entry.action == "provider.update" and entry.after["markup_percent"] == "75"
    assert entry.after["api_key"] == "(changed)" and "brand-new-secret-key" not in str(entry.before) + str(entry.after)


def test_catalog_actions_are_audited(staff):
    provider = make_provider()
    service = make_service(provider)
    staff.post(reverse("staff_catalog:services_bulk"), {"action": "disable", "services": [service.pk]})
    staff.post(reverse("staff_catalog:category_rename", args=[service.category.pk]), {"name": "Renamed"})
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["service.bulk_disable", "category.rename"]
    assert last_entry().before == {"name": service.category.name} and last_entry().after == {"name": "Renamed"}


def test_payment_decisions_and_methods_are_audited(staff, alice, make_method, make_payment):
    bank = make_method("manual", instructions="IBAN")
    payment = make_payment(alice, bank, status="review", gateway_ref="", redirect_url="")
    staff.post(reverse("staff_payments:approve", args=[payment.pk]), {"amount": "", "note": "arrived"})
    assert (last_entry().action, last_entry().note, last_entry().after["credited"]) == (
        "payment.approve", "arrived", "10.00000")
    staff.post(reverse("staff_payments:method_edit", args=[bank.pk]), {
        "name": "Bank", "gateway": "manual", "enabled": "on", "min_amount": "5", "max_amount": "", "fee_percent": "0",
        "bonus_percent": "0", "bonus_from": "0", "instructions": "IBAN", "display_order": "0"})
    entry = last_entry()
    assert entry.action == "payment_method.update"
    assert entry.before == {"name": "Bank transfer", "min_amount": "0.00000"} and entry.after == {
        "name": "Bank", "min_amount": "5"}
    assert PaymentMethod.objects.get().name == "Bank"


def test_resolving_a_notice_is_audited(staff):
    notice = StaffNotice.objects.create(subject="Look")
    staff.post(reverse("staff_catalog:notice_resolve", args=[notice.pk]))
    staff.post(reverse("staff_catalog:notice_resolve", args=[notice.pk]))  # already resolved: nothing more
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["notice.resolve"]


@pytest.mark.django_db(transaction=True)
def test_audit_rows_cannot_be_changed_or_deleted_and_need_the_actions_transaction(carol):
    with pytest.raises(TransactionManagementError):
        audit(actor=carol, action="x.y", target=("thing", 1, "a thing"))
    with transaction.atomic():
        entry = audit(actor=carol, action="x.y", target=("thing", 1, "a thing"), after={"amount": Decimal("1.5")})
    entry.note = "changed"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    assert AuditEntry.objects.get().after == {"amount": "1.5"}


def test_the_audit_page_filters_by_who_what_and_which(staff, carol, dave, alice):
    with transaction.atomic():
        audit(actor=carol, action="order.resend", target=("order", 7, "Order #7"))
        audit(actor=dave, action="order.clear_flag", target=("order", 8, "Order #8"))
        audit(actor=carol, action="payment.approve", target=("payment", 7, "Payment #7"))

    def shown(**query):
        return [entry.action for entry in staff.get(reverse("backoffice:audit"), query).context["page"]]

    assert shown() == ["payment.approve", "order.clear_flag", "order.resend"]
    assert shown(actor="dave") == ["order.clear_flag"]
    assert shown(action="order.") == ["order.clear_flag", "order.resend"]
    assert shown(target_type="order", target_id="7") == ["order.resend"]
    assert "Enter a valid date" in staff.get(reverse("backoffice:audit"), {"date_from": "soon"}).content.decode()


def test_the_admin_cannot_change_or_delete_audit_rows(client, carol):
    carol.is_superuser = True
    carol.save()
    client.force_login(carol)
    with transaction.atomic():
        entry = audit(actor=carol, action="x.y", target=("thing", 1, "a thing"))
    assert client.get(reverse("admin:core_auditentry_change", args=[entry.pk])).status_code == 200  # a view
    assert client.post(reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
