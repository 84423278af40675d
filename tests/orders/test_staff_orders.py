"""The back office's orders: every order, and the decisions on the ones whose outcome is unknown."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from catalog.models import Provider
from orders.models import Order
from orders.services import order_place
from tests.pages import rendered

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(funded, service, no_broker):
    order = order_place(user=funded, service=service, fields={"link": "https://x.com/f", "quantity": "1000"})
    Order.objects.filter(pk=order.pk).update(state="failed", needs_attention=True, reason="read timeout")
    return order


def test_staff_see_every_customers_orders_and_customers_may_not(client, carol, bob, failed):
    client.force_login(bob)
    assert client.get(reverse("staff_orders:list")).status_code == 403
    client.logout()
    assert client.get(reverse("staff_orders:list")).status_code == 302
    client.force_login(carol)
    html = client.get(reverse("staff_orders:list")).content.decode()
    assert f"#{failed.pk}" in html and "alice" in html and "decide" in html


def test_staff_filter_the_orders_waiting_for_a_decision_and_search_by_username(client, carol, failed, funded,
                                                                             service):
    other = order_place(user=funded, service=service, fields={"link": "https://x.com/ok", "quantity": "100"})
    client.force_login(carol)
    html = client.get(reverse("staff_orders:list"), {"flagged": "1"}).content.decode()
    assert f'id="order-{failed.pk}"' in html and f'id="order-{other.pk}"' not in html
    html = client.get(reverse("staff_orders:list"), {"q": "ALICE"}).content.decode()
    assert f'id="order-{other.pk}"' in html


def test_the_staff_orders_list_takes_the_same_queries_for_few_or_many_orders(client, carol, funded, service,
                                                                             no_broker, django_assert_max_num_queries):
    for _ in range(30):
        order_place(user=funded, service=service, fields={"link": "https://x.com/m", "quantity": "10"})
    client.force_login(carol)
    # session, user, the staff member's permissions (their own and their groups'), the providers to filter
    # by, the count and the page
    with django_assert_max_num_queries(7):
        response = client.get(reverse("staff_orders:list"))
    rendered(response, "<h1>Orders</h1>")


def test_staff_resend_a_failed_order_which_goes_back_to_the_queue(client, carol, failed, no_broker,
                                                                  django_capture_on_commit_callbacks):
    client.force_login(carol)
    html = client.get(reverse("orders:detail", args=[failed.pk])).content.decode()
    assert "Resend to the provider" in html and "Cancel and refund" in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("staff_orders:resend", args=[failed.pk]))
    failed.refresh_from_db()
    assert (failed.state, failed.needs_attention) == ("queued", False)
    no_broker.assert_called_with("orders.send_order", args=(failed.pk,), retry=False)


def test_staff_cancel_and_refund_a_failed_order_once(client, carol, failed, funded):
    client.force_login(carol)
    client.post(reverse("staff_orders:cancel_refund", args=[failed.pk]))
    response = client.post(reverse("staff_orders:cancel_refund", args=[failed.pk]), follow=True)
    assert "Only an order whose outcome is unknown" in response.content.decode()
    failed.refresh_from_db()
    funded.refresh_from_db()
    assert (failed.state, failed.status, failed.refunded) == ("canceled", "Canceled", Decimal("2.00000"))
    assert funded.balance == Decimal("10.00000")
    assert LedgerEntry.objects.filter(kind="refund", order=failed).count() == 1


def test_a_placed_order_cannot_be_resent_or_refunded_by_staff(client, carol, failed):
    Order.objects.filter(pk=failed.pk).update(state="placed", external_id="E1")
    client.force_login(carol)
    client.post(reverse("staff_orders:resend", args=[failed.pk]))
    client.post(reverse("staff_orders:cancel_refund", args=[failed.pk]))
    failed.refresh_from_db()
    assert failed.state == "placed" and failed.refunded == 0


def test_staff_clear_the_flag_of_a_placed_order_they_checked(client, carol, failed):
    Order.objects.filter(pk=failed.pk).update(state="placed", external_id="E1", poll_errors=5)
    client.force_login(carol)
    client.post(reverse("staff_orders:clear_flag", args=[failed.pk]))
    failed.refresh_from_db()
    assert (failed.needs_attention, failed.poll_errors) == (False, 0)


def test_staff_see_when_a_placed_order_was_last_asked_about_and_its_errors_in_a_row(client, carol, funded, failed):
    asked = timezone.now().replace(microsecond=0)
    Order.objects.filter(pk=failed.pk).update(state="placed", external_id="E1", last_polled_at=asked, poll_errors=2)
    client.force_login(carol)
    html = client.get(reverse("orders:detail", args=[failed.pk])).content.decode()
    when = timezone.localtime(asked).strftime("%Y-%m-%d %H:%M:%S")
    assert f"{when} · the provider answered with an error 2 times in a row" in html
    client.force_login(funded)  # the customer sees neither
    html = client.get(reverse("orders:detail", args=[failed.pk])).content.decode()
    assert "Last asked" not in html and "in a row" not in html


def test_customers_cannot_take_staff_decisions(client, funded, failed):
    client.force_login(funded)
    assert client.post(reverse("staff_orders:cancel_refund", args=[failed.pk])).status_code == 403
    assert "Resend to the provider" not in client.get(reverse("orders:detail", args=[failed.pk])).content.decode()


# ---------------------------------------------------------------- is polling running?


def _dashboard(client, carol):
    client.force_login(carol)
    return re.sub(r"[ \n]+", " ", client.get(reverse("staff_catalog:dashboard")).content.decode())


def test_the_dashboard_says_when_orders_were_last_asked_about(client, carol, funded, service, no_broker):
    assert "No order is waiting on a provider." in _dashboard(client, carol)
    orders = [order_place(user=funded, service=service, fields={"link": "https://x.com/p", "quantity": "1000"})
              for _ in range(2)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        state="placed", last_polled_at=timezone.now() - timezone.timedelta(minutes=1, seconds=5))
    html = _dashboard(client, carol)
    assert "2 orders waiting on providers; last asked about 1\xa0minute ago." in html
    assert "No order has been asked about" not in html


def test_the_dashboard_warns_when_no_order_has_been_asked_about_for_long(client, carol, funded, service, no_broker,
                                                                          settings):
    settings.POLL_INTERVAL_SECONDS = 60  # too long: five intervals, and at least five minutes
    order = order_place(user=funded, service=service, fields={"link": "https://x.com/p", "quantity": "1000"})
    Order.objects.filter(pk=order.pk).update(state="placed")  # placed just now, not asked about yet
    html = _dashboard(client, carol)
    assert "none asked about yet" in html and "No order has been asked about" not in html
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=6))
    assert "No order has been asked about for 6\xa0minutes." in _dashboard(client, carol)
    Order.objects.filter(pk=order.pk).update(last_polled_at=timezone.now() - timezone.timedelta(minutes=4))
    assert "No order has been asked about" not in _dashboard(client, carol)
    Order.objects.filter(pk=order.pk).update(last_polled_at=timezone.now() - timezone.timedelta(minutes=20))
    assert "No order has been asked about for 20\xa0minutes." in _dashboard(client, carol)
    Provider.objects.filter(pk=order.provider_id).update(is_active=False)  # not polled on purpose
    html = _dashboard(client, carol)
    assert "No order has been asked about" not in html and "No order is waiting on a provider." in html
    Order.objects.filter(pk=order.pk).update(status="Completed")
    Provider.objects.filter(pk=order.provider_id).update(is_active=True)
    assert "No order is waiting on a provider." in _dashboard(client, carol)
