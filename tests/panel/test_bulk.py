from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Provider
from orders.models import OrderEvent
from panel.bulk import bulk_insert_rows, bulk_update_rows
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_bulk_update_rows_writes_each_rows_own_values_of_every_type():
    providers = [Provider.objects.create(name=f"P{i}", api_url="https://p.example/api/v2", api_key="k")
                 for i in range(3)]
    when = timezone.now() - timedelta(days=1)
    for i, provider in enumerate(providers):
        provider.balance = Decimal(f"{i}.12345")
        provider.last_error = f"error {i}" if i else ""
        provider.last_success_at = when + timedelta(hours=i) if i != 1 else None
        provider.is_active = i != 2
        provider.poll_failures = i * 7
    assert bulk_update_rows(providers, ["balance", "last_error", "last_success_at", "is_active", "poll_failures"]) == 3
    for i, provider in enumerate(Provider.objects.order_by("name")):
        assert provider.balance == Decimal(f"{i}.12345")
        assert provider.last_error == (f"error {i}" if i else "")
        assert provider.last_success_at == (when + timedelta(hours=i) if i != 1 else None)
        assert provider.is_active is (i != 2) and provider.poll_failures == i * 7
    assert Provider.objects.get(name="P0").api_key == "k"  # other fields untouched


def test_bulk_update_rows_of_nothing_is_a_no_op():
    assert bulk_update_rows([], ["balance"]) == 0


def test_bulk_insert_rows_writes_plain_tuples_with_every_type_prepared():
    order = OrderFactory()
    when = timezone.now() - timedelta(hours=3)
    bulk_insert_rows(OrderEvent, ["order_id", "kind", "message", "staff_only", "created_at"],
                     [(order.pk, "status", "Pending → In progress.", False, when),
                      (order.pk, "refund", "<b>not markup</b>", True, when + timedelta(minutes=1))])
    events = list(OrderEvent.objects.filter(order=order).order_by("id").values_list(
        "kind", "message", "staff_only", "created_at"))
    assert events == [("status", "Pending → In progress.", False, when),
                      ("refund", "<b>not markup</b>", True, when + timedelta(minutes=1))]


def test_bulk_insert_rows_refuses_a_row_of_the_wrong_length_and_an_unknown_column():
    with pytest.raises(ValueError):
        bulk_insert_rows(OrderEvent, ["order_id", "kind"], [(1,)])
    with pytest.raises(ValueError, match="no column"):
        bulk_insert_rows(OrderEvent, ["order", "kind"], [(1, "status")])
    assert not OrderEvent.objects.exists()
