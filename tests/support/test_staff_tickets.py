"""Staff's tickets under /staff/tickets/: the list's filters and search in a constant number of queries, a
ticket's page with the whole thread and what the customer attached, replies and internal notes, status and
assignment, each with its audit row, and who may do what."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from core.models import AuditEntry
from support.models import Notification, Ticket, TicketMessage
from support.services import TicketRefused, ticket_open, ticket_reply_by_staff, ticket_update
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

LIST = reverse("staff_tickets:list")


def detail(ticket):
    return reverse("staff_tickets:detail", args=[ticket.pk])


def reply(ticket):
    return reverse("staff_tickets:reply", args=[ticket.pk])


def update(ticket):
    return reverse("staff_tickets:update", args=[ticket.pk])


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace("&#x27;", "'")


def listed(client, **params) -> list[int]:
    """The IDs of the tickets the list shows for these filters, in its order."""
    html = client.get(LIST, params).content.decode()
    return [int(pk) for pk in re.findall(r'<tr id="ticket-(\d+)"', html)]


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


def make_ticket(customer, subject="Help", body="Hello", topic="other", **fields):
    return ticket_open(customer=customer, subject=subject, topic=topic, body=body, **fields)


# ---------------------------------------------------------------- the list


def test_the_list_filters_by_status_topic_assignment_and_unread(staff, alice, bob, carol, dave):
    mine = make_ticket(alice, topic="order")
    ticket_update(ticket_id=mine.pk, staff=carol, assigned_to=carol)
    daves = make_ticket(bob, topic="payment")
    ticket_update(ticket_id=daves.pk, staff=carol, assigned_to=dave, status="waiting")
    nobodys = make_ticket(alice, topic="refill")
    ticket_reply_by_staff(ticket_id=nobodys.pk, staff=carol, body="Done")  # answered, read by staff

    assert set(listed(staff)) == {mine.pk, daves.pk, nobodys.pk}
    assert listed(staff, status="waiting") == [daves.pk]
    assert listed(staff, status="answered") == [nobodys.pk]
    assert listed(staff, topic="order") == [mine.pk]
    assert listed(staff, assigned="me") == [mine.pk]
    assert listed(staff, assigned="nobody") == [nobodys.pk]
    assert set(listed(staff, unread="on")) == {mine.pk, daves.pk}
    assert listed(staff, status="open", topic="order", assigned="me", unread="on") == [mine.pk]
    assert set(listed(staff, status="bogus")) == {mine.pk, daves.pk, nobodys.pk}  # a bad filter is dropped


def test_the_list_marks_unread_tickets(staff, alice, carol):
    unread, read = make_ticket(alice, subject="Unread one"), make_ticket(alice, subject="Read one")
    Ticket.objects.filter(pk=read.pk).update(staff_unread=False)
    html = staff.get(LIST).content.decode()
    assert re.search(rf'<tr id="ticket-{unread.pk}" class="unread">', html)
    assert re.search(rf'<tr id="ticket-{read.pk}">', html)


def test_search_by_id_subject_message_text_and_customer(staff, alice, bob, carol):
    by_subject = make_ticket(alice, subject="Refund for instagram likes")
    by_message = make_ticket(alice, subject="Question", body="My TikTok views never started")
    by_bob = make_ticket(bob, subject="Another")
    ticket_reply_by_staff(ticket_id=by_bob.pk, staff=carol, body="Checked the provider ledger", internal=True)

    assert listed(staff, q="INSTAGRAM") == [by_subject.pk]
    assert listed(staff, q="tiktok views") == [by_message.pk]
    assert listed(staff, q="provider ledger") == [by_bob.pk]  # staff's notes are searched too
    assert listed(staff, q="bob") == [by_bob.pk]
    assert listed(staff, q="bob@example.com") == [by_bob.pk]
    assert set(listed(staff, q="alice")) == {by_subject.pk, by_message.pk}
    assert listed(staff, q=f"#{by_message.pk}") == [by_message.pk]
    assert listed(staff, q="nothing like this") == []


def test_a_ticket_with_many_matching_messages_is_listed_once(staff, alice):
    ticket = make_ticket(alice, body="refund please")
    for _ in range(3):
        TicketMessage.objects.create(ticket=ticket, author=alice, body="refund please, again")
    assert listed(staff, q="refund") == [ticket.pk]


def test_the_list_runs_a_constant_number_of_queries(staff, alice, bob, carol, dave, django_assert_max_num_queries):
    make_ticket(alice)
    with django_assert_max_num_queries(50) as one:
        staff.get(LIST, {"q": "help"})
    baseline = len(one.captured_queries)
    for i in range(12):
        ticket = make_ticket(bob if i % 2 else alice, order_ids=[OrderFactory(user=bob if i % 2 else alice).pk])
        ticket_update(ticket_id=ticket.pk, staff=carol, assigned_to=dave if i % 3 else carol)
    with django_assert_max_num_queries(baseline):
        assert len(listed(staff, q="help")) == 13


def test_the_list_pages_by_fifty(staff, alice):
    for _ in range(51):
        make_ticket(alice)
    assert len(listed(staff)) == 50
    assert len(listed(staff, page=2)) == 1


# ---------------------------------------------------------------- a ticket's page


def test_the_page_shows_the_thread_with_notes_marked_and_what_the_customer_attached(staff, alice, carol,
                                                                                   make_method, make_payment):
    order = OrderFactory(user=alice, status="In progress")
    payment = make_payment(alice, make_method())
    ticket = make_ticket(alice, topic="order", body="<i>first</i>", order_ids=[order.pk], payment_id=payment.pk)
    note = ticket_reply_by_staff(ticket_id=ticket.pk, staff=carol, body="looks like fraud", internal=True)
    html = staff.get(detail(ticket)).content.decode()
    assert "&lt;i&gt;first&lt;/i&gt;" in html
    assert re.search(rf'<article class="card message message-internal" id="message-{note.pk}">.*?internal note',
                     html, re.S)
    assert f'href="{reverse("orders:detail", args=[order.pk])}"' in html
    assert f'href="{reverse("staff_payments:detail", args=[payment.pk])}"' in html
    assert 'id="reply-form"' in html and 'id="update-form"' in html
    assert not Ticket.objects.get(pk=ticket.pk).staff_unread  # opening it read it


def test_the_ticket_page_is_a_404_for_no_such_ticket(staff):
    assert staff.get(reverse("staff_tickets:detail", args=[999])).status_code == 404


def test_a_customer_is_refused_the_staff_pages(client, alice):
    ticket = make_ticket(alice)
    client.force_login(alice)
    assert client.get(LIST).status_code == 403
    assert client.get(detail(ticket)).status_code == 403
    assert client.post(reply(ticket), {"body": "I am staff now"}).status_code == 403
    assert client.post(update(ticket), {"status": "closed"}).status_code == 403
    assert ticket.messages.count() == 1 and Ticket.objects.get(pk=ticket.pk).status == "open"


# ---------------------------------------------------------------- replies and notes


def test_a_staff_reply_answers_the_ticket_marks_it_unread_for_the_customer_and_is_audited(staff, alice, carol):
    ticket = make_ticket(alice)
    response = staff.post(reply(ticket), {"body": "We refilled it."})
    assert response.status_code == 302 and response.url == reverse("staff_tickets:detail", args=[ticket.pk])
    ticket.refresh_from_db()
    assert (ticket.status, ticket.customer_unread, ticket.staff_unread) == ("answered", True, False)
    message = ticket.messages.last()
    assert (message.body, message.author, message.internal) == ("We refilled it.", carol, False)
    entry = AuditEntry.objects.get(action="ticket.reply")
    assert (entry.actor, entry.target_type, entry.target_id) == (carol, "ticket", str(ticket.pk))
    assert entry.before == {"status": "open"} and entry.after["status"] == "answered"
    told = Notification.objects.get(recipient=alice, kind="ticket_reply", channel="inapp")
    assert told.url == reverse("support:ticket", args=[ticket.pk])
    assert "Reply sent to alice; the ticket is Answered." in text(staff.get(detail(ticket)))


def test_staff_pick_another_status_with_their_reply(staff, alice):
    ticket = make_ticket(alice)
    staff.post(reply(ticket), {"body": "Send us the link, please.", "status": "waiting"})
    assert Ticket.objects.get(pk=ticket.pk).status == "waiting"


def test_an_internal_note_changes_nothing_for_the_customer(staff, alice):
    ticket = make_ticket(alice)
    before = Ticket.objects.get(pk=ticket.pk)
    staff.post(reply(ticket), {"body": "Checked upstream: delayed.", "internal": "on"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.customer_unread, ticket.last_message_at) == ("open", False, before.last_message_at)
    assert ticket.messages.last().internal
    assert not Notification.objects.filter(kind="ticket_reply").exists()
    assert AuditEntry.objects.get(action="ticket.reply").after["internal"] is True


@pytest.mark.parametrize(("body", "message"), [("", "Write a message."), ("x" * 5001, "at most 5,000 characters")])
def test_an_empty_or_too_long_staff_reply_is_refused_and_nothing_is_kept(staff, alice, body, message):
    ticket = make_ticket(alice)
    response = staff.post(reply(ticket), {"body": body, "status": "closed"})
    assert response.status_code == 200 and message in text(response)
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.messages.count() == 1
    assert not AuditEntry.objects.filter(action="ticket.reply").exists()
    assert not Notification.objects.filter(kind="ticket_reply").exists()


def test_support_staff_may_reply_and_update(client, alice, dave):
    ticket = make_ticket(alice)
    client.force_login(dave)
    client.post(reply(ticket), {"body": "Hi, Dave from support."})
    client.post(update(ticket), {"status": "closed", "assigned_to": str(dave.pk)})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assigned_to) == ("closed", dave)
    assert set(AuditEntry.objects.filter(actor=dave).values_list("action", flat=True)) == {"ticket.reply",
                                                                                           "ticket.update"}


def test_a_staff_member_without_the_ticket_permission_is_refused_by_the_use_case_too(alice):
    nobody = User.objects.create_user("ex-staff", password="x", is_staff=True)
    ticket = make_ticket(alice)
    with pytest.raises(TicketRefused):
        ticket_reply_by_staff(ticket_id=ticket.pk, staff=nobody, body="hi")
    with pytest.raises(TicketRefused):
        ticket_update(ticket_id=ticket.pk, staff=nobody, status="closed")
    assert ticket.messages.count() == 1


# ---------------------------------------------------------------- status and assignment


def test_assign_to_a_staff_member_then_to_nobody_each_audited(staff, alice, carol, dave):
    ticket = make_ticket(alice)
    staff.post(update(ticket), {"status": "open", "assigned_to": str(dave.pk)})
    assert Ticket.objects.get(pk=ticket.pk).assigned_to == dave
    entry = AuditEntry.objects.get(action="ticket.update")
    assert (entry.actor, entry.before, entry.after) == (carol, {"assigned_to": None}, {"assigned_to": "dave"})

    response = staff.post(update(ticket), {"status": "open", "assigned_to": ""}, follow=True)
    assert Ticket.objects.get(pk=ticket.pk).assigned_to is None
    assert "assigned to nobody" in text(response)
    assert AuditEntry.objects.filter(action="ticket.update").count() == 2


def test_a_status_change_is_audited_and_nothing_changed_writes_no_row(staff, alice, carol):
    ticket = make_ticket(alice)
    staff.post(update(ticket), {"status": "closed", "assigned_to": ""})
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
    entry = AuditEntry.objects.get(action="ticket.update")
    assert (entry.before, entry.after) == ({"status": "open"}, {"status": "closed"})

    response = staff.post(update(ticket), {"status": "closed", "assigned_to": ""}, follow=True)
    assert "Nothing changed." in text(response)
    assert AuditEntry.objects.filter(action="ticket.update").count() == 1


def test_a_ticket_cannot_be_assigned_to_a_customer_or_a_former_staff_member(staff, alice, bob):
    ticket = make_ticket(alice)
    former = User.objects.create_user("former", password="x", is_staff=True, is_active=False)
    for user in (bob, former):
        response = staff.post(update(ticket), {"status": "open", "assigned_to": str(user.pk)}, follow=True)
        assert "Assign the ticket to an active staff member, or to nobody." in text(response)
        with pytest.raises(TicketRefused, match="active staff member"):
            ticket_update(ticket_id=ticket.pk, staff=User.objects.get(username="carol"), assigned_to=user)
    assert Ticket.objects.get(pk=ticket.pk).assigned_to is None
    assert not AuditEntry.objects.filter(action="ticket.update").exists()


def test_the_assignment_offers_active_staff_only(staff, alice, bob, dave):
    User.objects.create_user("former", password="x", is_staff=True, is_active=False)
    html = staff.get(detail(make_ticket(alice))).content.decode()
    select = re.search(r'<select name="assigned_to".*?</select>', html, re.S).group(0)
    assert ">Nobody<" in select and ">carol<" in select and ">dave<" in select
    assert ">bob<" not in select and ">former<" not in select and ">alice<" not in select
