from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Provider
from core.bulk import bulk_insert_rows, bulk_update_rows
from orders.models import OrderEvent
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


def test_bulk_update_rows_refuses_no_fields_and_expected_values_that_do_not_match_the_guards():
    provider = Provider.objects.create(name="P", api_url="https://p.example/api/v2", api_key="k", poll_failures=3)
    with pytest.raises(ValueError, match="at least one field"):
        bulk_update_rows([provider], [])
    provider.poll_failures, provider.expected = 0, (3,)  # one value for two guarded fields
    with pytest.raises(ValueError):
        bulk_update_rows([provider], ["poll_failures"], expect=["poll_failures", "is_active"])
    provider.expected = (4,)  # the row no longer holds what was read: left as it is
    assert bulk_update_rows([provider], ["poll_failures"], expect=["poll_failures"]) == set()
    provider.expected = (3,)
    assert bulk_update_rows([provider], ["poll_failures"], expect=["poll_failures"]) == {provider.pk}
    assert Provider.objects.get().poll_failures == 0


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


TRICKY_TEXTS = ['say "hi"', "back\\slash \\\" both", "a,b", "{braces}", "NULL", "", "ünï ✓ <b>", "line\nbreak", "'q'"]


def test_text_of_every_shape_goes_in_and_comes_back_exactly():
    order = OrderFactory()
    when = timezone.now()
    bulk_insert_rows(OrderEvent, ["order_id", "kind", "message", "staff_only", "created_at"],
                     [(order.pk, "note", text, i % 2 == 0, when) for i, text in enumerate(TRICKY_TEXTS)])
    events = list(OrderEvent.objects.filter(order=order).order_by("id"))
    assert [e.message for e in events] == TRICKY_TEXTS
    for event, text in zip(events, reversed(TRICKY_TEXTS), strict=True):
        event.message = text
    bulk_update_rows(events, ["message"])
    assert list(OrderEvent.objects.filter(order=order).order_by("id").values_list("message", flat=True)) == \
        list(reversed(TRICKY_TEXTS))


def test_pg_array_writes_literals_and_leaves_other_types_to_the_driver():
    from datetime import UTC, datetime

    from core.bulk import pg_array

    when = datetime(2026, 11, 27, 7, 30, 1, 5, tzinfo=UTC)
    assert pg_array([1, None, True, Decimal("0.10000"), 'a"b\\c', when]) == \
        '{1,NULL,t,0.10000,"a\\"b\\\\c","2026-11-27T07:30:01.000005+00:00"}'
    assert pg_array([]) == "{}"
    assert pg_array([1, {"a": 1}]) == [1, {"a": 1}]
