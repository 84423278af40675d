"""Reads of many IDs are a fixed number of queries: the key's lookup and one query for the items."""

import pytest
from django.utils import timezone

from accounts.models import User
from orders.models import Order, Refill
from tests.factories import ServiceFactory

from .test_actions import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _key_used_just_now(funded, key):
    """Counts of a key in steady use: its last use was stamped under a minute ago (the once-a-minute stamp's
    UPDATE is counted in tests/backoffice/test_customers.py)."""
    User.objects.filter(pk=funded.pk).update(api_last_used_at=timezone.now())


@pytest.fixture
def hundred_orders(funded, service):
    return [make_order(funded, service, status=Order.Status.COMPLETED) for _ in range(100)]


def test_status_of_100_orders_takes_two_queries_like_status_of_one(call, hundred_orders,
                                                                   django_assert_num_queries):
    with django_assert_num_queries(2):
        one = call("status", orders=str(hundred_orders[0].pk))
    with django_assert_num_queries(2):
        many = call("status", orders=",".join(str(o.pk) for o in hundred_orders))
    assert len(one) == 1 and len(many) == 100
    assert all(item["status"] == "Completed" for item in many.values())


def test_status_of_one_order_takes_two_queries(call, hundred_orders, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert call("status", order=hundred_orders[0].pk)["status"] == "Completed"


def test_refill_status_of_100_refills_takes_two_queries(call, hundred_orders, django_assert_num_queries):
    refills = [Refill.objects.create(order=order) for order in hundred_orders]
    with django_assert_num_queries(2):
        answer = call("refill_status", refills=",".join(str(r.pk) for r in refills))
    assert [item["status"] for item in answer] == ["Pending"] * 100


def test_services_takes_two_queries_however_many_are_on_sale(call, django_assert_num_queries):
    for _ in range(30):
        ServiceFactory()
    with django_assert_num_queries(2):
        assert len(call("services")) == 30


def test_balance_takes_one_query(call, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert call("balance")["balance"] == "10.00000"
