"""The panel's smmapi client against the sandbox over real HTTP: every action, every type, every fault.

These prove the two halves agree on the wire: what the sandbox answers, the client parses, and each way
the sandbox can fail maps to the error kind the panel acts on.
"""

import socket
import time
from decimal import Decimal

import pytest

from sandbox import faults
from sandbox.catalog import ensure_catalog
from sandbox.models import SandboxAccount, SandboxOrder, SandboxService
from sandbox.services import create_account
from smmapi import (
    Ambiguous,
    Client,
    ItemError,
    NotSent,
    OrderStatus,
    ProviderRefused,
    RefillStatus,
    ServiceType,
    Transport,
)
from tests.waiting import live_server_idle, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

API_PATH = "/sandbox/api/v2"
LINK = "https://instagram.com/p/abc"

# One valid `add` per type the sandbox sells (its catalog covers them all), as the panel would send it.
FIELDS_BY_TYPE = {
    "Default": {"quantity": 100},
    "Package": {},
    "Custom Comments": {"comments": [f"Great {n}" for n in range(10)]},
    "Custom Comments Package": {"comments": ["one", "two"]},
    "Web Traffic": {"quantity": 1000, "country": "United States", "device": 4, "type_of_traffic": 3},
    "Poll": {"quantity": 100, "answer_number": 1},
    "Subscriptions": {"username": "cats", "min": 100, "max": 100, "posts": 2, "delay": 0},
    "Mentions": {"quantity": 100, "usernames": ["alice", "bob"]},
    "Mentions with Hashtags": {"quantity": 100, "usernames": ["alice"], "hashtags": ["#cats"]},
    "Mentions Custom List": {"usernames": [f"user{n}" for n in range(10)]},
    "Mentions Hashtag": {"quantity": 100, "hashtag": "cats"},
    "Mentions User Followers": {"quantity": 100, "username": "https://instagram.com/alice"},
    "Mentions Media Likers": {"quantity": 100, "media": "https://instagram.com/p/xyz"},
    "SEO": {"quantity": 100, "keywords": ["shoes", "boots"]},
    "Comment Likes": {"quantity": 100, "username": "commenter"},
    "Comment Replies": {"username": "commenter", "comments": "thanks!\nso true"},
}


@pytest.fixture
def account(live_server, settings):
    settings.SANDBOX_ORDER_SECONDS = 0
    ensure_catalog()
    return create_account(name="panel", balance="1000")


@pytest.fixture
def connect(live_server, account):
    clients = []

    def make(transport=None, key=None, read_timeout=5.0, url=None):
        client = Client(
            url or live_server.url + API_PATH,
            key or account.api_key,
            transport=transport or Transport(),
            connect_timeout=2.0,
            read_timeout=read_timeout,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(connect):
    return connect()


def fields_for(service) -> dict:
    """The type's sample fields, with quantities at the service's own minimum."""
    fields = dict(FIELDS_BY_TYPE[service.type_raw])
    for name in ("quantity", "min", "max"):
        if name in fields:
            fields[name] = service.min
    return fields


def place(api, service_id=1, link=LINK, **fields) -> str:
    return api.add(service_id, link, **(fields or {"quantity": 100}))


def test_services_are_all_understood_by_the_client(api):
    listed = api.services()
    assert not listed.skipped
    assert len(listed) == SandboxService.objects.count()
    assert ServiceType.OTHER not in {service.type for service in listed}
    first = listed.by_id()["1"]
    assert (first.rate, first.min, first.max, first.refill, first.cancel, first.dripfeed) == (
        Decimal("0.90"),
        50,
        10000,
        True,
        True,
        True,
    )
    assert listed.by_id()["3"].name == "Likes <script>alert(1)</script> [HQ]"


def test_every_listed_type_has_a_client_add_case():
    assert set(FIELDS_BY_TYPE) == {str(t) for t in ServiceType if t is not ServiceType.OTHER}


def test_the_client_can_place_an_order_of_every_type_the_sandbox_lists(api):
    placed = {}
    for service in api.services():
        link = "" if service.type == ServiceType.SUBSCRIPTIONS else LINK
        placed[service.service_id] = api.add(service.service_id, link, **fields_for(service))
    assert len(placed) == SandboxService.objects.count()
    assert set(placed.values()) == {str(pk) for pk in SandboxOrder.objects.values_list("pk", flat=True)}
    answers = api.statuses(placed.values())
    assert {info.status for info in answers.values()} == {OrderStatus.COMPLETED}


def test_add_returns_the_order_id_as_text_and_status_reads_it_back(api, account):
    order = place(api, quantity=1000, link=LINK + "/partial")
    info = api.status(order)
    assert order == str(SandboxOrder.objects.get().pk)
    assert (info.order_id, info.status, info.charge, info.remains, info.currency) == (
        order,
        OrderStatus.PARTIAL,
        Decimal("0.90000"),
        333,
        "USD",
    )
    assert info.start_count == SandboxOrder.objects.get().start_count


def test_a_refused_add_is_provider_refused_with_the_sandbox_message(api):
    with pytest.raises(ProviderRefused, match="Quantity less than minimal 50") as refused:
        place(api, quantity=10)
    assert not refused.value.is_provider_side


def test_statuses_batches_more_than_one_hundred_ids_and_keeps_per_item_errors(api):
    orders = [place(api), place(api, link=LINK + "/cancel")]
    unknown = [str(500000 + n) for n in range(248)]
    answers = api.statuses(orders + unknown)
    assert len(answers) == 250
    assert answers[orders[0]].status == OrderStatus.COMPLETED
    assert answers[orders[1]].status == OrderStatus.CANCELED
    assert answers[unknown[-1]] == ItemError("Incorrect order ID")


def test_another_accounts_order_is_a_per_item_error(api, connect):
    stranger = create_account(name="stranger", balance="10")
    theirs = place(connect(key=stranger.api_key))
    assert api.statuses([theirs]) == {theirs: ItemError("Incorrect order ID")}
    with pytest.raises(ProviderRefused, match="Incorrect order ID"):
        api.status(theirs)


def test_refill_refills_and_their_statuses(api):
    good, rejected, fixed = place(api), place(api, link=LINK + "/norefill"), place(api, service_id=2)
    single = api.refill(good)
    many = api.refills([rejected, fixed, "999999"] + [str(600000 + n) for n in range(120)])
    assert len(many) == 123
    assert many[fixed] == ItemError("Refill is not available for this order")
    assert many["999999"] == ItemError("Incorrect order ID")
    assert api.refill_status(single).status == RefillStatus.COMPLETED
    statuses = api.refill_statuses([single, many[rejected], "999999"])
    assert statuses[single].status == RefillStatus.COMPLETED
    assert statuses[many[rejected]].status == RefillStatus.REJECTED
    assert statuses["999999"] == ItemError("Refill not found")


def test_cancel_accepts_running_orders_and_reports_per_order_errors(api, settings):
    settings.SANDBOX_ORDER_SECONDS = 60
    running, fixed = place(api), place(api, service_id=2)
    answer = api.cancel([running, fixed, "999999"])
    assert answer == {
        running: True,
        fixed: ItemError("Order cannot be canceled"),
        "999999": ItemError("Incorrect order ID"),
    }
    assert api.status(running).status == OrderStatus.CANCELED


def test_balance_follows_charges_and_refunds(api, account):
    before = api.balance()
    order = place(api, quantity=1000, link=LINK + "/cancel")
    api.status(order)
    assert before.amount == api.balance().amount == Decimal("1000")
    assert before.currency == "USD"
    place(api, quantity=1000)
    assert api.balance().amount == Decimal("999.10000")


@pytest.mark.parametrize(
    "transport",
    [
        Transport(method="GET"),
        Transport(body="json"),
        Transport(key_field="api"),
        Transport(key_field="api_key"),
        Transport(method="GET", key_field="api_key"),
    ],
)
def test_every_transport_variant_works_against_the_sandbox(connect, transport):
    api = connect(transport=transport)
    order = api.add(5, LINK, comments=[f"Nice {n}" for n in range(10)])
    assert api.status(order).status == OrderStatus.COMPLETED
    assert api.cancel([order]) == {order: ItemError("Order cannot be canceled")}
    assert api.balance().amount == Decimal("999.92000")


def test_a_wrong_key_is_provider_refused_and_provider_side(connect):
    with pytest.raises(ProviderRefused, match="Invalid API key") as refused:
        connect(key="wrong").balance()
    assert refused.value.is_provider_side


@pytest.mark.parametrize("kind, status", [("html_500", 500), ("html_502", 502)])
def test_an_html_error_page_is_ambiguous(api, kind, status):
    faults.inject(kind, action="add")
    with pytest.raises(Ambiguous) as ambiguous:
        place(api)
    assert ambiguous.value.http_status == status


def test_broken_json_after_a_real_add_is_ambiguous(api):
    faults.inject("broken_json", action="add")
    with pytest.raises(Ambiguous):
        place(api)
    assert SandboxOrder.objects.count() == 1  # the order exists: resending would double it


def test_a_slow_answer_past_the_read_timeout_is_ambiguous(connect):
    faults.inject("slow", action="add", seconds=0.6)
    started = time.monotonic()
    with pytest.raises(Ambiguous):
        place(connect(read_timeout=0.2))
    assert time.monotonic() - started < 0.6
    wait_until(live_server_idle, what="the sandbox to finish its slow answer")  # before the flush


def test_a_dropped_connection_is_ambiguous_and_fast(api):
    faults.inject("drop", action="add")
    started = time.monotonic()
    with pytest.raises(Ambiguous):
        place(api)
    assert time.monotonic() - started < 2
    assert SandboxOrder.objects.count() == 1


def test_a_refusal_fault_is_provider_refused_about_the_providers_balance(api, account):
    faults.inject("refuse", action="add")
    with pytest.raises(ProviderRefused, match="Not enough funds on balance") as refused:
        place(api)
    assert refused.value.is_provider_side
    assert not SandboxOrder.objects.exists()
    assert SandboxAccount.objects.get(pk=account.pk).balance == Decimal("1000")


def test_a_fault_on_a_batched_call_is_ambiguous_and_the_next_call_recovers(api):
    order = place(api)
    ids = [order] + [str(700000 + n) for n in range(150)]
    faults.inject("html_502", action="status")
    with pytest.raises(Ambiguous) as failed:
        api.statuses(ids)
    assert failed.value.partial == {}
    assert api.statuses(ids)[order].status == OrderStatus.COMPLETED


def test_a_closed_port_is_not_sent(connect):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NotSent):
        connect(url=f"http://127.0.0.1:{port}{API_PATH}").balance()
