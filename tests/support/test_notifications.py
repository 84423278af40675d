"""The notification outbox and its sending: notify_customer / notify_staff write rows once; the task claims
each row so that it is sent once, even by two senders at once or a task run again; a failing backend is
retried then marked failed, never breaking the action; Telegram's token never shows; the rate bound holds
rows and the sweep sends one digest; the bell, the list and the email settings."""

import json
import logging
import re
import smtplib
from datetime import timedelta
from unittest import mock

import pytest
import requests
import responses
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import events
from orders.models import Order
from orders.staff import order_set_completed
from support import sending, tasks
from support.models import Notification, NotificationPreference
from support.notify import SEND_TASK, notify_customer, notify_staff
from tests.factories import OrderFactory

from .conftest import TELEGRAM, TOKEN

pytestmark = pytest.mark.django_db


SEND_URL = f"{TELEGRAM}/bot{TOKEN}/sendMessage"
INAPP, EMAIL, TG = Notification.Channel.INAPP, Notification.Channel.EMAIL, Notification.Channel.TELEGRAM
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _mail_and_no_telegram(settings):
    settings.EMAIL_BACKEND = LOCMEM
    settings.TELEGRAM_BOT_TOKEN = ""
    settings.TELEGRAM_CHAT_ID = ""
    settings.TELEGRAM_API_BASE = TELEGRAM
    settings.NOTIFY_MAX_PER_KIND = 5
    settings.NOTIFY_WINDOW_SECONDS = 600
    settings.NOTIFY_MAX_ATTEMPTS = 4


@pytest.fixture
def worker(broker):
    """A worker that runs the send task as soon as it is dispatched."""
    broker.side_effect = lambda name, *args, **kwargs: tasks.send_notifications.run() if name == SEND_TASK else None
    return broker


@pytest.fixture
def telegram(settings):
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_CHAT_ID = "-1001"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def tell(user, key="order:1:finished", kind="order_finished", subject="Order #1 completed", **fields):
    notify_customer(user=user, kind=kind, key=key, subject=subject, url=fields.pop("url", "/orders/1/"), **fields)


def make_due(**filters):
    """Time passes: what waits for its next try (or a lease) is due now."""
    Notification.objects.filter(status="pending", **filters).update(sent_at=timezone.now() - timedelta(seconds=1))


def age(seconds, **filters):
    Notification.objects.filter(**filters).update(created_at=timezone.now() - timedelta(seconds=seconds))


# --- Writing ---------------------------------------------------------------------------------------------

def test_notify_customer_writes_a_bell_row_and_an_email_row_once(alice, broker):
    tell(alice, body="All 1000 were delivered.")
    tell(alice, subject="told again")
    rows = list(Notification.objects.order_by("channel").values(
        "channel", "recipient_id", "recipient_key", "kind", "key", "subject", "body", "url", "status", "attempts"))
    common = {"recipient_id": alice.pk, "recipient_key": f"user:{alice.pk}", "kind": "order_finished",
              "key": "order:1:finished", "subject": "Order #1 completed", "body": "All 1000 were delivered.",
              "url": "/orders/1/", "attempts": 0}
    assert rows == [{"channel": EMAIL, "status": "pending", **common}, {"channel": INAPP, "status": "sent", **common}]


def test_notify_customer_sends_no_email_of_a_kind_switched_off(alice, broker):
    NotificationPreference.objects.create(user=alice, ticket_reply=False)
    tell(alice, key="ticket-message:1", kind="ticket_reply", subject="Reply to your ticket #1")
    tell(alice)
    assert sorted(Notification.objects.values_list("channel", "kind")) == [
        (EMAIL, "order_finished"), (INAPP, "order_finished"), (INAPP, "ticket_reply")]


def test_notify_staff_writes_for_every_active_staff_member_and_one_telegram_row(alice, carol, dave, settings,
                                                                                 broker):
    from accounts.models import User

    User.objects.create_user("former", "former@example.com", "x", is_staff=True, is_active=False)
    notify_staff(kind="new_ticket", key="ticket:7:new", subject="New ticket #7 from alice: help", url="/staff/tickets/7/")
    assert sorted(Notification.objects.values_list("channel", "recipient_key")) == [
        (EMAIL, f"user:{carol.pk}"), (EMAIL, f"user:{dave.pk}"), (INAPP, f"user:{carol.pk}"), (INAPP, f"user:{dave.pk}")]
    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_CHAT_ID = TOKEN, "-1001"
    notify_staff(kind="new_ticket", key="ticket:7:new", subject="again")
    notify_staff(kind="new_ticket", key="ticket:8:new", subject="New ticket #8")
    assert Notification.objects.filter(channel=TG).count() == 2
    assert not Notification.objects.filter(recipient=alice).exists()
    assert not Notification.objects.filter(subject__contains=TOKEN).exists()


def test_a_customers_reply_sent_from_a_request_goes_after_the_commit_only(alice, worker,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            tell(alice)
            tell(alice, key="order:2:finished", subject="Order #2 completed")
            assert mail.outbox == []  # nothing sent inside the transaction
        assert worker.call_count == 0
    assert worker.call_count == 1  # one task for both rows
    assert sorted(message.subject for message in mail.outbox) == ["[SMM Panel] Order #1 completed",
                                                                  "[SMM Panel] Order #2 completed"]
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert "http://127.0.0.1:8000/orders/" in message.body and "/notifications/settings/" in message.body


# --- Sending once -------------------------------------------------------------------------------------------

def test_the_send_task_sends_each_row_once_and_marks_it_sent(alice, broker):
    tell(alice)
    assert tasks.send_notifications.run() == {"sent": 1, "held": 0, "retried": 0, "failed": 0}
    assert tasks.send_notifications.run() == {"sent": 0, "held": 0, "retried": 0, "failed": 0}  # run again
    tasks.sweep()
    assert len(mail.outbox) == 1
    row = Notification.objects.get(channel=EMAIL)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at is not None


def test_a_row_is_claimed_by_one_sender_only(alice, broker):
    tell(alice)
    row = Notification.objects.get(channel=EMAIL)
    assert tasks.claim([row.pk]) == {row.pk: 1}
    assert tasks.claim([row.pk]) == {}  # the other sender's UPDATE finds it taken
    assert tasks.send_due() == {"sent": 0, "held": 0, "retried": 0, "failed": 0, "more": False}
    assert mail.outbox == []


def test_two_senders_at_once_send_a_row_once(alice, broker):
    """The second sender starts while the first is sending: it finds the row claimed, sends nothing."""
    tell(alice)
    second = {}
    real_send = mail.EmailMessage.send

    def send_while_another_runs(message, *args, **kwargs):
        if not second:
            second.update(tasks.send_due())
        return real_send(message, *args, **kwargs)

    with mock.patch.object(mail.EmailMessage, "send", send_while_another_runs):
        first = tasks.send_due()
    assert (first["sent"], second["sent"]) == (1, 0)
    assert len(mail.outbox) == 1
    assert Notification.objects.get(channel=EMAIL).status == "sent"


def test_a_task_stopped_by_its_time_limit_after_sending_does_not_send_again_when_retried(alice, broker):
    tell(alice)
    with mock.patch.object(sending, "record_outcome", side_effect=SoftTimeLimitExceeded()), \
            pytest.raises(SoftTimeLimitExceeded):
        tasks.send_notifications.run()
    assert len(mail.outbox) == 1
    tasks.send_notifications.run()  # the task again, at once: the row is still leased to the first run
    tasks.sweep()
    assert len(mail.outbox) == 1


def test_the_sweep_sends_what_a_lost_dispatch_left_pending(alice, broker):
    broker.side_effect = OSError("broker down")
    tell(alice)
    tell(alice, key="order:2:finished", subject="Order #2 completed")
    age(120, key="order:1:finished")
    assert tasks.sweep()["sent"] == 1  # the fresh one may still have its task coming
    age(120)
    assert tasks.sweep()["sent"] == 1
    assert len(mail.outbox) == 2


def test_a_worker_that_died_mid_send_leaves_the_row_to_the_sweep_once_its_lease_ends(alice, broker, settings):
    tell(alice)
    row = Notification.objects.get(channel=EMAIL)
    tasks.claim([row.pk])  # and the worker dies
    age(120)
    assert tasks.sweep()["sent"] == 0  # leased
    make_due()
    assert tasks.sweep()["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    # on its last attempt, the row is given up rather than tried for ever
    tell(alice, key="order:2:finished")
    last = Notification.objects.get(channel=EMAIL, key="order:2:finished")
    Notification.objects.filter(pk=last.pk).update(attempts=settings.NOTIFY_MAX_ATTEMPTS - 1)
    tasks.claim([last.pk])
    make_due()
    tasks.sweep()
    last.refresh_from_db()
    assert last.status == "failed" and "never finished" in last.last_error


# --- Failing -------------------------------------------------------------------------------------------------

def test_a_failing_email_backend_is_retried_then_marked_failed_and_the_action_still_succeeded(
        alice, carol, worker, settings, django_capture_on_commit_callbacks, caplog):
    settings.EMAIL_HOST_PASSWORD = "smtp-password-secret"
    order = OrderFactory(user=alice, status="In progress")
    refused = smtplib.SMTPAuthenticationError(535, b"5.7.8 rejected smtp-password-secret")
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused):
        with django_capture_on_commit_callbacks(execute=True):
            order_set_completed(order_id=order.pk, staff=carol)  # the task runs at once, and fails
        order.refresh_from_db()
        assert order.status == "Completed"  # the action is done, whatever the mail does
        row = Notification.objects.get(channel=EMAIL)
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error.startswith("Email not sent: SMTPAuthenticationError")
        assert row.sent_at > timezone.now() + timedelta(seconds=50)  # its next try, later
        assert tasks.sweep()["retried"] == 0  # not due yet
        for attempt in (2, 3, 4):
            make_due()
            tasks.sweep()
            row.refresh_from_db()
            assert row.attempts == attempt
    assert (row.status, row.sent_at) == ("failed", None)
    assert "smtp-password-secret" not in row.last_error and "[hidden]" in row.last_error
    assert "smtp-password-secret" not in caplog.text
    make_due()
    assert tasks.sweep()["sent"] == 0 and mail.outbox == []  # failed for good: never tried again
    assert Notification.objects.get(channel=INAPP).status == "sent"  # the bell has it anyway


def test_a_send_that_raises_something_unexpected_is_retried_too(alice, broker):
    tell(alice)
    with mock.patch("support.delivery.send_email", side_effect=KeyError("x")):
        assert tasks.send_due()["retried"] == 1
    assert Notification.objects.get(channel=EMAIL).last_error == "Unexpected KeyError"


# --- Telegram ------------------------------------------------------------------------------------------------

def test_telegram_gets_the_staff_alert_with_its_link(carol, telegram, broker):
    telegram.add(responses.POST, SEND_URL, json={"ok": True, "result": {"message_id": 1}})
    notify_staff(kind="payment_review", key="payment:3:review", subject="Payment #3 to check", body="The amount differs.",
                 url="/staff/payments/3/")
    assert tasks.send_due()["sent"] == 2
    sent = json.loads(telegram.calls[0].request.body)
    assert sent == {"chat_id": "-1001", "disable_web_page_preview": True,
                    "text": "Payment #3 to check\n\nThe amount differs.\n\nhttp://127.0.0.1:8000/staff/payments/3/"}
    assert Notification.objects.get(channel=TG).status == "sent"


@pytest.mark.parametrize("answer", [
    {"status": 401, "json": {"ok": False, "error_code": 401, "description": "Unauthorized"}},
    {"status": 500, "body": "<html>Internal error</html>"},
    {"status": 400, "json": {"ok": False, "description": f"Bad Request: token {TOKEN} is odd"}},
    {"body": requests.exceptions.ReadTimeout(f"HTTPSConnectionPool: Read timed out. (url /bot{TOKEN}/sendMessage)")},
    {"body": requests.exceptions.ConnectionError(f"Max retries exceeded with url: /bot{TOKEN}/sendMessage")},
])
def test_telegram_failing_never_shows_its_token_in_the_row_or_the_logs(carol, telegram, broker, caplog, answer):
    caplog.set_level(logging.DEBUG)
    telegram.add(responses.POST, SEND_URL, **answer)
    notify_staff(kind="provider_failing", key="provider:1:failing:x", subject="Upstream is failing")
    assert tasks.send_due()["retried"] == 1
    row = Notification.objects.get(channel=TG)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("Telegram")
    assert TOKEN not in row.last_error and TOKEN.split(":")[1] not in row.last_error
    assert TOKEN.split(":")[1] not in caplog.text
    for _ in range(3):
        make_due()
        tasks.sweep()
    row.refresh_from_db()
    assert row.status == "failed" and TOKEN.split(":")[1] not in row.last_error
    assert TOKEN.split(":")[1] not in caplog.text
    assert not Notification.objects.filter(body__contains=TOKEN.split(":")[1]).exists()


def test_a_401_from_telegram_is_recorded_plainly(carol, telegram, broker):
    telegram.add(responses.POST, SEND_URL, status=401, json={"ok": False, "description": "Unauthorized"})
    notify_staff(kind="new_ticket", key="ticket:1:new", subject="New ticket #1")
    tasks.send_due()
    assert Notification.objects.get(channel=TG).last_error == "Telegram answered HTTP 401: Unauthorized"


# --- Rate and digest ---------------------------------------------------------------------------------------

def test_beyond_the_rate_rows_are_held_and_the_sweep_sends_one_digest(alice, broker):
    for n in range(1, 13):
        tell(alice, key=f"order:{n}:finished", subject=f"Order #{n} completed", url=f"/orders/{n}/")
    assert tasks.send_due() == {"sent": 5, "held": 7, "retried": 0, "failed": 0, "more": False}
    assert [message.subject for message in mail.outbox] == [f"[SMM Panel] Order #{n} completed" for n in range(1, 6)]
    assert Notification.objects.filter(channel=EMAIL, status="held").count() == 7
    assert Notification.objects.filter(channel=INAPP, read_at__isnull=True).count() == 12  # the bell: all of them
    result = tasks.sweep()
    assert result["digests"] == 1
    assert len(mail.outbox) == 6
    digest = mail.outbox[-1]
    assert digest.subject == "[SMM Panel] 7 orders finished: #6, #7, #8, #9, #10, #11, #12"
    assert "Order #12 completed" in digest.body and "http://127.0.0.1:8000/orders/12/" in digest.body
    assert set(Notification.objects.filter(channel=EMAIL).exclude(kind="digest").values_list("status", flat=True)) == {
        "sent"}
    assert Notification.objects.get(kind="digest").status == "sent"
    # more of them in the same window wait for the next window's digest
    tell(alice, key="order:13:finished", subject="Order #13 completed")
    tasks.send_due()
    tasks.sweep()
    assert len(mail.outbox) == 6
    assert Notification.objects.get(key="order:13:finished", channel=EMAIL).status == "held"
    later = timezone.now() + timedelta(seconds=600)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert tasks.sweep()["digests"] == 1
    assert len(mail.outbox) == 7 and mail.outbox[-1].subject == "[SMM Panel] Order #13 completed"
    assert Notification.objects.filter(kind="digest").count() == 2


def test_the_rate_is_per_recipient_and_kind(alice, bob, broker):
    for n in range(1, 7):
        tell(alice, key=f"order:{n}:finished")
        tell(bob, key=f"order:{n}:finished")
    tell(alice, key="payment:1:credited", kind="payment_credited", subject="10.00 USD added to your balance")
    counts = tasks.send_due()
    assert (counts["sent"], counts["held"]) == (11, 2)
    assert sorted(Notification.objects.filter(status="held").values_list("recipient__username", flat=True)) == [
        "alice", "bob"]


def test_a_provider_failing_for_hours_sends_one_mail_an_hour_not_one_per_failure(carol, broker):
    for minute in range(180):  # three hours of failures, every minute
        hour = minute // 60
        notify_staff(kind="provider_failing", key=f"provider:1:failing:2025-01-01-{hour:02d}",
                     subject="Upstream is failing")
    tasks.send_due()
    assert len(mail.outbox) == 3


# --- The bell, the list, the settings ------------------------------------------------------------------

def test_the_bell_shows_ones_own_unread_count_in_one_query_and_refreshes_itself(client, alice, bob, broker):
    for n in range(3):
        tell(alice, key=f"order:{n}:finished")
    tell(alice, key="payment:1:credited", kind="payment_credited", subject="10.00 USD added to your balance")
    tell(bob, key="order:9:finished")
    Notification.objects.filter(recipient=alice, key="order:0:finished").update(read_at=timezone.now())
    client.force_login(alice)
    with CaptureQueriesContext(transaction.get_connection()) as queries:
        response = client.get(reverse("notifications:bell"))
    assert response.status_code == 200
    assert len([q for q in queries.captured_queries if "support_notification" in q["sql"]]) == 1
    html = response.content.decode()
    assert re.search(r'<span class="bell-count">3</span>', html)
    assert f'hx-get="{reverse("notifications:bell")}"' in html and 'hx-trigger="every 30s"' in html
    assert "2</span> Order finished" in html and "1</span> Top-up credited" in html
    client.force_login(bob)
    assert '<span class="bell-count">1</span>' in client.get(reverse("notifications:bell")).content.decode()


def test_every_page_has_the_bell_which_loads_its_count(client, alice, settings, broker):
    client.force_login(alice)
    html = client.get(reverse("notifications:preferences")).content.decode()
    assert 'id="bell"' in html and 'hx-trigger="load, every 30s"' in html
    settings.NOTIFY_BELL_REFRESH_SECONDS = 45
    tell(alice)
    assert 'hx-trigger="every 45s"' in client.get(reverse("notifications:bell")).content.decode()


def test_the_bell_of_someone_logged_out_meanwhile_stays_as_it_was(client):
    response = client.get(reverse("notifications:bell"))
    assert response.status_code == 204


def test_the_list_shows_only_ones_own_newest_first_and_marks_them_read(client, alice, bob, broker):
    for n in range(1, 4):
        tell(alice, key=f"order:{n}:finished", subject=f"Order #{n} completed", url=f"/orders/{n}/")
    tell(bob, key="order:99:finished", subject="Order #99 completed", url="/orders/99/")
    client.force_login(alice)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Order #99" not in html
    assert html.index("Order #3 completed") < html.index("Order #2 completed") < html.index("Order #1 completed")
    assert '<a href="/orders/2/">Order #2 completed</a>' in html
    assert html.count("badge-new") == 3  # shown as new this once
    assert not Notification.objects.filter(recipient=alice, channel=INAPP, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=bob, channel=INAPP).read_at is None
    assert "badge-new" not in client.get(reverse("notifications:list")).content.decode()


def test_the_list_is_paginated_and_mark_all_read_marks_the_other_pages_too(client, alice, broker):
    for n in range(30):
        tell(alice, key=f"order:{n}:finished", subject=f"Order #{n} completed")
    client.force_login(alice)
    html = client.get(reverse("notifications:list")).content.decode()
    assert html.count('<li id="notification-') == 25 and "Mark all read" in html and "Page 1 of 2" in html
    assert Notification.objects.filter(channel=INAPP, read_at__isnull=True).count() == 5
    response = client.post(reverse("notifications:mark_read"))
    assert response.status_code == 302 and response.url == reverse("notifications:list")
    assert not Notification.objects.filter(channel=INAPP, read_at__isnull=True).exists()


def test_marking_one_read_opens_its_page_and_another_customers_cannot_be_touched(client, alice, bob, broker):
    tell(alice, url="/orders/1/")
    tell(bob, key="order:2:finished", url="/orders/2/")
    mine = Notification.objects.get(recipient=alice, channel=INAPP)
    his = Notification.objects.get(recipient=bob, channel=INAPP)
    client.force_login(alice)
    response = client.post(reverse("notifications:mark_read"), {"id": mine.pk})
    assert response.status_code == 302 and response["Location"] == "/orders/1/"
    assert client.post(reverse("notifications:mark_read"), {"id": his.pk}).status_code == 404
    assert client.get(reverse("notifications:mark_read")).status_code == 405
    mine.refresh_from_db()
    his.refresh_from_db()
    assert mine.read_at is not None and his.read_at is None


def test_the_pages_need_a_login(client):
    for name in ("notifications:list", "notifications:preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login" in response["Location"]


def test_the_settings_page_switches_a_kind_off(client, alice, broker):
    client.force_login(alice)
    html = client.get(reverse("notifications:preferences")).content.decode()
    assert html.count("checked") == 4
    assert not NotificationPreference.objects.exists()  # made on the first save, not by looking
    response = client.post(reverse("notifications:preferences"),
                           {"ticket_reply": "on", "payment_credited": "on", "refill_finished": "on"})
    assert response.status_code == 302 and response.url == reverse("notifications:preferences")
    preference = NotificationPreference.objects.get(user=alice)
    assert (preference.order_finished, preference.ticket_reply) == (False, True)
    order = OrderFactory(user=alice, status="Completed")
    events.orders_finished.send(sender=Order, order_ids=[order.pk])
    assert list(Notification.objects.values_list("channel", flat=True)) == [INAPP]


def test_staff_see_what_they_are_sent_rather_than_customer_settings(client, carol):
    client.force_login(carol)
    html = client.get(reverse("notifications:preferences")).content.decode()
    assert "Staff alerts" in html and "<form" not in html.split("<main>")[1]
