"""What each event of the other apps (core.events) writes in the notification outbox: who, which kind, key
and link; once per event; not by email for a kind the customer switched off; nothing before the commit and
nothing at all after a rollback; polling's hundred orders in a fixed number of queries; polling stopped sent
at once from beat's own process."""

import json
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
import responses
from django.core import mail
from django.db import transaction
from django.utils import timezone

from catalog import backoff, health
from catalog.models import Provider
from core import events
from orders import polling
from orders.models import Order, Refill
from orders.services import order_place
from orders.staff import order_set_completed
from panel.beat import watch_polling
from payments import services as payment_services
from payments.gateways.base import Notice, Outcome
from support.models import Notification, NotificationPreference
from tests.factories import OrderFactory, ServiceFactory
from tests.orders.fake_provider import FakeProvider, status

from .conftest import TELEGRAM, TOKEN, dispatched

pytestmark = pytest.mark.django_db



INAPP, EMAIL, TG = Notification.Channel.INAPP, Notification.Channel.EMAIL, Notification.Channel.TELEGRAM


@pytest.fixture(autouse=True)
def _mail_and_no_telegram(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TELEGRAM_BOT_TOKEN = ""
    settings.TELEGRAM_CHAT_ID = ""
    settings.TELEGRAM_API_BASE = TELEGRAM


@pytest.fixture
def telegram(settings):
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_CHAT_ID = "-1001"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, f"{TELEGRAM}/bot{TOKEN}/sendMessage", json={"ok": True, "result": {}})
        yield rsps


def rows(**filters):
    return sorted(Notification.objects.filter(**filters).values_list("channel", "recipient_key", "kind", "key"))


def finish(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.orders_finished.send(sender=Order, order_ids=[order.pk])


# --- Customers: orders -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "subject"), [
    ({"status": "Completed", "remains": 0}, "Order #{pk} completed"),
    ({"status": "Partial", "remains": 400, "refunded": Decimal("0.8")},
     "Order #{pk} partial: 400 of 1000 not delivered, 0.80 USD refunded"),
    ({"status": "Canceled", "remains": 1000, "refunded": Decimal("2")}, "Order #{pk} canceled, 2.00 USD refunded"),
])
def test_an_order_finished_is_told_to_its_customer_in_the_bell_and_by_email(
        alice, bob, broker, django_capture_on_commit_callbacks, fields, subject):
    order = OrderFactory(user=alice, **fields)
    finish(order, django_capture_on_commit_callbacks)
    key = f"order:{order.pk}:finished"
    assert rows() == [(EMAIL, f"user:{alice.pk}", "order_finished", key),
                      (INAPP, f"user:{alice.pk}", "order_finished", key)]
    bell = Notification.objects.get(channel=INAPP)
    email = Notification.objects.get(channel=EMAIL)
    assert bell.subject == email.subject == subject.format(pk=order.pk)
    assert bell.url == email.url == f"/orders/{order.pk}/"
    assert (bell.recipient, bell.status, bell.read_at) == (alice, "sent", None)
    assert (email.recipient, email.status, email.attempts) == (alice, "pending", 0)
    assert dispatched(broker) == 1


def test_the_same_order_finished_twice_writes_nothing_new(alice, broker, django_capture_on_commit_callbacks):
    order = OrderFactory(user=alice, status="Completed", remains=0)
    finish(order, django_capture_on_commit_callbacks)
    first = list(Notification.objects.values_list("pk", flat=True))
    finish(order, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.orders_finished.send(sender=Order, order_ids=[order.pk, order.pk])
    assert sorted(Notification.objects.values_list("pk", flat=True)) == sorted(first)
    assert len(first) == 2


def test_a_kind_switched_off_keeps_the_bell_but_writes_no_email(alice, bob, broker,
                                                                django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=alice, order_finished=False)
    NotificationPreference.objects.create(user=bob, payment_credited=False)  # another kind: bob still gets it
    mine, his = OrderFactory(user=alice, status="Completed"), OrderFactory(user=bob, status="Completed")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.orders_finished.send(sender=Order, order_ids=[mine.pk, his.pk])
    assert rows(recipient=alice) == [(INAPP, f"user:{alice.pk}", "order_finished", f"order:{mine.pk}:finished")]
    assert [channel for channel, *_ in rows(recipient=bob)] == [EMAIL, INAPP]


def test_a_customer_without_an_email_address_or_disabled_gets_the_bell_only(alice, bob, broker,
                                                                            django_capture_on_commit_callbacks):
    alice.email = ""
    alice.save()
    bob.is_active = False
    bob.save()
    orders = [OrderFactory(user=alice, status="Completed"), OrderFactory(user=bob, status="Completed")]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.orders_finished.send(sender=Order, order_ids=[order.pk for order in orders])
    assert set(Notification.objects.values_list("channel", flat=True)) == {INAPP}
    assert Notification.objects.count() == 2
    assert dispatched(broker) == 0  # nothing to send: no task


def test_nothing_is_dispatched_before_the_commit_and_nothing_is_left_after_a_rollback(
        alice, broker, django_capture_on_commit_callbacks):
    order = OrderFactory(user=alice, status="Completed")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            events.orders_finished.send(sender=Order, order_ids=[order.pk])
            assert Notification.objects.count() == 2  # written in the event's transaction...
            assert dispatched(broker) == 0  # ...and nothing sent or dispatched before its commit
            raise RuntimeError("the action failed")
    assert Notification.objects.count() == 0
    assert callbacks == [] and dispatched(broker) == 0 and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        events.orders_finished.send(sender=Order, order_ids=[order.pk])
    assert dispatched(broker) == 0 and len(callbacks) == 1  # on the commit, and only then
    callbacks[0]()
    assert dispatched(broker) == 1


def test_one_task_is_dispatched_for_all_the_rows_of_a_transaction(alice, bob, carol, broker, make_method,
                                                                  make_payment, django_capture_on_commit_callbacks):
    orders = [OrderFactory(user=alice, status="Completed") for _ in range(3)] + [OrderFactory(user=bob)]
    payment = make_payment(alice, make_method(), status="paid", credited=Decimal("10"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        events.orders_finished.send(sender=Order, order_ids=[order.pk for order in orders[:3]])
        events.orders_finished.send(sender=Order, order_ids=[orders[3].pk])
        events.payment_credited.send(sender=None, payment_id=payment.pk)
        events.payment_needs_review.send(sender=None, payment_id=payment.pk, reason="check it")
    assert Notification.objects.filter(channel=EMAIL).count() == 6  # 4 orders, 1 top-up, carol's review
    assert len(callbacks) == 1 and dispatched(broker) == 1


def test_the_orders_finished_of_a_polling_batch_take_a_fixed_number_of_queries(
        broker, django_assert_num_queries, django_capture_on_commit_callbacks):
    from tests.factories import UserFactory

    customers = [UserFactory() for _ in range(10)]
    for customer in customers[:4]:
        NotificationPreference.objects.create(user=customer, order_finished=customer.pk % 2 == 0)
    service = ServiceFactory()
    one = OrderFactory(user=customers[0], service=service, status="Completed")
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(2):
        # the orders with their customers and preferences; one INSERT
        events.orders_finished.send(sender=Order, order_ids=[one.pk])
    broker.reset_mock()
    batch = [OrderFactory(user=customers[i % 10], service=service, status=("Completed", "Partial", "Canceled")[i % 3],
                          remains=(0, 300, 1000)[i % 3], refunded=(Decimal(0), Decimal("0.6"), Decimal(2))[i % 3])
             for i in range(100)]
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(2):
        events.orders_finished.send(sender=Order, order_ids=[order.pk for order in batch])
    assert Notification.objects.filter(channel=INAPP, key__endswith=":finished").count() == 101
    off = {customer.pk for customer in customers[:4] if customer.pk % 2}
    expected = sum(1 for order in batch if order.user_id not in off)
    assert Notification.objects.filter(channel=EMAIL).exclude(key=f"order:{one.pk}:finished").count() == expected
    assert dispatched(broker) == 1  # and one task for the batch


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeProvider(rsps)


def test_polling_tells_the_customers_of_the_orders_it_finished_once(funded, fake, no_broker, broker,
                                                                    django_capture_on_commit_callbacks):
    service = ServiceFactory(provider_service__external_id="101")
    orders = []
    for _ in range(3):
        order = order_place(user=funded, service=service, fields={"link": "https://x.com/a", "quantity": "1000"})
        Order.objects.filter(pk=order.pk).update(state="placed", external_id=f"E{order.pk}")
        orders.append(order)
    done, partial, running = orders
    fake.statuses[f"E{done.pk}"] = status("Completed")
    fake.statuses[f"E{partial.pk}"] = status("Partial", remains="250")
    fake.statuses[f"E{running.pk}"] = status("In progress", remains="500")
    with django_capture_on_commit_callbacks(execute=True):
        polling.run_cycle()
    with django_capture_on_commit_callbacks(execute=True):
        polling.run_cycle()  # asked again: nothing new
    subjects = dict(Notification.objects.filter(channel=EMAIL).values_list("key", "subject"))
    assert subjects == {f"order:{done.pk}:finished": f"Order #{done.pk} completed",
                        f"order:{partial.pk}:finished": f"Order #{partial.pk} partial: 250 of 1000 not delivered, "
                                                        "0.50 USD refunded"}
    assert Notification.objects.filter(channel=INAPP, recipient=funded).count() == 2


def test_staff_setting_an_order_completed_tells_the_customer(alice, carol, broker,
                                                             django_capture_on_commit_callbacks):
    order = OrderFactory(user=alice, status="In progress")
    with django_capture_on_commit_callbacks(execute=True):
        order_set_completed(order_id=order.pk, staff=carol)
    assert rows(recipient=alice, channel=EMAIL) == [(EMAIL, f"user:{alice.pk}", "order_finished",
                                                     f"order:{order.pk}:finished")]
    assert not Notification.objects.filter(recipient=carol).exists()


# --- Customers: refills and top-ups ----------------------------------------------------------------------

def test_a_refill_finished_is_told_to_the_customer_of_its_order(alice, broker, django_capture_on_commit_callbacks):
    order = OrderFactory(user=alice, status="Completed")
    done = Refill.objects.create(order=order, status=Refill.Status.COMPLETED, external_id="R1")
    refused = Refill.objects.create(order=OrderFactory(user=alice, status="Completed"),
                                    status=Refill.Status.REJECTED, error="Refill not available")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.refills_finished.send(sender=Refill, refill_ids=[done.pk, refused.pk])
        events.refills_finished.send(sender=Refill, refill_ids=[done.pk])
    subjects = dict(Notification.objects.filter(channel=EMAIL).values_list("key", "subject"))
    assert subjects == {f"refill:{done.pk}:finished": f"Refill of order #{order.pk} completed",
                        f"refill:{refused.pk}:finished": f"Refill of order #{refused.order_id} rejected: "
                                                         "Refill not available"}
    assert Notification.objects.get(channel=INAPP, key=f"refill:{done.pk}:finished").url == f"/orders/{order.pk}/"
    assert Notification.objects.filter(kind="refill_finished").count() == 4


def test_a_top_up_credited_by_the_gateway_is_told_to_the_customer_once(alice, make_method, make_payment, broker,
                                                                       django_capture_on_commit_callbacks):
    method = make_method("sandbox", bonus_percent=Decimal("10"), bonus_from=Decimal("50"))
    payment = make_payment(alice, method, amount="100.00", bonus="10.00", gateway_ref="cs_1")

    def notice(event_id):
        return Notice(event_id=event_id, outcome=Outcome.PAID, reference=str(payment.reference), gateway_ref="cs_1",
                      kind="checkout.paid", amount=payment.total, currency="USD")

    with django_capture_on_commit_callbacks(execute=True):
        assert payment_services.notice_apply(gateway="sandbox", notice=notice("evt_1")).startswith("credited")
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.notice_apply(gateway="sandbox", notice=notice("evt_2"))  # paid again: nothing more
    assert rows() == [(EMAIL, f"user:{alice.pk}", "payment_credited", f"payment:{payment.pk}:credited"),
                      (INAPP, f"user:{alice.pk}", "payment_credited", f"payment:{payment.pk}:credited")]
    bell = Notification.objects.get(channel=INAPP)
    assert bell.subject == "110.00 USD added to your balance"
    assert bell.url == f"/payments/{payment.reference}/"
    assert dispatched(broker) == 1


def test_a_top_up_with_its_kind_switched_off_is_in_the_bell_only(alice, make_method, make_payment, broker,
                                                                  django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=alice, payment_credited=False)
    payment = make_payment(alice, make_method(), status="paid", credited=Decimal("5"))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.payment_credited.send(sender=None, payment_id=payment.pk)
    assert rows() == [(INAPP, f"user:{alice.pk}", "payment_credited", f"payment:{payment.pk}:credited")]


# --- Staff -----------------------------------------------------------------------------------------------

def staff_rows_for(key):
    return sorted(Notification.objects.filter(key=key).values_list("channel", "recipient_key"))


def test_an_order_waiting_for_a_decision_is_told_to_every_active_staff_member_and_telegram(
        alice, carol, dave, telegram, broker, django_capture_on_commit_callbacks):
    from accounts.models import User

    User.objects.create_user("gone", "gone@example.com", "x", is_staff=True, is_active=False)
    User.objects.create_user("mailless", "", "x", is_staff=True)
    order = OrderFactory(user=alice, state="failed")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.order_needs_decision.send(sender=Order, order_id=order.pk, reason="Timed out while sending")
        events.order_needs_decision.send(sender=Order, order_id=order.pk, reason="Timed out again")
    key = f"order:{order.pk}:decision"
    mailless = User.objects.get(username="mailless")
    assert staff_rows_for(key) == sorted([
        (EMAIL, f"user:{carol.pk}"), (EMAIL, f"user:{dave.pk}"), (INAPP, f"user:{carol.pk}"),
        (INAPP, f"user:{dave.pk}"), (INAPP, f"user:{mailless.pk}"), (TG, "telegram")])
    row = Notification.objects.get(channel=TG)
    assert (row.kind, row.recipient, row.url) == ("order_failed", None, f"/staff/orders/?q={order.pk}")
    assert "Timed out while sending" in row.body
    assert not Notification.objects.filter(recipient=alice).exists()
    assert dispatched(broker) == 1


def test_without_a_chat_id_there_is_no_telegram_row(carol, settings, broker, django_capture_on_commit_callbacks):
    settings.TELEGRAM_BOT_TOKEN = TOKEN  # a token alone is not enough
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.order_needs_decision.send(sender=Order, order_id=123, reason="x")
    assert not Notification.objects.filter(channel=TG).exists()
    assert Notification.objects.filter(key="order:123:decision").count() == 2


def test_a_payment_put_before_staff_is_told_to_staff(alice, carol, make_method, broker,
                                                     django_capture_on_commit_callbacks):
    method = make_method("manual")
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_services.payment_start(user=alice, method=method, amount=Decimal("25"),
                                                 customer_reference="TR-1")
    key = f"payment:{payment.pk}:review"
    assert staff_rows_for(key) == [(EMAIL, f"user:{carol.pk}"), (INAPP, f"user:{carol.pk}")]
    row = Notification.objects.get(key=key, channel=EMAIL)
    assert row.kind == "payment_review"
    assert row.subject == f"Payment #{payment.pk} to check: 25.00 USD by Bank transfer from alice"
    assert row.url == f"/staff/payments/{payment.pk}/" and "TR-1" in row.body


def test_a_provider_below_its_warning_level_is_told_to_staff_once_a_day(carol, broker,
                                                                         django_capture_on_commit_callbacks):
    provider = ServiceFactory().provider_service.provider
    Provider.objects.filter(pk=provider.pk).update(low_balance_warning=Decimal("50"), balance=Decimal("80"))
    provider.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        health.record_success(provider, balance=Decimal("12.5"), currency="USD")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.provider_balance_low.send(sender=Provider, provider_id=provider.pk, balance=Decimal("10"),
                                         currency="USD")  # lower again the same day: told already
    today = timezone.now().astimezone(UTC).strftime("%Y-%m-%d")
    key = f"provider:{provider.pk}:low:{today}"
    assert staff_rows_for(key) == [(EMAIL, f"user:{carol.pk}"), (INAPP, f"user:{carol.pk}")]
    assert Notification.objects.filter(kind="provider_low_balance").count() == 2
    row = Notification.objects.get(key=key, channel=INAPP)
    assert row.subject == "Upstream: balance 12.50 USD, below its warning level of 50.00 USD"


def test_a_provider_failing_is_told_once_an_hour_and_its_key_is_never_repeated(carol, settings, broker,
                                                                               django_capture_on_commit_callbacks):
    import smmapi

    settings.POLL_FAILURES_BEFORE_BACKOFF = 1
    provider = ServiceFactory().provider_service.provider
    secret = provider.api_key
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):  # failing and backed off, its backoff doubling
            with transaction.atomic():
                backoff.provider_failed(provider, smmapi.NotSent("connection refused"))
        with transaction.atomic():
            events.provider_failing.send(sender=Provider, provider_id=provider.pk, error=f"bad key {secret}")
    hour = timezone.now().astimezone(UTC).strftime("%Y-%m-%d-%H")
    key = f"provider:{provider.pk}:failing:{hour}"
    assert staff_rows_for(key) == [(EMAIL, f"user:{carol.pk}"), (INAPP, f"user:{carol.pk}")]
    assert Notification.objects.count() == 2
    assert "connection refused" in Notification.objects.get(channel=EMAIL).subject
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.provider_failing.send(sender=Provider, provider_id=provider.pk, error=f"bad key {secret}")
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.provider_failing.send(sender=Provider, provider_id=provider.pk, error=f"bad key {secret}")
    assert not Notification.objects.filter(body__contains=secret).exists()
    assert not Notification.objects.filter(subject__contains=secret).exists()
    assert Notification.objects.filter(subject__contains="bad key [hidden]").count() == 2


# --- Polling stopped: sent by beat, at once ----------------------------------------------------------------

def test_polling_stopped_is_sent_at_once_from_beats_process_with_the_worker_and_broker_down(
        alice, carol, dave, telegram, broker, django_capture_on_commit_callbacks):
    broker.side_effect = OSError("broker down")
    order = OrderFactory(user=alice, status="In progress")
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert watch_polling()
        assert mail.outbox == [] and len(telegram.calls) == 0  # nothing before the commit
    assert callbacks
    assert sorted(message.to[0] for message in mail.outbox) == ["carol@example.com", "dave@example.com"]
    assert mail.outbox[0].subject.startswith("[SMM Panel] Polling stopped: no order asked about since")
    assert len(telegram.calls) == 1
    sent = json.loads(telegram.calls[0].request.body)
    assert sent["chat_id"] == "-1001" and sent["text"].startswith("Polling stopped")
    assert set(Notification.objects.exclude(channel=INAPP).values_list("status", flat=True)) == {"sent"}
    assert Notification.objects.filter(kind="polling_stopped", channel=INAPP).count() == 2
    # beat looks again a minute later: the same stop, told once
    with django_capture_on_commit_callbacks(execute=True):
        assert watch_polling()
    assert len(mail.outbox) == 2 and len(telegram.calls) == 1
    assert Notification.objects.filter(kind="polling_stopped").count() == 5
