"""Up to poll_concurrency calls of a provider in flight at once; a flaky provider's failed calls tried again
within the cycle; a provider backed off only after failures in a row; nothing doubled or lost."""

import random
import threading
import time

import pytest
import requests
import responses

import smmapi
from accounts.models import LedgerEntry
from catalog import backoff
from catalog.models import Provider
from orders import polling
from orders.models import Order, OrderEvent, Refill
from orders.services import order_place, order_refill_request

from .fake_provider import FakeProvider, status

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeProvider(rsps)


@pytest.fixture
def many(funded, service, no_broker, settings):
    """Forty placed orders of 10 units (0.02 each) in batches of 5: eight batches."""
    settings.POLL_BATCH_SIZE = 5
    orders = []
    for _ in range(40):
        order = order_place(user=funded, service=service, fields={"link": "https://x.com/a", "quantity": "10"})
        Order.objects.filter(pk=order.pk).update(state="placed", external_id=f"E{order.pk}")
        orders.append(order)
    return orders


@pytest.mark.parametrize("concurrency", [1, 4])
def test_up_to_the_providers_concurrency_of_calls_are_in_flight_at_once(fake, many, concurrency, monkeypatch):
    Provider.objects.update(poll_concurrency=concurrency)
    for order in many:
        fake.statuses[f"E{order.pk}"] = status("Completed")
    in_flight = {"now": 0, "most": 0}
    lock = threading.Lock()
    statuses = smmapi.Client.statuses

    def timed_statuses(client, ids):
        with lock:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
        time.sleep(0.05)
        try:
            return statuses(client, ids)
        finally:
            with lock:
                in_flight["now"] -= 1

    monkeypatch.setattr(smmapi.Client, "statuses", timed_statuses)
    report = polling.run_cycle()
    assert in_flight["most"] == concurrency
    assert (report.calls, report.polled, report.changed) == (8, 40, 40)
    assert OrderEvent.objects.filter(kind="status").count() == 40


def test_the_retry_pauses_grow_with_each_attempt_and_are_jittered():
    pauses = []
    retry = backoff.Retry(retries=2, pause=0.25, sleep=pauses.append, jitter=lambda: 0.5)
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise smmapi.NotSent("connection refused")
        return "answered"

    assert retry(flaky, safe=backoff.safe_to_repeat_read) == "answered"
    assert pauses == [0.25, 0.5]  # 0.25 × attempt × (0.5 + 0.5)
    with pytest.raises(smmapi.NotSent):
        backoff.Retry(retries=2, pause=0, sleep=pauses.append)(lambda: (_ for _ in ()).throw(smmapi.NotSent("x")),
                                                                 safe=backoff.safe_to_repeat_read)


@pytest.mark.parametrize(("error", "read", "write"), [
    (smmapi.NotSent("refused"), True, True),
    (smmapi.Ambiguous("timed out after sending"), True, False),
    (smmapi.ProviderRefused("Too many requests"), True, True),
    (smmapi.ProviderRefused("Invalid API key"), False, False),
    (smmapi.ProviderRefused("Not enough funds on balance"), False, False),
])
def test_what_is_safe_to_try_again(error, read, write):
    assert (backoff.safe_to_repeat_read(error), backoff.safe_to_repeat_write(error)) == (read, write)


def test_with_thirty_percent_of_calls_failing_every_final_status_and_refill_gets_through_within_two_cycles(
        fake, many, funded, service, settings):
    """A provider failing three calls in ten at random (502 pages, truncated JSON, dropped connections,
    timeouts, "Too many requests"): each order's final status reaches the panel and a refill's request
    reaches the provider within two cycles, and no event or refund is doubled."""
    faults = [(502, "<html>Bad gateway</html>"), (200, '{"broken'), requests.ConnectionError("reset by peer"),
              requests.ReadTimeout("read timed out"), (200, '{"error": "Too many requests"}')]
    rng = random.Random(14)
    answer = fake._answer
    faulted = []

    def flaky(request):
        if rng.random() < 0.3:
            faulted.append(request)
            fault = rng.choice(faults)
            if isinstance(fault, Exception):
                raise fault
            return fault[0], {}, fault[1]
        return answer(request)

    fake._answer = flaky
    service.refill = True
    service.save()
    Order.objects.filter(pk=many[0].pk).update(status="Completed")  # delivered: may be refilled
    refill = order_refill_request(user=funded, order_id=many[0].pk)
    fake.refill_ids[f"E{many[0].pk}"] = 7001
    for n, order in enumerate(many[1:], start=1):
        fake.statuses[f"E{order.pk}"] = status("Canceled" if n % 4 == 0 else "Completed", remains="10")
    reports = []
    for _ in range(2):
        reports.append(polling.run_cycle())
        Order.objects.update(last_polled_at=None)
    assert len(faulted) >= 3 and sum(r.calls for r in reports) < len(fake.calls) + len(faulted)  # faults, retried
    assert not Order.objects.exclude(pk=many[0].pk).exclude(status__in=["Completed", "Canceled"]).exists()
    refill.refresh_from_db()
    assert (refill.status, refill.external_id) == (Refill.Status.PENDING, "7001")
    assert len(fake.calls_of("refill")) >= 1
    for order in many[1:]:
        assert OrderEvent.objects.filter(order=order, kind="status").count() == 1
    assert LedgerEntry.objects.filter(kind="refund").count() == 9  # the Canceled ones, once each
    Provider.objects.get().refresh_from_db()
    assert Provider.objects.get().poll_backoff_until is None  # no three failed calls in a row


def test_a_workers_batch_waits_for_one_of_the_providers_slots(fake, many, settings):
    provider = Provider.objects.get()
    Provider.objects.update(poll_concurrency=1)
    provider.refresh_from_db()
    with backoff.call_slot(provider) as had:
        assert had
        with backoff.call_slot(provider, wait=0.05) as second:
            assert not second  # the one slot is taken: after the wait, the caller goes on without one
    with backoff.call_slot(provider, wait=0) as again:
        assert again  # released


def test_a_worker_keeps_one_client_per_provider_until_its_settings_change(fake, many):
    provider = Provider.objects.get()
    first = backoff.client_for(provider)
    assert backoff.client_for(provider) is first
    provider.api_key = "a-new-key"
    second = backoff.client_for(provider)
    assert second is not first
    backoff.close_clients()
    assert backoff.client_for(provider) is not second
    backoff.close_clients()


def test_the_send_order_task_is_registered_under_the_name_the_services_send():
    from orders import tasks  # noqa: F401 - registers the tasks
    from orders.services import SEND_ORDER_TASK
    from panel.celery import app

    assert SEND_ORDER_TASK in app.tasks


def test_one_failure_costs_no_backoff_and_a_success_clears_the_count(fake, many, settings):
    provider = Provider.objects.get()
    backoff.provider_failed(provider, smmapi.NotSent("x"))
    backoff.provider_failed(provider, smmapi.NotSent("x"))
    assert (provider.poll_failures, provider.poll_backoff_until) == (2, None)
    backoff.provider_answered(provider)
    assert Provider.objects.filter(pk=provider.pk, poll_failures=0, poll_backoff_until=None).exists()
    for _ in range(3):
        backoff.provider_failed(provider, smmapi.NotSent("x"))
    assert provider.poll_backoff_until is not None
    first_delay = provider.poll_backoff_until
    backoff.provider_failed(provider, smmapi.NotSent("x"))
    assert provider.poll_backoff_until > first_delay  # doubling
