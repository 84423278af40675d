"""Support tickets in a real browser: a customer opens a ticket about an order, staff reply from their own
browser, and the customer finds the reply marked new on their ticket list."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from support.models import Ticket
from tests.factories import OrderFactory

from .conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_a_customer_asks_about_an_order_staff_reply_and_the_customer_sees_it_marked_new(
        live_server, browser_page, carol):
    erin = User.objects.create_user("erin", "erin@example.com", "erin-pass-123")
    order = OrderFactory(user=erin, status="In progress", link="https://instagram.com/erin")
    page = browser_page

    log_in(page, live_server, "erin", "erin-pass-123")
    page.get_by_role("link", name="Support").click()
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("About").select_option("order")
    page.get_by_label("Subject").fill("Followers stopped at half")
    page.get_by_label(f"#{order.pk} ·").check()
    page.get_by_label("Message").fill("It has been two days. <b>Help</b>, see https://instagram.com/erin")
    page.get_by_role("button", name="Open ticket").click()

    ticket = Ticket.objects.get()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    expect(page.locator(f"#ticket-order-{order.pk} .status")).to_have_text("In progress")
    message = page.locator(".message-body").first
    expect(message).to_contain_text("<b>Help</b>")  # shown as typed, not as bold
    expect(message.get_by_role("link", name="https://instagram.com/erin")).to_have_attribute(
        "rel", "nofollow noopener noreferrer")

    staff_context = page.context.browser.new_context()
    try:
        staff_page = staff_context.new_page()
        staff_page.set_default_timeout(15_000)
        log_in(staff_page, live_server, "carol", "carol-pass-123")
        staff_page.goto(f"{live_server.url}/staff/tickets/")
        expect(staff_page.locator(f"#ticket-{ticket.pk}")).to_have_class("unread")
        staff_page.locator(f"#ticket-{ticket.pk}").get_by_role("link", name="Followers stopped at half").click()
        expect(staff_page.locator(f"#ticket-order-{order.pk}")).to_contain_text("In progress")
        staff_page.get_by_label("Message").fill("We asked the provider to restart it.")
        staff_page.get_by_role("button", name="Send").click()
        expect(staff_page.locator(".messages")).to_contain_text("Reply sent to erin; the ticket is Answered.")
    finally:
        staff_context.close()

    page.get_by_role("link", name="Support").click()
    row = page.locator(f"#ticket-{ticket.pk}")
    expect(row).to_contain_text("New reply")
    expect(row.locator(".status")).to_have_text("Answered")
    expect(page.locator("#unread-count")).to_have_text("1 new reply")
    row.get_by_role("link", name="Followers stopped at half").click()
    expect(page.locator(".message-staff")).to_contain_text("We asked the provider to restart it.")

    page.get_by_role("link", name="Support").click()
    expect(page.locator(f"#ticket-{ticket.pk}")).not_to_contain_text("New reply")
    expect(page.locator("#unread-count")).to_have_count(0)


@pytest.mark.django_db(transaction=True)
def test_the_ticket_pages_fit_a_phone(live_server, browser_page, carol):
    erin = User.objects.create_user("erin", "erin@example.com", "erin-pass-123")
    order = OrderFactory(user=erin, status="Completed", service__refill=True,
                         link="https://instagram.com/" + "a-very-long-profile-name" * 4)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "erin", "erin-pass-123")
    page.goto(f"{live_server.url}/tickets/new/?order={order.pk}")
    page.get_by_label("Subject").fill("A subject " + "that goes on " * 10)
    page.get_by_label("Message").fill("See https://example.com/" + "x" * 150)
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("button", name=f"Refill order #{order.pk}")).to_be_visible()
    ticket = Ticket.objects.get()
    for path, heading in (("/tickets/", "Support"), (f"/tickets/{ticket.pk}/", f"Ticket #{ticket.pk}"),
                          ("/tickets/new/", "New ticket")):
        page.goto(live_server.url + path)
        expect(page.locator("h1")).to_contain_text(heading)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, "carol", "carol-pass-123")
    for path, heading in (("/staff/tickets/", "Tickets"), (f"/staff/tickets/{ticket.pk}/", f"Ticket #{ticket.pk}")):
        page.goto(live_server.url + path)
        expect(page.locator("h1")).to_contain_text(heading)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


@pytest.mark.django_db(transaction=True)
def test_the_bell_counts_a_new_notification_without_a_reload(live_server, browser_page, settings):
    from unittest import mock

    from panel.celery import app as celery_app
    from support.notify import notify_customer

    settings.NOTIFY_BELL_REFRESH_SECONDS = 1
    User.objects.create_user("erin", "erin@example.com", "erin-pass-123")
    page = browser_page
    log_in(page, live_server, "erin", "erin-pass-123")
    expect(page.locator("#bell")).to_be_visible()
    expect(page.locator("#bell .bell-count")).to_have_count(0)
    page.evaluate("window.notReloaded = true")

    erin = User.objects.get(username="erin")
    with mock.patch.object(celery_app, "send_task"):  # the e-mail's task: no worker here
        notify_customer(user=erin, kind="order_finished", key="order:7:finished", subject="Order #7 completed",
                        url="/orders/")
    expect(page.locator("#bell .bell-count")).to_have_text("1", timeout=10_000)
    assert page.evaluate("window.notReloaded === true")  # the same page: the bell refreshed itself
    page.locator("#bell .bell-link").click()
    expect(page.locator("body")).to_contain_text("Order #7 completed")
