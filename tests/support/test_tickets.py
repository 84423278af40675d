"""The customer's tickets: opening one about their orders or a payment, the thread and replies, what is
refused (and that nothing is kept of it), whose tickets a customer reaches, how messages are shown, the unread
marks, the order actions on an order-topic ticket, and the notifications the events leave."""

import re

import pytest
from django.urls import reverse

from orders.models import Order, Refill
from support.models import Notification, Ticket, TicketMessage
from support.services import (
    TicketRefused,
    ticket_open,
    ticket_reply_by_customer,
    ticket_reply_by_staff,
    ticket_update,
)
from support.templatetags.support_text import linkify
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

NEW = reverse("support:ticket_new")
LIST = reverse("support:tickets")


def page_of(ticket):
    return reverse("support:ticket", args=[ticket.pk])


def reply_url(ticket):
    return reverse("support:ticket_reply", args=[ticket.pk])


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace("&#x27;", "'")


def errors(response) -> str:
    """The text of the form's error lists."""
    found = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", part) for part in found).replace("&#x27;", "'")


@pytest.fixture
def customer(client, alice):
    client.force_login(alice)
    return client


def open_ticket(customer, **fields):
    return ticket_open(**{"customer": customer, "subject": "Where are my followers?", "topic": "order",
                          "body": "Ordered yesterday, nothing yet.", **fields})


# ---------------------------------------------------------------- opening a ticket


def test_a_customer_opens_a_ticket_about_two_of_their_orders_and_finds_it_in_their_list(customer, alice):
    first, second = OrderFactory(user=alice, status="In progress"), OrderFactory(user=alice, status="Pending")
    response = customer.post(NEW, {"topic": "order", "subject": "Slow delivery", "recent_orders": [str(first.pk)],
                                   "order_ids": f"#{second.pk}", "body": "Both are slow.\nPlease check."})

    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == page_of(ticket)
    assert (ticket.customer, ticket.subject, ticket.topic, ticket.status) == (alice, "Slow delivery", "order", "open")
    assert set(ticket.orders.all()) == {first, second}
    assert list(ticket.messages.values_list("body", "author", "internal")) == [
        ("Both are slow.\nPlease check.", alice.pk, False)]
    assert ticket.staff_unread and not ticket.customer_unread

    listing = customer.get(LIST)
    assert f'<tr id="ticket-{ticket.pk}"' in listing.content.decode()
    assert "Slow delivery" in text(listing) and "Open" in text(listing)

    page = customer.get(page_of(ticket))
    assert f'id="ticket-order-{first.pk}"' in page.content.decode()
    assert "Both are slow." in text(page)


def test_a_ticket_about_a_payment_links_to_the_customers_payment(customer, alice, make_method, make_payment):
    payment = make_payment(alice, make_method())
    customer.post(NEW, {"topic": "payment", "subject": "Not credited", "payment": str(payment.pk),
                        "body": "I paid, the balance is the same."})
    ticket = Ticket.objects.get()
    assert ticket.payment == payment
    assert reverse("payments:detail", args=[payment.reference]) in customer.get(page_of(ticket)).content.decode()


def test_the_new_ticket_form_offers_the_customers_orders_and_payments_only(customer, alice, bob, make_method,
                                                                         make_payment):
    mine, theirs = OrderFactory(user=alice), OrderFactory(user=bob)
    my_payment = make_payment(alice, make_method(), gateway_ref="a")
    their_payment = make_payment(bob, make_method(name="Other"), gateway_ref="b")
    html = customer.get(NEW, {"order": mine.pk}).content.decode()
    assert f'value="{mine.pk}"' in html and f'value="{theirs.pk}"' not in html
    assert re.search(rf'<input[^>]*value="{mine.pk}"[^>]*checked', html)  # ?order= ticks it
    assert f'<option value="{my_payment.pk}"' in html and f'<option value="{their_payment.pk}"' not in html


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"subject": "   "}, "subject", "Give the ticket a subject."),
    ({"subject": "x" * 201}, "subject", "Keep the subject to 200 characters; this one has 201."),
    ({"body": " \n\t "}, "body", "Write a message."),
    ({"body": "x" * 5001}, "body", "A message can be at most 5,000 characters; this one has 5,001."),
    ({"topic": "complaint"}, "topic", "Choose what the ticket is about."),
    ({"order_ids": "12 abc"}, "order_ids", "An order is given by its number, like 1234; “abc” is not one."),
])
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_kept(customer, fields, field, message):
    data = {"topic": "other", "subject": "A question", "body": "Hello", **fields}
    response = customer.post(NEW, data)
    assert response.status_code == 200
    assert message in errors(response)
    assert re.search(rf'<div class="field has-error" id="field-{field}">', response.content.decode())
    assert not Ticket.objects.exists() and not TicketMessage.objects.exists()
    assert not Notification.objects.exists()


def test_the_limits_count_the_text_trimmed_with_line_ends_as_one(customer, alice):
    body = ("y" * 99 + "\r\n") * 50  # 5000 characters as a browser sends them (each \r\n one line end)
    customer.post(NEW, {"topic": "other", "subject": "  " + "s" * 200 + "  ", "body": "  " + body + "  "})
    ticket = Ticket.objects.get()
    assert len(ticket.subject) == 200
    assert len(ticket.messages.get().body) == 4999  # the last line end is trimmed


def test_a_ticket_about_another_customers_order_is_refused_and_nothing_is_created(customer, alice, bob):
    mine, bobs = OrderFactory(user=alice), OrderFactory(user=bob)
    response = customer.post(NEW, {"topic": "order", "subject": "Help", "body": "See these",
                                   "recent_orders": [str(mine.pk)], "order_ids": str(bobs.pk)})
    assert f"No such order: #{bobs.pk}." in errors(response)
    assert not Ticket.objects.exists() and not TicketMessage.objects.exists()
    assert not Ticket.orders.through.objects.exists() and not Notification.objects.exists()


def test_a_ticket_about_another_customers_payment_is_refused(customer, alice, bob, make_method, make_payment):
    bobs = make_payment(bob, make_method())
    response = customer.post(NEW, {"topic": "payment", "subject": "Help", "body": "This one", "payment": str(bobs.pk)})
    assert f"No such payment: #{bobs.pk}." in errors(response)
    assert not Ticket.objects.exists()


def test_at_most_twenty_orders_on_a_ticket(alice):
    orders = [OrderFactory(user=alice) for _ in range(21)]
    with pytest.raises(TicketRefused, match="at most 20 orders"):
        open_ticket(alice, order_ids=[order.pk for order in orders])
    assert not Ticket.objects.exists()
    assert open_ticket(alice, order_ids=[order.pk for order in orders[:20]]).orders.count() == 20


# ---------------------------------------------------------------- whose tickets


def test_another_customer_reaches_none_of_a_tickets_pages_or_parts(client, alice, bob):
    order = OrderFactory(user=alice, status="In progress", service__cancel=True)
    ticket = open_ticket(alice, order_ids=[order.pk])
    client.force_login(bob)
    for url in (page_of(ticket), reverse("support:ticket_orders", args=[ticket.pk])):
        assert client.get(url).status_code == 404
    for url in (reply_url(ticket), reverse("support:ticket_order_cancel", args=[ticket.pk, order.pk]),
                reverse("support:ticket_order_refill", args=[ticket.pk, order.pk])):
        assert client.post(url, {"body": "mine now"}).status_code == 404
    assert ticket.messages.count() == 1
    assert Order.objects.get(pk=order.pk).cancel_state == ""
    assert f"ticket-{ticket.pk}" not in client.get(LIST).content.decode()


def test_tickets_pages_need_a_logged_in_customer(client, alice):
    ticket = open_ticket(alice)
    for url in (LIST, NEW, page_of(ticket), reverse("support:ticket_orders", args=[ticket.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------- the thread


def test_a_customer_reply_reopens_an_answered_or_waiting_ticket(customer, alice, carol):
    ticket = open_ticket(alice)
    for status in ("answered", "waiting"):
        Ticket.objects.filter(pk=ticket.pk).update(status=status, staff_unread=False)
        response = customer.post(reply_url(ticket), {"body": f"Still waiting ({status})"})
        assert response.status_code == 302 and response.url == reverse("support:ticket", args=[ticket.pk])
        ticket.refresh_from_db()
        assert ticket.status == "open" and ticket.staff_unread
    assert ticket.messages.count() == 3


def test_a_reply_to_a_closed_ticket_is_refused_with_a_way_forward_and_the_text_kept(customer, alice, carol):
    ticket = open_ticket(alice)
    ticket_update(ticket_id=ticket.pk, staff=carol, status="closed")
    page = customer.get(page_of(ticket))
    assert 'id="reply-form"' not in page.content.decode() and "Open a new ticket" in text(page)

    response = customer.post(reply_url(ticket), {"body": "One more thing <b>please</b>"})
    assert response.status_code == 200
    assert f"Ticket #{ticket.pk} is closed and takes no more replies. Open a new ticket" in text(response)
    assert "One more thing &lt;b&gt;please&lt;/b&gt;" in response.content.decode()  # kept to copy, escaped
    assert ticket.messages.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == "closed"


@pytest.mark.parametrize(("body", "message"), [("   ", "Write a message."),
                                                ("z" * 5001, "at most 5,000 characters; this one has 5,001")])
def test_an_empty_or_too_long_reply_is_refused_and_the_text_stays(customer, alice, body, message):
    ticket = open_ticket(alice)
    response = customer.post(reply_url(ticket), {"body": body})
    assert message in errors(response)
    assert ticket.messages.count() == 1
    if body.strip():
        assert body in response.content.decode()  # in the box again


def test_internal_notes_never_reach_the_customer(customer, alice, carol):
    order = OrderFactory(user=alice, status="In progress")
    ticket = open_ticket(alice, order_ids=[order.pk])
    ticket_reply_by_staff(ticket_id=ticket.pk, staff=carol, body="Customer is a known refunder", internal=True)
    ticket.refresh_from_db()
    assert not ticket.customer_unread and ticket.status == "open"
    for url in (page_of(ticket), reverse("support:ticket_orders", args=[ticket.pk]), LIST):
        assert "known refunder" not in customer.get(url).content.decode()
    assert not Notification.objects.filter(recipient=alice).exists()


def test_the_customer_sees_staffs_replies_as_support(customer, alice, carol):
    ticket = open_ticket(alice)
    ticket_reply_by_staff(ticket_id=ticket.pk, staff=carol, body="Refilled for you.")
    page = text(customer.get(page_of(ticket)))
    assert "Support" in page and "Refilled for you." in page
    assert "carol" not in page


# ---------------------------------------------------------------- how messages are shown


def test_html_in_a_message_is_shown_as_text_and_only_web_links_are_links(customer, alice):
    body = ('<script>alert(1)</script> <img src=x onerror=alert(2)> '
            'see https://example.com/a?b=1&c=2. and <a href="javascript:alert(3)">here</a> '
            'javascript:alert(4) data:text/html,hi')
    ticket = open_ticket(alice, subject="<b>bold</b> subject", body=body)
    html = customer.get(page_of(ticket)).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert ('<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" target="_blank">'
            'https://example.com/a?b=1&amp;c=2</a>.') in html
    assert 'href="javascript' not in html and "&lt;a href=&quot;javascript:alert(3)&quot;&gt;" in html
    assert "href=\"data:" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; subject" in html and "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; subject" in customer.get(LIST).content.decode()


@pytest.mark.parametrize(("raw", "shown"), [
    ("go to http://x.com/a, then", 'go to <a href="http://x.com/a" {a}>http://x.com/a</a>, then'),
    ("(see https://x.com/wiki/A_(b))", '(see <a href="https://x.com/wiki/A_(b)" {a}>https://x.com/wiki/A_(b)</a>)'),
    ("https://x.com/\"onmouseover=\"alert(1)", '<a href="https://x.com/" {a}>https://x.com/</a>&quot;onmouseover=&quot;alert(1)'),
    ("xhttps://x.com", "xhttps://x.com"),
    ("https:// nothing", "https:// nothing"),
    ("see https://.", "see https://."),
    ("https://[oops/a", "https://[oops/a"),
    ("javascript:alert(1)//https://x.com", 'javascript:alert(1)//<a href="https://x.com" {a}>https://x.com</a>'),
    ("<a href='https://x.com'>x</a>", "&lt;a href=&#x27;<a href=\"https://x.com\" {a}>https://x.com</a>&#x27;&gt;x&lt;/a&gt;"),
])
def test_the_message_filter_links_only_http_addresses(raw, shown):
    assert linkify(raw) == shown.format(a='rel="nofollow noopener noreferrer" target="_blank"')


# ---------------------------------------------------------------- unread marks


def test_unread_marks_on_both_sides(client, alice, carol):
    ticket = open_ticket(alice)
    assert Ticket.objects.get(pk=ticket.pk).staff_unread

    client.force_login(carol)
    client.get(reverse("staff_tickets:detail", args=[ticket.pk]))
    assert not Ticket.objects.get(pk=ticket.pk).staff_unread

    ticket_reply_by_staff(ticket_id=ticket.pk, staff=carol, body="Done.")
    client.force_login(alice)
    listing = client.get(LIST).content.decode()
    assert re.search(rf'<tr id="ticket-{ticket.pk}" class="unread">', listing) and "New reply" in listing
    assert re.search(r'id="unread-count">1 new reply<', listing)

    client.get(page_of(ticket))
    assert not Ticket.objects.get(pk=ticket.pk).customer_unread
    listing = client.get(LIST).content.decode()
    assert "New reply" not in listing and 'id="unread-count"' not in listing

    client.post(reply_url(ticket), {"body": "Thanks, but one more"})
    assert Ticket.objects.get(pk=ticket.pk).staff_unread


def test_opening_a_read_ticket_writes_nothing(customer, alice, django_assert_num_queries):
    ticket = open_ticket(alice)
    customer.get(page_of(ticket))
    before = Ticket.objects.get(pk=ticket.pk).updated_at
    with django_assert_num_queries(5):  # session, user, ticket, messages, orders: no write
        customer.get(page_of(ticket))
    assert Ticket.objects.get(pk=ticket.pk).updated_at == before


# ---------------------------------------------------------------- order actions from the ticket


def test_the_ticket_page_offers_the_actions_each_order_allows_and_refreshes_while_they_move(customer, alice):
    refillable = OrderFactory(user=alice, status="Completed", service__refill=True)
    cancelable = OrderFactory(user=alice, status="In progress", service__cancel=True)
    neither = OrderFactory(user=alice, status="Completed")
    ticket = open_ticket(alice, order_ids=[refillable.pk, cancelable.pk, neither.pk])
    html = customer.get(page_of(ticket)).content.decode()

    def row(order):
        return re.search(rf'<tr id="ticket-order-{order.pk}">(.*?)</tr>', html, re.S).group(1)

    assert "Refill</button>" in row(refillable) and "Cancel order</button>" not in row(refillable)
    assert "Cancel order</button>" in row(cancelable) and "Refill</button>" not in row(cancelable)
    assert "<button" not in row(neither)
    assert 'status-in-progress">In progress</span>' in row(cancelable)
    live = reverse("support:ticket_orders", args=[ticket.pk])
    assert f'hx-get="{live}" hx-trigger="every 5s"' in html

    Order.objects.filter(pk=cancelable.pk).update(status="Completed")
    fragment = customer.get(live).content.decode()
    assert 'status-completed">Completed</span>' in re.search(
        rf'<tr id="ticket-order-{cancelable.pk}">(.*?)</tr>', fragment, re.S).group(1)
    assert "hx-get" not in fragment  # nothing moves any more: it stops asking


def test_the_live_orders_part_costs_the_same_queries_for_one_order_or_many(customer, alice,
                                                                           django_assert_num_queries):
    ticket = open_ticket(alice, order_ids=[OrderFactory(user=alice, status="Pending").pk])
    live = reverse("support:ticket_orders", args=[ticket.pk])
    with django_assert_num_queries(5):  # session, user, ticket, orders with services, refills
        customer.get(live)
    ticket.orders.add(*[OrderFactory(user=alice, status="Completed", service__refill=True) for _ in range(6)])
    with django_assert_num_queries(5):
        assert customer.get(live).content.decode().count("Refill</button>") == 6


def test_refill_from_the_ticket_page(customer, alice):
    order = OrderFactory(user=alice, status="Completed", service__refill=True)
    ticket = open_ticket(alice, order_ids=[order.pk])
    response = customer.post(reverse("support:ticket_order_refill", args=[ticket.pk, order.pk]))
    assert response.status_code == 302 and response["Location"] == page_of(ticket)
    assert Refill.objects.filter(order=order).count() == 1
    page = customer.get(page_of(ticket))
    assert f"Refill of order #{order.pk} requested" in text(page)
    assert "Refill</button>" not in page.content.decode()  # one open refill at a time

    again = customer.post(reverse("support:ticket_order_refill", args=[ticket.pk, order.pk]), follow=True)
    assert f"Order #{order.pk}: A refill of this order is already open." in text(again)
    assert Refill.objects.filter(order=order).count() == 1


def test_cancel_from_the_ticket_page_and_refused_where_it_no_longer_applies(customer, alice):
    running = OrderFactory(user=alice, status="In progress", service__cancel=True)
    finished = OrderFactory(user=alice, status="Completed", service__cancel=True)
    ticket = open_ticket(alice, topic="cancel", order_ids=[running.pk, finished.pk])

    done = customer.post(reverse("support:ticket_order_cancel", args=[ticket.pk, running.pk]), follow=True)
    assert f"Cancel of order #{running.pk} requested" in text(done)
    assert Order.objects.get(pk=running.pk).cancel_state == "requested"

    refused = customer.post(reverse("support:ticket_order_cancel", args=[ticket.pk, finished.pk]), follow=True)
    assert f"Order #{finished.pk}: This order can no longer be canceled." in text(refused)
    assert Order.objects.get(pk=finished.pk).cancel_state == ""


def test_order_actions_only_for_orders_on_that_ticket(customer, alice):
    ticket = open_ticket(alice)
    elsewhere = OrderFactory(user=alice, status="Completed", service__refill=True)
    assert customer.post(reverse("support:ticket_order_refill", args=[ticket.pk, elsewhere.pk])).status_code == 404
    assert not Refill.objects.exists()


# ---------------------------------------------------------------- notifications


def test_a_new_ticket_tells_every_staff_member_and_a_customer_message_tells_them_again(alice, carol, dave):
    ticket = open_ticket(alice)
    staff_url = reverse("staff_tickets:detail", args=[ticket.pk])
    new = Notification.objects.filter(kind="new_ticket", channel="inapp")
    assert sorted(new.values_list("recipient__username", flat=True)) == ["carol", "dave"]
    assert {(n.key, n.url) for n in new} == {(f"ticket:{ticket.pk}:new", staff_url)}
    assert not Notification.objects.filter(recipient=alice).exists()

    message = ticket_reply_by_customer(ticket_id=ticket.pk, customer=alice, body="Any news?")
    written = Notification.objects.filter(kind="ticket_message", channel="inapp")
    assert sorted(written.values_list("recipient__username", flat=True)) == ["carol", "dave"]
    assert {(n.key, n.url) for n in written} == {(f"ticket-message:{message.pk}", staff_url)}


def test_a_staff_reply_tells_the_customer_with_the_tickets_page(alice, carol):
    ticket = open_ticket(alice)
    message = ticket_reply_by_staff(ticket_id=ticket.pk, staff=carol, body="On it.")
    told = Notification.objects.get(recipient=alice, channel="inapp")
    assert (told.kind, told.key, told.url) == ("ticket_reply", f"ticket-message:{message.pk}", page_of(ticket))
    assert str(ticket.pk) in told.subject


def test_an_order_page_and_a_payment_page_lead_to_a_ticket_about_them(customer, alice, make_method, make_payment):
    order = OrderFactory(user=alice)
    link = f'{NEW}?order={order.pk}'
    assert link in customer.get(reverse("orders:detail", args=[order.pk])).content.decode()
    form = customer.get(link).content.decode()
    assert re.search(rf'value="{order.pk}"[^>]*checked|checked[^>]*value="{order.pk}"', form), form
    payment = make_payment(alice, make_method())
    link = f"{NEW}?payment={payment.reference}"
    assert link in customer.get(reverse("payments:detail", args=[payment.reference])).content.decode()
    assert customer.get(link).status_code == 200
