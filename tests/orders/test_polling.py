from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from django.core.management import call_command
from django.db.models import F

from accounts.models import LedgerEntry
from catalog.models import Provider
from core.models import StaffNotice
from orders import polling
from orders.models import Order, OrderEvent, Refill
from orders.polling import cycle as cycle_module
from orders.polling import statuses
from orders.services import OrderRefused, order_cancel_request, order_place, order_refill_request

from .fake_provider import FakeProvider, status

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeProvider(rsps)


@pytest.fixture
def placed(funded, service, no_broker):
    """Make placed orders of `quantity` (charge 2.00 per 1000) with external IDs "E<pk>"."""

    def make(quantity="1000", **fields):
        order = order_place(user=funded, service=service,
                            fields={"link": "https://x.com/a", "quantity": quantity, **fields})
        Order.objects.filter(pk=order.pk).update(state="placed", external_id=f"E{order.pk}")
        order.refresh_from_db()
        return order

    return make


def cycle():
    return polling.run_cycle()


def test_a_status_change_is_stored_with_start_count_remains_cost_and_an_event(fake, placed):
    order = placed()
    fake.statuses[order.external_id] = status("In progress", remains="400", start_count="3572", charge="0.27819")
    report = cycle()
    order.refresh_from_db()
    assert (order.status, order.start_count, order.remains, order.cost) == (
        "In progress", 3572, 400, Decimal("0.27819"))
    assert order.last_polled_at is not None and report.changed == 1
    assert OrderEvent.objects.filter(order=order, kind="status", message="Pending → In progress.").exists()


def test_an_unchanged_status_writes_no_event(fake, placed):
    order = placed()
    fake.statuses[order.external_id] = status("Pending", remains="1000")
    cycle()
    cycle()
    assert not OrderEvent.objects.filter(order=order, kind="status").exists()


def test_canceled_refunds_the_whole_charge_once(fake, placed, funded):
    order = placed()
    fake.statuses[order.external_id] = status("Cancelled", remains="1000")  # a real provider's spelling
    cycle()
    cycle()
    order.refresh_from_db()
    funded.refresh_from_db()
    assert (order.status, order.refunded) == ("Canceled", Decimal("2.00000"))
    assert funded.balance == Decimal("10.00000")
    assert LedgerEntry.objects.filter(kind="refund", order=order).count() == 1
    call_command("check_ledger")


def test_partial_refunds_the_undelivered_share(fake, placed, funded):
    order = placed(quantity="1000")
    fake.statuses[order.external_id] = status("Partial", remains="157")
    cycle()
    order.refresh_from_db()
    assert order.refunded == Decimal("0.31400")  # 2.00 × 157 / 1000
    assert LedgerEntry.objects.get(kind="refund").amount == Decimal("0.31400")
    call_command("check_ledger")


def test_partial_of_a_drip_feed_order_measures_remains_against_quantity_times_runs(fake, placed, service):
    service.dripfeed = True
    service.save()
    order = placed(quantity="100", runs="5", interval="10")  # 500 units, charge 1.00
    fake.statuses[order.external_id] = status("Partial", remains="250")
    cycle()
    order.refresh_from_db()
    assert (order.units, order.charge, order.refunded) == (500, Decimal("1.00000"), Decimal("0.50000"))


def test_partial_without_remains_is_left_to_staff_without_refund(fake, placed):
    order = placed()
    fake.statuses[order.external_id] = status("Partial", remains="Unknown")
    cycle()
    order.refresh_from_db()
    assert order.status == "Partial" and order.refunded == 0 and order.needs_attention


def test_a_per_item_error_touches_only_its_order_and_repeats_flag_it_for_staff(fake, placed, settings):
    settings.POLL_ERROR_LIMIT = 3
    good, bad = placed(), placed()
    fake.statuses[good.external_id] = status("Completed")
    cycle()
    assert Order.objects.get(pk=good.pk).status == "Completed"
    bad.refresh_from_db()
    assert (bad.status, bad.poll_errors, bad.needs_attention) == ("Pending", 1, False)
    cycle()
    cycle()
    bad.refresh_from_db()
    assert bad.needs_attention and StaffNotice.objects.filter(subject__contains=f"Order #{bad.pk}").exists()


@pytest.mark.parametrize(("fault", "tries"), [((500, "<html>oops</html>"), 3), ((200, "{broken"), 3),
                                              ((200, '{"error": "Too many requests"}'), 3),
                                              ((200, '{"error": "Invalid API key"}'), 1)])
def test_a_failed_call_is_tried_again_then_touches_no_order_and_counts_against_the_provider(fake, placed, fault,
                                                                                            tries):
    order = placed()
    fake.fault = fault
    report = cycle()
    # Tried twice more after a failure it is safe to repeat (a read); a real refusal is not tried again.
    assert (report.failed_calls, len(fake.calls_of("status"))) == (1, tries)
    order.refresh_from_db()
    assert (order.status, order.last_polled_at, order.poll_errors) == ("Pending", None, 0)
    order.provider.refresh_from_db()
    assert (order.provider.poll_failures, order.provider.poll_backoff_until) == (1, None)  # one is not enough
    assert order.provider.last_error


def test_a_call_that_fails_then_succeeds_within_its_retries_counts_as_an_answer(fake, placed):
    order = placed()
    fake.statuses[order.external_id] = status("Completed")
    fake.fail_next = 2  # the first two attempts answer a 502 page
    report = cycle()
    assert (report.failed_calls, report.changed, len(fake.calls_of("status"))) == (0, 1, 3)
    assert Order.objects.get(pk=order.pk).status == "Completed"


def test_the_provider_is_backed_off_after_three_failed_calls_in_a_row_and_its_first_success_ends_it(fake, placed,
                                                                                                  settings):
    order = placed()
    fake.fault = (502, "<html>Bad gateway</html>")
    for failures in (1, 2):
        cycle()
        order.provider.refresh_from_db()
        assert (order.provider.poll_failures, order.provider.poll_backoff_until) == (failures, None)
        Order.objects.filter(pk=order.pk).update(last_polled_at=None)
    cycle()
    order.provider.refresh_from_db()
    assert order.provider.poll_failures == 3 and order.provider.poll_backoff_until is not None
    fake.fault = None
    fake.statuses[order.external_id] = status("Completed")
    calls_before = len(fake.calls)
    cycle()
    assert len(fake.calls) == calls_before  # backed off: not asked again yet
    Provider.objects.filter(pk=order.provider_id).update(poll_backoff_until=F("poll_backoff_until") - timedelta(hours=2))
    cycle()
    order.provider.refresh_from_db()
    assert (order.provider.poll_failures, order.provider.poll_backoff_until) == (0, None)
    assert Order.objects.get(pk=order.pk).status == "Completed"


def test_a_provider_backed_off_mid_cycle_is_sent_no_further_batch(fake, placed, settings):
    settings.POLL_BATCH_SIZE = 2
    settings.POLL_FAILURES_BEFORE_BACKOFF = 1
    Provider.objects.update(poll_concurrency=1)
    orders = [placed(quantity="10") for _ in range(7)]
    fake.fault = (502, "<html>Bad gateway</html>")
    report = cycle()
    # The first batch's call fails (three tries) and backs the provider off: of the four batches, only those
    # already claimed ahead of the pool (AHEAD × its one slot) may have gone out, never the rest.
    assert 1 <= report.failed_calls <= cycle_module.AHEAD and len(fake.calls_of("status")) == 3 * report.failed_calls
    assert [(o.status, o.last_polled_at) for o in Order.objects.filter(pk__in=[o.pk for o in orders])] \
        == [("Pending", None)] * 7


def test_a_batch_task_for_a_backed_off_provider_makes_no_call(fake, placed):
    from datetime import timedelta

    from django.utils import timezone

    from catalog.models import Provider
    order = placed()
    Provider.objects.filter(pk=order.provider_id).update(poll_backoff_until=timezone.now() + timedelta(minutes=5))
    report = polling.poll_order_batch(order.provider_id, [order.pk])
    assert report.calls == 0 and fake.calls == []
    assert Order.objects.get(pk=order.pk).poll_token == ""


def test_batches_hold_at_most_100_ids_and_least_recently_polled_go_first(fake, placed, settings):
    settings.POLL_MAX_ORDERS_PER_CYCLE = 150
    orders = [placed(quantity="10") for _ in range(160)]
    report = cycle()
    sizes = [len(c["orders"].split(",")) for c in fake.calls_of("status")]
    assert sizes == [100, 50] and report.polled == 150
    never_polled = [o.pk for o in orders if not Order.objects.get(pk=o.pk).last_polled_at]
    assert len(never_polled) == 10
    fake.calls.clear()
    cycle()
    first_batch = fake.calls_of("status")[0]["orders"].split(",")
    assert {f"E{pk}" for pk in never_polled} <= set(first_batch)


def test_final_orders_are_no_longer_polled(fake, placed):
    order = placed()
    fake.statuses[order.external_id] = status("Completed")
    cycle()
    fake.calls.clear()
    cycle()
    assert fake.calls_of("status") == []


def test_an_order_another_poller_just_asked_about_is_not_asked_again_until_the_gap_passes(fake, placed, settings):
    settings.POLL_REPOLL_SECONDS = 30
    order = placed()
    fake.statuses[order.external_id] = status("Canceled", remains="1000")
    assert statuses.claim_batch([order.pk]) is not None  # another poller's claim
    report = polling.poll_order_batch(order.provider_id, [order.pk])
    assert report.calls == 0 and Order.objects.get(pk=order.pk).status == "Pending"
    assert polling.plan_order_batches(order.provider) == []
    Order.objects.filter(pk=order.pk).update(last_polled_at=F("last_polled_at") - timedelta(seconds=31))
    report = polling.poll_order_batch(order.provider_id, [order.pk])
    assert report.calls == 1 and Order.objects.get(pk=order.pk).status == "Canceled"


def test_an_order_changed_between_the_claim_and_the_answer_is_left_for_the_next_cycle(fake, placed, carol,
                                                                                       monkeypatch):
    from orders.staff import order_clear_flag
    order = placed()
    Order.objects.filter(pk=order.pk).update(needs_attention=True)
    fake.statuses[order.external_id] = status("Completed")
    claim = statuses.claim_batch

    def claim_then_staff_clears_the_flag(order_ids):
        claimed = claim(order_ids)
        order_clear_flag(order_id=order.pk, staff=carol)
        return claimed

    monkeypatch.setattr(statuses, "claim_batch", claim_then_staff_clears_the_flag)
    report = polling.poll_order_batch(order.provider_id, [order.pk])
    order.refresh_from_db()
    # Written as read at the claim, the answer would have put the flag back: nothing of it is written.
    assert (report.calls, report.changed, order.status, order.needs_attention) == (1, 0, "Pending", False)
    assert not order.events.filter(kind="status").exists()
    monkeypatch.undo()
    cycle()
    order.refresh_from_db()
    assert (order.status, order.needs_attention) == ("Completed", False)
    assert order.events.filter(kind="status").count() == 1


def test_cancel_of_a_queued_order_is_immediate_with_a_full_refund(funded, service, no_broker):
    order = order_place(user=funded, service=service, fields={"link": "https://x.com/a", "quantity": "1000"})
    message = order_cancel_request(user=funded, order_id=order.pk)
    order.refresh_from_db()
    funded.refresh_from_db()
    assert "canceled" in message and (order.state, order.status, order.refunded) == (
        "canceled", "Canceled", Decimal("2.00000"))
    assert funded.balance == Decimal("10.00000")
    from orders.services import order_send
    assert order_send(order.pk) is None  # a worker can no longer claim it


def test_cancel_of_a_placed_order_goes_upstream_batched_and_the_refund_comes_through_polling(fake, placed, service):
    service.cancel = True
    service.save()
    accepted, refused = placed(), placed()
    for order in (accepted, refused):
        order_cancel_request(user=order.user, order_id=order.pk)
    fake.cancels[accepted.external_id] = 1
    fake.statuses[accepted.external_id] = status("Pending", remains="1000")
    fake.statuses[refused.external_id] = status("Pending", remains="1000")
    cycle()
    assert len(fake.calls_of("cancel")) == 1
    accepted.refresh_from_db()
    refused.refresh_from_db()
    assert (accepted.cancel_state, refused.cancel_state) == ("accepted", "refused")
    assert refused.cancel_error == "Incorrect order ID"
    fake.statuses[accepted.external_id] = status("Canceled", remains="1000")
    cycle()
    accepted.refresh_from_db()
    assert accepted.status == "Canceled" and accepted.refunded == accepted.charge


def test_cancel_is_refused_where_the_service_does_not_offer_it_or_the_order_is_final(placed, service, bob):
    order = placed()
    with pytest.raises(OrderRefused, match="does not offer cancels"):
        order_cancel_request(user=order.user, order_id=order.pk)
    with pytest.raises(OrderRefused, match="No such order"):
        order_cancel_request(user=bob, order_id=order.pk)


def test_refill_goes_upstream_batched_and_its_status_is_polled(fake, placed, service):
    service.refill = True
    service.save()
    ok, refused = placed(), placed()
    fake.statuses[ok.external_id] = status("Completed")
    fake.statuses[refused.external_id] = status("Completed")
    cycle()
    order_refill_request(user=ok.user, order_id=ok.pk)
    order_refill_request(user=refused.user, order_id=refused.pk)
    fake.refill_ids[ok.external_id] = 77
    cycle()
    assert len(fake.calls_of("refill")) == 1
    ok_refill, refused_refill = Refill.objects.get(order=ok), Refill.objects.get(order=refused)
    assert (ok_refill.status, ok_refill.external_id) == ("Pending", "77")
    assert (refused_refill.status, refused_refill.error) == ("Rejected", "Incorrect order ID")
    fake.refill_statuses["77"] = "Completed"
    cycle()
    assert Refill.objects.get(order=ok).status == "Completed"
    assert fake.calls_of("refill_status")[-1]["refills"] == "77"


@pytest.fixture
def completed_with_refill(fake, placed, service):
    """A completed order of a refill service, with a refill queued."""
    service.refill = True
    service.save()
    order = placed()
    fake.statuses[order.external_id] = status("Completed")
    cycle()
    order_refill_request(user=order.user, order_id=order.pk)
    return order


def _next_cycle_after_backoff(order):
    Provider.objects.filter(pk=order.provider_id).update(poll_backoff_until=None)
    return cycle()


def test_a_refill_request_left_unanswered_then_refused_as_already_requested_goes_before_staff(
        fake, placed, completed_with_refill):
    order = completed_with_refill
    other = placed()  # a second refill in the same call
    Order.objects.filter(pk=other.pk).update(status="Completed", remains=0)
    order_refill_request(user=other.user, order_id=other.pk)
    fake.fault = (502, "<html>Bad gateway</html>")  # the provider may have taken the requests
    report = cycle()
    assert report.failed_calls == 1
    refill = Refill.objects.get(order=order)
    assert (refill.status, refill.answer_lost_at is not None) == ("Queued", True)

    fake.fault = None
    fake.refill_ids[order.external_id] = fake.refill_ids[other.external_id] = {"error": "Refill already requested"}
    _next_cycle_after_backoff(order)
    refill.refresh_from_db()
    order.refresh_from_db()
    assert (refill.status, refill.error) == ("Rejected", "Refill already requested")
    assert order.needs_attention is True
    staff_line = OrderEvent.objects.get(order=order, kind="refill", staff_only=True).message
    assert "went unanswered" in staff_line and "may be refilling already" in staff_line
    assert Order.objects.get(pk=other.pk).needs_attention is True
    notice = StaffNotice.objects.get()  # one for the call, not one per refill
    assert notice.subject == f"Refills may be running at the provider for 2 order(s): #{order.pk}, #{other.pk}"
    assert len(fake.calls_of("refill")) == 2 and fake.calls_of("refill")[-1]["orders"].count(",") == 1


def test_a_refill_refused_after_a_call_the_provider_refused_as_a_whole_is_simply_rejected(
        fake, completed_with_refill):
    order = completed_with_refill
    fake.fault = (200, '{"error": "Too many requests"}')  # refused as a whole: nothing was taken
    cycle()
    assert Refill.objects.get(order=order).answer_lost_at is None
    fake.fault = None
    fake.refill_ids[order.external_id] = {"error": "Refill is disabled for this order"}
    _next_cycle_after_backoff(order)
    refill = Refill.objects.get(order=order)
    order.refresh_from_db()
    assert (refill.status, refill.error, order.needs_attention) == ("Rejected", "Refill is disabled for this order",
                                                                    False)
    assert not OrderEvent.objects.filter(order=order, staff_only=True).exists()


def test_a_refill_taken_on_the_second_request_after_a_lost_answer_is_tracked_as_usual(fake, completed_with_refill):
    order = completed_with_refill
    fake.fault = (504, "<html>Gateway timeout</html>")
    cycle()
    fake.fault = None
    fake.refill_ids[order.external_id] = 91
    _next_cycle_after_backoff(order)
    refill = Refill.objects.get(order=order)
    order.refresh_from_db()
    assert (refill.status, refill.external_id, order.needs_attention) == ("Pending", "91", False)


def test_refill_is_refused_when_not_eligible_or_already_open(fake, placed, service):
    order = placed()
    with pytest.raises(OrderRefused, match="does not offer refills"):
        order_refill_request(user=order.user, order_id=order.pk)
    service.refill = True
    service.save()
    with pytest.raises(OrderRefused, match="completed or partial"):
        order_refill_request(user=order.user, order_id=order.pk)
    fake.statuses[order.external_id] = status("Completed")
    cycle()
    order_refill_request(user=order.user, order_id=order.pk)
    with pytest.raises(OrderRefused, match="already open"):
        order_refill_request(user=order.user, order_id=order.pk)


def test_poll_orders_prints_what_it_did(fake, placed, capsys):
    order = placed()
    fake.statuses[order.external_id] = status("Completed")
    call_command("poll_orders")
    out = capsys.readouterr().out
    assert "1 orders polled" in out and "1 changed" in out


def test_a_claim_refuses_conditions_through_a_join(placed):
    """PostgreSQL would not re-check a joined condition against a row another claimer just took."""
    from orders import claims
    from orders.models import Refill
    order = placed()
    with pytest.raises(ValueError, match="claimed table"):
        claims.claim(Refill.objects.filter(order__provider_id=order.provider_id), seconds=60)


def test_poll_orders_says_when_orders_were_asked_about_too_recently_to_ask_again(fake, placed, settings, capsys):
    settings.POLL_REPOLL_SECONDS = 30
    order = placed()
    fake.statuses[order.external_id] = status("In progress", remains="500")
    call_command("poll_orders")
    call_command("poll_orders")
    out = capsys.readouterr().out.splitlines()
    assert "1 orders polled" in out[0] and "0 orders polled" in out[-2]
    assert out[-1] == ("1 active orders have been asked about in the last 30 s (by this cycle or another); "
                       "each is asked again once that much time has passed.")
