"""The dashboard's figures against a known data set, in a fixed number of queries; beat and the worker's
heartbeats; the providers' low-balance warning."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from backoffice import dashboard
from core.models import Heartbeat
from core.services import heartbeat
from core.tasks import worker_heartbeat
from orders.models import Order
from tests.factories import OrderFactory, ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


def placed(user, days_ago=0, **fields):
    order = OrderFactory(user=user, **fields)
    if days_ago:
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return order


@pytest.fixture
def business(alice, bob):
    """Today: 2.00 + 3.00 charged, 1.00 refunded, costs 0.50 and unknown. 10 days ago: 4.00, cost 1.00.
    40 days ago: 100.00 (outside every period)."""
    placed(alice, charge=Decimal("2"), cost=Decimal("0.5"), status="Completed")
    placed(bob, charge=Decimal("3"), refunded=Decimal("1"), cost=None, status="Partial")
    placed(alice, days_ago=10, charge=Decimal("4"), cost=Decimal("1"), status="Completed")
    placed(alice, days_ago=40, charge=Decimal("100"), cost=Decimal("90"), status="Completed")


def test_the_money_figures_add_up_per_period(business):
    figures = dashboard.business(dashboard.Periods.now())
    today, last_30 = figures["today"], figures["last_30"]
    assert (today.revenue, today.cost, today.profit, today.orders, today.unknown_cost) == (
        Decimal("4"), Decimal("0.5"), Decimal("3.5"), 2, 1)
    assert (last_30.revenue, last_30.cost, last_30.profit, last_30.orders) == (
        Decimal("8"), Decimal("1.5"), Decimal("6.5"), 3)
    month = figures["month"]  # this month's start may be before or after ten days ago
    assert month.orders in (2, 3) and month.revenue in (Decimal("4"), Decimal("8"))


def test_orders_by_status_count_today_and_this_month(business):
    rows = {row["status"]: (row["today"], row["month"]) for row in dashboard.orders_by_status(dashboard.Periods.now())}
    assert rows["Completed"][0] == 1 and rows["Partial"] == (1, 1) and rows["Canceled"] == (0, 0)


def test_the_orders_that_need_a_person_are_counted(alice):
    placed(alice, state="failed", needs_attention=True)
    placed(alice, state="placed", needs_attention=True)
    placed(alice, state="rejected", status="Canceled")
    stuck = placed(alice, state="sending")
    Order.objects.filter(pk=stuck.pk).update(sending_since=timezone.now() - timedelta(hours=1))
    late = placed(alice, state="queued")
    Order.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    placed(alice, state="queued")
    attention = dashboard.attention(dashboard.Periods.now())
    assert (attention.failed, attention.poll_errors, attention.rejected_today, attention.stuck_sending) == (1, 1, 1, 1)
    assert (attention.queued, attention.backlog) == (2, 1) and attention.total == 5


def test_deposits_are_what_payments_put_on_balances(alice, make_method, make_payment):
    method = make_method("sandbox")
    make_payment(alice, method, amount="25.00", status="paid", credited=Decimal("25"), paid_at=timezone.now(),
                 gateway_ref="a")
    make_payment(alice, method, amount="99.00", status="pending", gateway_ref="b")
    assert dashboard.deposits(dashboard.Periods.now())["today"] == (1, Decimal("25"))


def test_the_page_shows_the_figures_and_takes_the_same_queries_for_few_or_many(staff, alice, business,
                                                                              django_assert_max_num_queries):
    ProviderFactory(name="Second")
    with django_assert_max_num_queries(14) as few:
        html = staff.get(reverse("staff_catalog:dashboard")).content.decode()
    assert "3.50000" in html and "6.50000" in html  # today's and the last 30 days' profit
    for n in range(20):
        placed(alice, charge=Decimal("1"), status="Pending")
        ProviderFactory(name=f"Provider {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff.get(reverse("staff_catalog:dashboard"))


def test_the_page_refreshes_its_live_part(staff):
    page = staff.get(reverse("staff_catalog:dashboard")).content.decode()
    assert 'hx-get="/staff/?live=1"' in page and 'hx-trigger="every 30.0s"' in page
    live = staff.get(reverse("staff_catalog:dashboard"), {"live": "1"}).content.decode()
    assert live.startswith('<div id="dashboard-live"') and "<html" not in live


def test_beat_and_the_worker_are_alive_while_their_heartbeats_are_fresh(staff):
    html = staff.get(reverse("staff_catalog:dashboard")).content.decode()
    assert "beat silent" in html and "worker silent" in html and "never seen" in html
    heartbeat("beat")
    worker_heartbeat()
    html = staff.get(reverse("staff_catalog:dashboard")).content.decode()
    assert "beat alive" in html and "worker alive" in html
    Heartbeat.objects.filter(name="worker").update(at=timezone.now() - timedelta(minutes=3))
    html = staff.get(reverse("staff_catalog:dashboard")).content.decode()
    assert "beat alive" in html and "worker silent" in html


def test_a_provider_below_its_warning_level_is_marked(staff):
    ProviderFactory(name="Low", balance=Decimal("4.5"), balance_currency="USD", low_balance_warning=Decimal("10"))
    ProviderFactory(name="Fine", balance=Decimal("50"), balance_currency="USD", low_balance_warning=Decimal("10"))
    html = re.sub(r"\s+", " ", staff.get(reverse("staff_catalog:dashboard")).content.decode())
    assert html.count("low: below 10.00000") == 1
