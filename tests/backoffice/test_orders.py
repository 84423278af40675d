"""The back office's orders: every customer's, filtered and searched; decisions on one order or many, each
one transaction with its ledger rows and audit row."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.services import wallet_charge_order, wallet_deposit
from core.models import AuditEntry
from orders.models import Order
from tests.factories import OrderFactory, ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


def charged(user, **fields):
    """An order as the panel takes it: its charge in the ledger (so check_ledger can add it up)."""
    from django.db import transaction

    order = OrderFactory(user=user, **fields)
    wallet_deposit(user=user, amount=order.charge)
    with transaction.atomic():
        wallet_charge_order(order=order)
    return order


def listed(staff, **query):
    return [order.pk for order in staff.get(reverse("staff_orders:list"), query).context["page"]]


def test_the_list_filters_by_state_status_provider_service_customer_and_date(staff, alice, bob):
    other = ProviderFactory(name="Other")
    a = OrderFactory(user=alice, state="failed", status="Pending")
    b = OrderFactory(user=bob, status="Completed", external_id="P-77",
                     service=ServiceFactory(provider_service__provider=other))
    c = OrderFactory(user=bob, link="https://tiktok.com/@bob")
    Order.objects.filter(pk=c.pk).update(created_at=timezone.now() - timedelta(days=5))

    assert listed(staff) == [c.pk, b.pk, a.pk]  # newest first
    assert listed(staff, state="failed") == [a.pk]
    assert listed(staff, status="Completed") == [b.pk]
    assert listed(staff, provider=other.pk) == [b.pk]
    assert listed(staff, service=b.service_id) == [b.pk]
    assert set(listed(staff, customer="BOB")) == {b.pk, c.pk}
    assert listed(staff, date_to=(timezone.localdate() - timedelta(days=2)).isoformat()) == [c.pk]
    assert listed(staff, q="P-77") == [b.pk] and listed(staff, q="tiktok") == [c.pk] and listed(staff, q=f"#{a.pk}") == [a.pk]
    response = staff.get(reverse("staff_orders:list"), {"date_from": "monday", "provider": "999"})
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()


def test_attaching_the_providers_order_id_places_a_failed_order_for_polling(staff, carol, alice):
    order = OrderFactory(user=alice, state="failed", external_id="", needs_attention=True)
    response = staff.post(reverse("staff_orders:attach", args=[order.pk]), {"external_id": " 98765 "})
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    order.refresh_from_db()
    assert (order.state, order.external_id, order.needs_attention) == ("placed", "98765", False)
    assert AuditEntry.objects.get().action == "order.attach"
    assert order.events.filter(staff_only=False, message="Placed with the provider as order 98765.").exists()


def test_an_id_another_order_holds_or_an_empty_one_is_refused(staff, alice):
    OrderFactory(user=alice, external_id="111")
    order = OrderFactory(user=alice, state="failed", external_id="")
    for value, message in (("111", "already has the provider's order ID 111"), ("", "Give the provider's order ID")):
        html = staff.post(reverse("staff_orders:attach", args=[order.pk]), {"external_id": value},
                          follow=True).content.decode()
        assert message in html.replace("&#x27;", "'")
    order.refresh_from_db()
    assert order.state == "failed" and not AuditEntry.objects.exists()


def test_setting_partial_refunds_the_undelivered_share_once(staff, alice):
    order = charged(alice, status="In progress", charge=Decimal("2.00000"), units=1000, quantity=1000)
    staff.post(reverse("staff_orders:partial", args=[order.pk]), {"remains": "250"})
    order.refresh_from_db()
    alice.refresh_from_db()
    assert (order.status, order.remains, order.refunded) == ("Partial", 250, Decimal("0.50000"))
    assert alice.balance == Decimal("0.50000")
    assert LedgerEntry.objects.filter(order=order, kind="refund").count() == 1
    again = staff.post(reverse("staff_orders:partial", args=[order.pk]), {"remains": "500"}, follow=True)
    assert "not finished can be set Partial" in again.content.decode()
    call_command("check_ledger")


@pytest.mark.parametrize(("remains", "message"), [("0", "from 1 to 999"), ("1000", "from 1 to 999"),
                                                  ("x", "whole number"), ("", "how many were not delivered")])
def test_bad_remains_are_refused_and_nothing_is_refunded(staff, alice, remains, message):
    order = charged(alice, status="In progress")
    html = staff.post(reverse("staff_orders:partial", args=[order.pk]), {"remains": remains}, follow=True)
    assert message in html.content.decode()
    order.refresh_from_db()
    assert order.status == "In progress" and not LedgerEntry.objects.filter(kind="refund").exists()


def test_bulk_completes_the_open_orders_and_says_which_it_could_not(staff, alice):
    open_orders = [OrderFactory(user=alice, status="In progress") for _ in range(3)]
    done = OrderFactory(user=alice, status="Completed")
    response = staff.post(reverse("staff_orders:bulk"), {
        "action": "complete", "orders": [o.pk for o in open_orders] + [done.pk, 999999], "next": "?status=Pending"},
        follow=True)
    assert response.redirect_chain[0][0] == reverse("staff_orders:list") + "?status=Pending"
    html = response.content.decode()
    assert "done for 3 order(s)" in html and "not done for 2" in html and "#999999: no such order" in html
    assert Order.objects.filter(status="Completed").count() == 4
    assert AuditEntry.objects.filter(action="order.set_completed").count() == 3


def test_bulk_cancel_and_refund_refunds_each_failed_order_once(staff, alice):
    failed = [charged(alice, state="failed", needs_attention=True) for _ in range(2)]
    placed = charged(alice, status="In progress")
    staff.post(reverse("staff_orders:bulk"), {"action": "cancel_refund", "orders": [o.pk for o in [*failed, placed]]})
    staff.post(reverse("staff_orders:bulk"), {"action": "cancel_refund", "orders": [o.pk for o in failed]})
    assert LedgerEntry.objects.filter(kind="refund").count() == 2
    assert Order.objects.get(pk=placed.pk).status == "In progress"
    call_command("check_ledger")


def test_a_bulk_request_without_orders_or_action_is_refused_with_a_message(staff):
    html = staff.post(reverse("staff_orders:bulk"), {"action": "complete"}, follow=True).content.decode()
    assert "Select at least one order." in html
    html = staff.post(reverse("staff_orders:bulk"), {"action": "delete", "orders": ["1"]}, follow=True).content.decode()
    assert "Select a valid choice" in html


def test_bulk_goes_back_only_to_the_orders_list(staff, alice):
    order = OrderFactory(user=alice, status="In progress")
    response = staff.post(reverse("staff_orders:bulk"), {"action": "complete", "orders": [order.pk],
                                                          "next": "https://evil.example/"})
    assert response["Location"] == reverse("staff_orders:list")


def test_support_acts_on_orders_but_sees_no_action_without_the_right(client, dave, alice):
    order = OrderFactory(user=alice, status="In progress")
    client.force_login(dave)
    assert 'id="bulk-apply"' in client.get(reverse("staff_orders:list")).content.decode()
    client.post(reverse("staff_orders:complete", args=[order.pk]))
    assert Order.objects.get(pk=order.pk).status == "Completed"
