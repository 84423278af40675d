from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import responses
from django.core.management import call_command
from django.utils import timezone

from accounts.models import LedgerEntry
from core.models import StaffNotice
from orders.models import Order
from orders.services import OrderRefused, order_place, order_send, orders_park_stuck
from tests.factories import FAKE_PROVIDER_URL

pytestmark = pytest.mark.django_db

LINK = "https://instagram.com/alice"


def place(user, service, **fields):
    return order_place(user=user, service=service, fields={"link": LINK, "quantity": "1000", **fields})


def test_an_order_is_created_queued_and_charged_in_one_go(funded, service, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(funded, service)
    funded.refresh_from_db()
    assert (order.state, order.status, order.charge, order.units) == ("queued", "Pending", Decimal("2.00000"), 1000)
    assert funded.balance == Decimal("8.00000")
    charge = LedgerEntry.objects.get(kind="charge")
    assert (charge.order, charge.amount, charge.balance_after) == (order, Decimal("-2.00000"), Decimal("8.00000"))
    no_broker.assert_called_once_with("orders.send_order", args=(order.pk,), retry=False)


def test_with_the_broker_down_the_order_is_still_taken_and_left_for_the_sweep(funded, service, no_broker,
                                                                             django_capture_on_commit_callbacks):
    no_broker.side_effect = ConnectionRefusedError("broker down")
    with django_capture_on_commit_callbacks(execute=True):
        order = place(funded, service)
    assert Order.objects.get(pk=order.pk).state == "queued"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "Quantity less than minimal 10"),
        ({"quantity": "-5"}, "quantity", "Quantity less than minimal 10"),
        ({"quantity": "10001"}, "quantity", "Quantity more than maximal 10000"),
        ({"quantity": "ten"}, "quantity", "must be a whole number"),
        ({"quantity": "1e3"}, "quantity", "must be a whole number"),
        ({"quantity": ""}, "quantity", "Enter the quantity"),
        ({"link": "   "}, "link", "Enter the link"),
        ({"link": "https://x.com/" + "a" * 2000}, "link", "longer than 2000"),
        ({"link": "not a link"}, "link", "Enter a full link"),
        ({"link": "javascript:alert(1)"}, "link", "Enter a full link"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_charged(funded, service, no_broker, fields, field,
                                                                        message):
    with pytest.raises(OrderRefused) as refused:
        place(funded, service, **fields)
    assert refused.value.field == field and message in refused.value.message
    funded.refresh_from_db()
    assert funded.balance == Decimal("10") and Order.objects.count() == 0
    assert LedgerEntry.objects.filter(kind="charge").count() == 0


def test_a_disabled_service_cannot_be_ordered(funded, service, no_broker):
    service.enabled = False
    service.save()
    with pytest.raises(OrderRefused, match="on sale"):
        place(funded, service)
    assert Order.objects.count() == 0


def test_an_order_above_the_balance_is_refused_and_nothing_is_written(funded, service, no_broker):
    with pytest.raises(OrderRefused, match="Not enough funds"):
        place(funded, service, quantity="6000")  # 12.00 > 10.00
    funded.refresh_from_db()
    assert funded.balance == Decimal("10") and Order.objects.count() == 0


def test_links_are_trimmed(funded, service, no_broker):
    order = place(funded, service, link=f"  {LINK}\n")
    assert order.link == LINK


def _queued(funded, service, **fields):
    return place(funded, service, **fields)


def test_a_placed_order_keeps_the_providers_order_id_as_text(funded, service, no_broker, provider_answers):
    order = _queued(funded, service)
    http = provider_answers('{"order": "VEGA123ABC"}')
    assert order_send(order.pk) == "placed"
    order.refresh_from_db()
    assert (order.state, order.external_id, order.status) == ("placed", "VEGA123ABC", "Pending")
    sent = http.calls[0].request.body
    assert "action=add" in sent and "service=101" in sent and "quantity=1000" in sent
    assert order.events.filter(kind="placed").exists()


def test_an_order_is_sent_at_most_once_even_if_two_workers_get_its_message(funded, service, no_broker,
                                                                          provider_answers):
    order = _queued(funded, service)
    http = provider_answers('{"order": 5}')
    assert order_send(order.pk) == "placed"
    assert order_send(order.pk) is None
    assert len(http.calls) == 1


def test_a_refusal_about_the_order_cancels_it_with_a_full_refund_and_the_reason(funded, service, no_broker,
                                                                               provider_answers):
    order = _queued(funded, service)
    provider_answers('{"error": "Incorrect link"}')
    assert order_send(order.pk) == "rejected"
    order.refresh_from_db()
    funded.refresh_from_db()
    assert (order.state, order.status, order.reason, order.refunded) == (
        "rejected", "Canceled", "Incorrect link", Decimal("2.00000"))
    assert funded.balance == Decimal("10.00000")
    refund = LedgerEntry.objects.get(kind="refund")
    assert (refund.order, refund.amount) == (order, Decimal("2.00000"))


@pytest.mark.parametrize("message", ["Not enough funds on balance", "Too many requests",
                                     "Spam protection, wait 7 seconds"])
def test_a_provider_side_refusal_keeps_the_order_queued_with_a_backoff_and_tells_staff(
        funded, service, no_broker, provider_answers, message):
    order = _queued(funded, service)
    provider_answers(f'{{"error": "{message}"}}')
    assert order_send(order.pk) == "queued"
    order.refresh_from_db()
    assert order.state == "queued" and order.next_attempt_at > timezone.now()
    assert order.refunded == 0 and StaffNotice.objects.filter(subject__contains=message).exists()
    assert order_send(order.pk) is None  # not due yet


def test_an_unreachable_provider_requeues_the_order_and_backs_off_more_each_time(funded, service, no_broker,
                                                                                provider_answers):
    order = _queued(funded, service)
    provider_answers(exc=requests.exceptions.ConnectTimeout("connect timed out"))
    assert order_send(order.pk) == "queued"
    first = Order.objects.get(pk=order.pk).next_attempt_at
    Order.objects.filter(pk=order.pk).update(next_attempt_at=timezone.now())
    assert order_send(order.pk) == "queued"
    second = Order.objects.get(pk=order.pk).next_attempt_at
    assert second - timezone.now() > first - timezone.now() + timedelta(seconds=20)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "body": "<html><h1>Internal Server Error</h1></html>"},
        {"status": 502, "body": "Bad gateway"},
        {"status": 200, "body": '{"order": 12'},
        {"status": 200, "body": '{"status": "ok"}'},
        {"exc": requests.exceptions.ReadTimeout("read timed out")},
        {"exc": requests.exceptions.ChunkedEncodingError("connection dropped")},
    ],
    ids=["html-500", "502", "broken-json", "no-order-id", "read-timeout", "dropped"],
)
def test_an_ambiguous_answer_parks_the_order_for_staff_without_resending_or_refunding(
        funded, service, no_broker, provider_answers, fault):
    order = _queued(funded, service)
    http = provider_answers(fault.get("body"), status=fault.get("status", 200), exc=fault.get("exc"))
    assert order_send(order.pk) == "failed"
    order.refresh_from_db()
    funded.refresh_from_db()
    assert (order.state, order.needs_attention, order.refunded) == ("failed", True, Decimal("0"))
    assert funded.balance == Decimal("8.00000")
    assert StaffNotice.objects.filter(subject__contains=f"Order #{order.pk}").exists()
    call_command("place_orders")
    assert len(http.calls) == 1  # never re-sent on its own


def test_the_sweep_parks_an_order_stuck_in_sending(funded, service, no_broker):
    order = _queued(funded, service)
    Order.objects.filter(pk=order.pk).update(state="sending", sending_since=timezone.now() - timedelta(minutes=10))
    fresh = _queued(funded, service)
    Order.objects.filter(pk=fresh.pk).update(state="sending", sending_since=timezone.now())
    assert orders_park_stuck() == 1
    assert Order.objects.get(pk=order.pk).state == "failed"
    assert Order.objects.get(pk=fresh.pk).state == "sending"


def test_place_orders_sends_every_due_queued_order_now(funded, service, no_broker, provider_answers, capsys):
    first, second = _queued(funded, service), _queued(funded, service)
    later = _queued(funded, service)
    Order.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    provider_answers('{"order": 77}')
    call_command("place_orders")
    states = dict(Order.objects.values_list("pk", "state"))
    assert states == {first.pk: "placed", second.pk: "placed", later.pk: "queued"}
    assert "2 placed" in capsys.readouterr().out


def test_a_retried_request_id_returns_the_first_order_and_charges_once(funded, service, no_broker):
    first = order_place(
        user=funded, service=service, fields={"link": LINK, "quantity": "1000"}, request_id="req-1")
    again = order_place(user=funded, service=service, fields={"link": LINK, "quantity": "1000"}, request_id="req-1")
    other = order_place(user=funded, service=service, fields={"link": LINK, "quantity": "1000"}, request_id="req-2")
    assert again.pk == first.pk and other.pk != first.pk
    funded.refresh_from_db()
    assert funded.balance == Decimal("6.00000") and LedgerEntry.objects.filter(kind="charge").count() == 2


def test_a_placed_answer_arriving_after_staff_decided_is_put_in_front_of_staff(funded, service, no_broker,
                                                                              provider_http):
    order = _queued(funded, service)

    def staff_refund_meanwhile(request):  # the sweep parked it and staff refunded it while `add` was in flight
        Order.objects.filter(pk=order.pk).update(state="canceled", status="Canceled")
        return 200, {}, '{"order": "LATE1"}'

    provider_http.add_callback(responses.POST, FAKE_PROVIDER_URL, callback=staff_refund_meanwhile)
    assert order_send(order.pk) == "failed"
    order.refresh_from_db()
    assert (order.state, order.external_id) == ("canceled", "")
    assert StaffNotice.objects.filter(subject__contains="placed it late as LATE1").exists()
