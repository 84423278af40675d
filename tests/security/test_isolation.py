"""Isolation (issue #16): customer bob tries alice's IDs on every customer URL and every /api/v2 action, and
gets "not found" every time: 404 on a page (never 403, which would tell him the ID exists, and never her
data), and on the API the very answer an ID that exists nowhere gets. Nothing of hers changes.

The customer URLs with a parameter are read from the URLconf: one added later without a case here fails
`test_every_customer_url_with_a_parameter_has_an_isolation_case`, naming it. Staff pages refuse a customer
whatever the ID, and a Support-role staff member (dave) is refused the Admin-only actions on real objects."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import LedgerEntry, User
from accounts.services import api_key_rotate, wallet_deposit
from backoffice.roles import ROLES, SUPPORT
from catalog.models import CustomerRate
from core.models import AuditEntry, StaffNotice
from orders.models import Order, Refill
from payments.models import Payment, PaymentMethod
from resellerapi.api import ACTIONS
from support.models import Notification, Ticket, TicketMessage
from support.services import ticket_open
from tests.factories import OrderFactory, ServiceFactory
from tests.urlconf import all_patterns

pytestmark = pytest.mark.django_db

UNKNOWN_ID = 987654321
UNKNOWN_REFERENCE = "00000000-0000-4000-8000-000000000000"
ALICE_LINK = "https://instagram.com/p/alice-only"
ALICE_SUBJECT = "Alice asks about her private order"
ALICE_NOTE = "Alice's order finished privately"

# Paths whose IDs are not a customer's (staff and the admin check roles; the sandbox is a stand-in provider and
# gateway; webhooks are a gateway's, verified by signature).
NOT_CUSTOMER_PREFIXES = ("staff/", "admin/", "sandbox/")


# ---------------------------------------------------------------- the URLconf


def takes_parameters(route: str) -> bool:
    return "<" in route  # a converter (<int:pk>, <uuid:reference>, <uidb64>) or a named regex group


def customer_routes_with_parameters() -> list[str]:
    return sorted({route for route, _ in all_patterns() if takes_parameters(route)
                   and not route.startswith(NOT_CUSTOMER_PREFIXES) and "webhook" not in route})


# ---------------------------------------------------------------- alice's world, and bob's


@pytest.fixture
def world(alice, bob, make_method, make_payment, no_broker):
    wallet_deposit(user=alice, amount=Decimal("20"))
    wallet_deposit(user=bob, amount=Decimal("20"))
    service = ServiceFactory(refill=True, cancel=True, provider_service__refill=True, provider_service__cancel=True)
    done = OrderFactory(user=alice, service=service, status=Order.Status.COMPLETED, link=ALICE_LINK,
                        request_id="alice-request-1")
    running = OrderFactory(user=alice, service=service, status=Order.Status.IN_PROGRESS, link=ALICE_LINK)
    refilled = OrderFactory(user=alice, service=service, status=Order.Status.COMPLETED, link=ALICE_LINK)
    refill = Refill.objects.create(order=refilled)
    bobs_order = OrderFactory(user=bob, service=service, status=Order.Status.COMPLETED, link="https://x.com/bob")
    method = make_method()
    payment = make_payment(alice, method, gateway_ref="alice-gateway-ref")
    ticket = ticket_open(customer=alice, subject=ALICE_SUBJECT, topic="order", body="Where are they?",
                         order_ids=[done.pk, running.pk])
    bobs_ticket = ticket_open(customer=bob, subject="Bob's own question", topic="order", body="Hello",
                              order_ids=[bobs_order.pk])
    notification = Notification.objects.create(
        channel=Notification.Channel.INAPP, recipient=alice, recipient_key=f"user:{alice.pk}",
        kind=Notification.Kind.ORDER_FINISHED, key=f"order:{done.pk}:finished", subject=ALICE_NOTE,
        url=reverse("orders:detail", args=[done.pk]), status=Notification.Status.SENT)
    return SimpleNamespace(alice=alice, bob=bob, service=service, done=done, running=running, refilled=refilled,
                           refill=refill, bobs_order=bobs_order, method=method, payment=payment, ticket=ticket,
                           bobs_ticket=bobs_ticket, notification=notification)


def alices_state(w) -> tuple:
    """What bob must not be able to change: her orders, refills, ticket, notification, money."""
    return (
        list(Order.objects.filter(user=w.alice).order_by("pk").values_list(
            "pk", "status", "state", "cancel_state", "refunded")),
        list(Refill.objects.filter(order__user=w.alice).order_by("pk").values_list("pk", "status")),
        list(Ticket.objects.filter(customer=w.alice).values_list("pk", "status", "customer_unread", "staff_unread")),
        TicketMessage.objects.filter(ticket__customer=w.alice).count(),
        list(Notification.objects.filter(recipient=w.alice).values_list("pk", "read_at")),
        list(Payment.objects.filter(user=w.alice).values_list("pk", "status", "credited")),
        User.objects.get(pk=w.alice.pk).balance, LedgerEntry.objects.filter(user=w.alice).count(),
    )


def shows_nothing_of_alices(body: str, w) -> bool:
    return all(secret not in body for secret in (ALICE_LINK, ALICE_SUBJECT, ALICE_NOTE, str(w.payment.reference)))


# ---------------------------------------------------------------- the table: one case per customer URL


@dataclass
class Probe:
    """One request: `kwargs(world)` for the URL; `unknown` the same with IDs that exist nowhere; `owner` what
    alice would send to reach the same thing (`kwargs` unless given)."""

    method: str
    kwargs: Callable
    unknown: Callable
    owner: Callable | None = None
    data: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    query: str = ""


HTMX_LIVE = {"headers": {"HX-Request": "true"}, "query": "?live=1"}


def order(w):
    return {"pk": w.done.pk}


def unknown_order(w):
    return {"pk": UNKNOWN_ID}


def payment(w):
    return {"reference": w.payment.reference}


def unknown_payment(w):
    return {"reference": UNKNOWN_REFERENCE}


def ticket(w):
    return {"pk": w.ticket.pk}


def unknown_ticket(w):
    return {"pk": UNKNOWN_ID}


def on_alices_ticket(w):
    return {"pk": w.ticket.pk, "order_pk": w.done.pk}


def alices_order_on_bobs_ticket(w):
    return {"pk": w.bobs_ticket.pk, "order_pk": w.done.pk}


def unknown_ticket_order(w):
    return {"pk": w.bobs_ticket.pk, "order_pk": UNKNOWN_ID}


def running_on_alices_ticket(w):
    return {"pk": w.ticket.pk, "order_pk": w.running.pk}


def running_on_bobs_ticket(w):
    return {"pk": w.bobs_ticket.pk, "order_pk": w.running.pk}


CASES: dict[str, list[Probe]] = {
    "orders/<int:pk>/": [
        Probe("get", order, unknown_order),
        Probe("get", order, unknown_order, **HTMX_LIVE),  # the live fragment
    ],
    "orders/<int:pk>/cancel/": [Probe("post", lambda w: {"pk": w.running.pk}, unknown_order)],
    "orders/<int:pk>/refill/": [Probe("post", order, unknown_order)],
    "payments/<uuid:reference>/": [
        Probe("get", payment, unknown_payment),
        Probe("get", payment, unknown_payment, query="?returned=1"),  # where the gateway sends the customer back
        Probe("get", payment, unknown_payment, query="?canceled=1"),
    ],
    "payments/<uuid:reference>/live/": [Probe("get", payment, unknown_payment)],
    "tickets/<int:pk>/": [Probe("get", ticket, unknown_ticket)],
    "tickets/<int:pk>/reply/": [Probe("post", ticket, unknown_ticket, data={"body": "bob was here"})],
    "tickets/<int:pk>/orders/": [Probe("get", ticket, unknown_ticket, headers={"HX-Request": "true"})],
    "tickets/<int:pk>/orders/<int:order_pk>/refill/": [
        Probe("post", on_alices_ticket, unknown_ticket_order),
        Probe("post", alices_order_on_bobs_ticket, unknown_ticket_order, owner=on_alices_ticket),
    ],
    "tickets/<int:pk>/orders/<int:order_pk>/cancel/": [
        Probe("post", running_on_alices_ticket, unknown_ticket_order),
        Probe("post", running_on_bobs_ticket, unknown_ticket_order, owner=running_on_alices_ticket),
    ],
}

# Parameters that are not an object's ID, each checked by a test of its own below.
OTHER_CASES = {"accounts/password/reset/<uidb64>/<token>/"}


def url_for(route: str, kwargs: dict) -> str:
    pattern = next(pattern for full, pattern in all_patterns() if full == route)
    namespace = {"orders/": "orders", "payments/": "payments", "tickets/": "support"}
    prefix = next((name for start, name in namespace.items() if route.startswith(start)), None)
    return reverse(f"{prefix}:{pattern.name}" if prefix else pattern.name, kwargs=kwargs)


def send(client, route: str, probe: Probe, kwargs: dict):
    url = url_for(route, kwargs) + probe.query
    return getattr(client, probe.method)(url, probe.data, headers=probe.headers)


def test_every_customer_url_with_a_parameter_has_an_isolation_case():
    routes = customer_routes_with_parameters()
    assert len(routes) >= 10  # the walk finds them (an empty walk would pass anything)
    uncovered = [route for route in routes if route not in CASES and route not in OTHER_CASES]
    assert not uncovered, f"customer URLs with no isolation case in tests/security/test_isolation.py: {uncovered}"
    stale = [route for route in (*CASES, *OTHER_CASES) if route not in routes]
    assert not stale, f"isolation cases for URLs that no longer exist: {stale}"


CASE_IDS = [(route, index) for route, probes in CASES.items() for index in range(len(probes))]


@pytest.mark.parametrize(("route", "index"), CASE_IDS, ids=[f"{route}#{index}" for route, index in CASE_IDS])
def test_bob_gets_not_found_for_alices_ids_on_every_customer_url(client, world, route, index):
    probe = CASES[route][index]
    before = alices_state(world)
    client.force_login(world.bob)

    response = send(client, route, probe, probe.kwargs(world))
    assert response.status_code == 404, (route, response.status_code)
    assert shows_nothing_of_alices(response.content.decode(), world)
    assert alices_state(world) == before, f"bob changed alice's data through {route}"

    unknown = send(client, route, probe, probe.unknown(world))
    assert unknown.status_code == 404  # the same answer as an ID that exists nowhere

    # Not a vacuous 404: the very same request is served to alice (a page, or an action's redirect back).
    client.force_login(world.alice)
    assert send(client, route, probe, (probe.owner or probe.kwargs)(world)).status_code in (200, 302)


def test_an_anonymous_visitor_is_sent_to_log_in_and_sees_nothing_of_alices(client, world):
    for route, probes in CASES.items():
        for probe in probes:
            response = send(client, route, probe, probe.kwargs(world))
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), route
    assert shows_nothing_of_alices(client.get(reverse("home")).content.decode(), world)


def test_alices_password_reset_link_cannot_be_made_from_bobs_own_token(client, world):
    """The reset link's uid is alice's, the token is one bob was mailed for his own account: refused."""
    uid = urlsafe_base64_encode(force_bytes(world.alice.pk))
    bobs_token = default_token_generator.make_token(world.bob)
    response = client.get(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": bobs_token}),
                          follow=True)
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert 'name="new_password1"' not in response.content.decode()
    response = client.post(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": "set-password"}),
                           {"new_password1": "bob-owns-alice-1", "new_password2": "bob-owns-alice-1"})
    world.alice.refresh_from_db()
    assert world.alice.check_password("alice-pass-123")


# ---------------------------------------------------------------- IDs carried in a form or a query


def test_the_lists_show_bob_only_his_own(client, world):
    client.force_login(world.bob)
    for name in ("orders:list", "orders:refills", "payments:history", "support:tickets", "notifications:list",
                 "dashboard", "transactions"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert shows_nothing_of_alices(response.content.decode(), world), name
    bell = client.get(reverse("notifications:bell"))
    assert bell.status_code == 200 and ALICE_NOTE not in bell.content.decode()
    searched = client.get(reverse("orders:list"), {"q": str(world.done.pk)})
    assert ALICE_LINK not in searched.content.decode()


def test_bob_cannot_mark_alices_notification_read(client, world):
    before = alices_state(world)
    client.force_login(world.bob)
    assert client.post(reverse("notifications:mark_read"), {"id": world.notification.pk}).status_code == 404
    assert client.post(reverse("notifications:mark_read"), {"id": UNKNOWN_ID}).status_code == 404
    client.post(reverse("notifications:mark_read"))  # "mark all read" marks bob's own only
    assert alices_state(world) == before


def test_a_new_ticket_link_with_alices_order_or_payment_prefills_nothing(client, world):
    client.force_login(world.bob)
    for query in ({"order": world.done.pk}, {"payment": str(world.payment.reference)}):
        response = client.get(reverse("support:ticket_new"), query)
        body = response.content.decode()
        assert response.status_code == 200
        assert shows_nothing_of_alices(body, world)
        initial = response.context["form"].initial
        assert not {"recent_orders", "order_ids", "payment"} & set(initial), initial


def test_bob_cannot_open_a_ticket_about_alices_order_or_payment(client, world):
    before = alices_state(world)
    tickets = Ticket.objects.count()
    client.force_login(world.bob)
    form = {"topic": "order", "subject": "Mine?", "body": "Please look"}

    def refusal(**fields):
        response = client.post(reverse("support:ticket_new"), form | fields)
        assert response.status_code == 200
        return response.context["form"].errors

    assert refusal(order_ids=str(world.done.pk)) == {
        key: [message.replace(str(UNKNOWN_ID), str(world.done.pk)) for message in messages]
        for key, messages in refusal(order_ids=str(UNKNOWN_ID)).items()}
    assert refusal(recent_orders=[str(world.done.pk)])  # the checkbox, forged
    alice_payment = refusal(payment=str(world.payment.pk))
    assert alice_payment and alice_payment == {
        key: [message.replace(str(UNKNOWN_ID), str(world.payment.pk)) for message in messages]
        for key, messages in refusal(payment=str(UNKNOWN_ID)).items()}
    assert Ticket.objects.count() == tickets
    assert alices_state(world) == before


def test_a_mass_order_sent_again_with_alices_batch_id_places_bobs_own_orders(client, world):
    """The batch ID makes each line's retry key, and a retry key is the customer's own."""
    from orders.mass import mass_place, new_batch_id

    batch_id = new_batch_id()
    placed = mass_place(user=world.alice, text=f"{world.service.pk} | {ALICE_LINK} | 100", batch_id=batch_id)
    assert len(placed.placed) == 1
    before = alices_state(world)
    client.force_login(world.bob)
    response = client.post(reverse("orders:mass"), {"text": f"{world.service.pk} | https://x.com/bob | 100",
                                                     "action": "place", "batch_id": batch_id})
    assert response.status_code == 200 and shows_nothing_of_alices(response.content.decode(), world)
    assert Order.objects.filter(user=world.bob, link="https://x.com/bob", quantity=100).count() == 1
    assert alices_state(world) == before


# ---------------------------------------------------------------- /api/v2


@pytest.fixture
def api(client, world):
    cache.clear()  # the rate limit counts per user ID, which repeat between tests
    key = api_key_rotate(user=world.bob)

    def call(action, **fields):
        response = client.post("/api/v2", {"key": key, "action": action, **fields})
        assert response.status_code == 200
        return response.json()

    yield call
    cache.clear()


def swap(answer, alice_id, unknown_id=UNKNOWN_ID):
    """An answer about the unknown ID as it would read about alice's: same shape, her ID in its place."""
    if isinstance(answer, dict):
        return {(alice_id if key == unknown_id else key): swap(value, alice_id, unknown_id)
                for key, value in answer.items()}
    if isinstance(answer, list):
        return [swap(item, alice_id, unknown_id) for item in answer]
    return alice_id if answer == unknown_id else answer


API_CASES: dict[str, list[Callable]] = {}


def api_case(action):
    def register(test):
        API_CASES.setdefault(action, []).append(test)
        return test

    return register


@api_case("status")
def status_of_one(api, w):
    assert api("status", order=w.done.pk) == api("status", order=UNKNOWN_ID) == {"error": "Incorrect order ID"}


@api_case("status")
def status_of_many(api, w):
    answer = api("status", orders=f"{w.bobs_order.pk},{w.done.pk},{w.running.pk},{UNKNOWN_ID}")
    assert answer[str(w.bobs_order.pk)]["status"] == "Completed"
    for alice_id in (w.done.pk, w.running.pk):
        assert answer[str(alice_id)] == answer[str(UNKNOWN_ID)] == {"error": "Incorrect order ID"}


@api_case("refill")
def refill_one(api, w):
    assert api("refill", order=w.done.pk) == api("refill", order=UNKNOWN_ID) == {"error": "Incorrect order ID"}


@api_case("refill")
def refill_many(api, w):
    answer = api("refill", orders=f"{w.done.pk},{UNKNOWN_ID}")
    assert answer == [{"order": w.done.pk, "refill": {"error": "Incorrect order ID"}},
                      {"order": UNKNOWN_ID, "refill": {"error": "Incorrect order ID"}}]


@api_case("refill_status")
def refill_status_one(api, w):
    assert api("refill_status", refill=w.refill.pk) == api("refill_status", refill=UNKNOWN_ID)
    assert "error" in api("refill_status", refill=w.refill.pk)


@api_case("refill_status")
def refill_status_many(api, w):
    answer = api("refill_status", refills=f"{w.refill.pk},{UNKNOWN_ID}")
    assert answer[0]["refill"] == w.refill.pk and "error" in answer[0]["status"]
    assert answer[0]["status"] == answer[1]["status"]


@api_case("cancel")
def cancel_many(api, w):
    assert api("cancel", orders=str(w.running.pk)) == swap(api("cancel", orders=str(UNKNOWN_ID)), w.running.pk)
    assert api("cancel", orders=str(w.running.pk)) == [{"order": w.running.pk,
                                                        "cancel": {"error": "Incorrect order ID"}}]


@api_case("cancel")
def cancel_one(api, w):
    assert api("cancel", order=str(w.running.pk)) == swap(api("cancel", order=str(UNKNOWN_ID)), w.running.pk)


@api_case("add")
def add_with_alices_request_id(api, w):
    """A retry key is the customer's own: bob's `add` with alice's request_id places a new order of his."""
    answer = api("add", service=w.service.pk, link="https://x.com/bob", quantity="100",
                 request_id=w.done.request_id)
    assert set(answer) == {"order"} and answer["order"] != w.done.pk
    assert Order.objects.get(pk=answer["order"]).user == w.bob


API_WITHOUT_IDS = {"services", "balance"}  # nothing of anybody else's to ask for


def test_every_api_action_has_an_isolation_case():
    uncovered = set(ACTIONS) - API_WITHOUT_IDS - set(API_CASES)
    assert not uncovered, f"/api/v2 actions with no isolation case: {sorted(uncovered)}"


API_IDS = [(action, index) for action, tests in API_CASES.items() for index in range(len(tests))]


@pytest.mark.parametrize(("action", "index"), API_IDS, ids=[f"{action}#{i}" for action, i in API_IDS])
def test_bob_gets_the_unknown_id_answer_for_alices_ids_on_every_api_action(api, world, action, index):
    before = alices_state(world)
    API_CASES[action][index](api, world)
    assert alices_state(world) == before


def test_the_api_balance_and_services_are_bobs_own(api, world):
    assert api("balance") == {"balance": "20.00000", "currency": "USD"}
    CustomerRate.objects.create(user=world.alice, service=world.service, rate=Decimal("0.10000"))
    rates = {item["service"]: item["rate"] for item in api("services")}
    assert rates[world.service.pk] == "2.00000"  # alice's own rate is hers


# ---------------------------------------------------------------- staff pages


def staff_routes():
    return [(route, pattern) for route, pattern in all_patterns() if route.startswith("staff/")]


def staff_url(route: str, w) -> str:
    """The staff URL with real IDs of alice's (or the panel's) objects for its parameters."""
    section = "methods" if route.startswith("staff/payments/methods/") else route.split("/")[1]
    ids = {"orders": w.done.pk, "customers": w.alice.pk, "tickets": w.ticket.pk, "services": w.service.pk,
           "providers": w.service.provider_service.provider_id, "categories": w.service.category_id,
           "notices": w.notice.pk, "payments": w.payment.pk, "methods": w.method.pk}

    def value(found):
        name = found.group(1)
        return {"kind": "orders", "rate_pk": str(w.rate.pk)}.get(name) or str(ids[section])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


@pytest.fixture
def staff_world(world, carol):
    world.rate = CustomerRate.objects.create(user=world.alice, service=world.service, rate=Decimal("1.50000"))
    world.notice = StaffNotice.objects.create(subject="Upstream is failing")
    return world


def test_staff_pages_give_a_customer_nothing_whatever_the_id(client, staff_world):
    w = staff_world
    before, audit = alices_state(w), AuditEntry.objects.count()
    client.force_login(w.bob)
    routes = staff_routes()
    assert len(routes) >= 25
    for route, _ in routes:
        url = staff_url(route, w)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (403, 404), (route, method, response.status_code)
            assert shows_nothing_of_alices(response.content.decode(), w), (route, method)
    assert alices_state(w) == before and AuditEntry.objects.count() == audit
    for url in (reverse("admin:index"), reverse("admin:orders_order_change", args=[w.done.pk]),
                reverse("admin:accounts_user_change", args=[w.alice.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url


def admin_only_forms(w) -> dict:
    """Something valid to post, so that only the role stands in the way (an Admin's post of it works)."""
    return {
        "staff/customers/<int:pk>/funds/": {"direction": "add", "amount": "5", "reason": "goodwill"},
        "staff/customers/<int:pk>/disable/": {"reason": "abuse"},
        "staff/customers/<int:pk>/discount/": {"percent": "50"},
        "staff/customers/<int:pk>/rates/": {"service": str(w.service.pk), "rate": "0.01",
                                            "below_cost_confirmed": "on"},
        "staff/payments/<int:pk>/approve/": {"note": "ok"},
        "staff/payments/<int:pk>/reject/": {"reason": "no"},
    }


def test_support_staff_are_refused_every_admin_only_action_on_real_objects(client, staff_world, dave, carol):
    w = staff_world
    forms = admin_only_forms(w)
    before = alices_state(w)
    audit, methods, rate = AuditEntry.objects.count(), list(PaymentMethod.objects.values()), w.rate.rate
    client.force_login(dave)
    refused = []
    for route, pattern in staff_routes():
        if pattern.callback.staff_permission in ROLES[SUPPORT]:
            continue
        response = client.post(staff_url(route, w), forms.get(route, {}))
        assert response.status_code == 403, (route, response.status_code)
        refused.append(route)
    assert set(forms) <= set(refused)
    assert alices_state(w) == before
    assert AuditEntry.objects.count() == audit
    assert list(PaymentMethod.objects.values()) == methods
    w.rate.refresh_from_db()
    assert w.rate.rate == rate
    # Nor through Django's admin: the Support role holds no model permissions there.
    response = client.post(reverse("admin:accounts_user_change", args=[w.alice.pk]), {"balance": "1000"})
    assert response.status_code == 403
    assert alices_state(w) == before

    # The same post from an Admin does what it says: the refusal above was the role's, not the form's.
    client.force_login(carol)
    client.post(staff_url("staff/customers/<int:pk>/funds/", w), forms["staff/customers/<int:pk>/funds/"])
    assert User.objects.get(pk=w.alice.pk).balance == before[6] + 5
