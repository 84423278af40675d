"""Injected faults: each kind's effect, whether the action was performed, and how faults are consumed."""

import time
from decimal import Decimal

import pytest
import requests

from sandbox import faults
from sandbox.catalog import ensure_catalog
from sandbox.models import SandboxAccount, SandboxFault, SandboxOrder
from sandbox.services import create_account
from tests.waiting import live_server_idle, wait_until

from .conftest import API_PATH

LINK = "https://instagram.com/p/abc"
ADD = {"action": "add", "service": 1, "link": LINK, "quantity": 1000}


@pytest.fixture
def post(client, account):
    def send(**fields):
        return client.post(API_PATH, {"key": account.api_key, **fields})

    return send


@pytest.mark.django_db
@pytest.mark.parametrize("kind, status", [("html_500", 500), ("html_502", 502)])
def test_html_error_faults_answer_html_and_do_nothing(post, account, kind, status):
    faults.inject(kind, action="add")
    response = post(**ADD)
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert b"<html>" in response.content
    assert not SandboxOrder.objects.exists()
    assert SandboxAccount.objects.get(pk=account.pk).balance == Decimal("100")


@pytest.mark.django_db
def test_broken_json_performs_the_add_then_answers_something_that_is_not_json(post, account):
    faults.inject("broken_json", action="add")
    response = post(**ADD)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert response.content == b'{"order": %d' % SandboxOrder.objects.get().pk
    assert SandboxOrder.objects.count() == 1
    assert SandboxAccount.objects.get(pk=account.pk).balance == Decimal("99.10000")


@pytest.mark.django_db
def test_refuse_answers_an_error_at_200_without_doing_anything(post):
    faults.inject("refuse", action="add")
    assert post(**ADD).json() == {"error": "Not enough funds on balance"}
    assert not SandboxOrder.objects.exists()


@pytest.mark.django_db
def test_refuse_says_the_message_it_was_given(post):
    faults.inject("refuse", message="Spam protection, wait 7 seconds")
    assert post(action="balance").json() == {"error": "Spam protection, wait 7 seconds"}


@pytest.mark.django_db
def test_slow_performs_the_action_then_waits_before_answering(post):
    faults.inject("slow", action="add", seconds=0.3)
    started = time.monotonic()
    answer = post(**ADD).json()
    assert time.monotonic() - started >= 0.3
    assert answer == {"order": SandboxOrder.objects.get().pk}


@pytest.mark.django_db
def test_drop_through_the_test_client_raises_after_performing_the_action(post):
    faults.inject("drop", action="add")
    response = post(**ADD)
    with pytest.raises(ConnectionAbortedError):
        b"".join(response.streaming_content)
    assert SandboxOrder.objects.count() == 1


@pytest.mark.django_db
def test_a_fault_for_one_action_leaves_other_actions_alone(post):
    faults.inject("html_500", action="add")
    assert post(action="balance").status_code == 200
    assert post(**ADD).status_code == 500


@pytest.mark.django_db
def test_a_fault_hits_as_many_requests_as_its_times_then_stops(post):
    faults.inject("html_502", times=2)
    codes = [post(action="balance").status_code for _ in range(3)]
    assert codes == [502, 502, 200]


@pytest.mark.django_db
def test_the_oldest_matching_fault_is_consumed_first(post):
    faults.inject("html_500", action="balance")
    faults.inject("html_502")
    assert [post(action="balance").status_code for _ in range(3)] == [500, 502, 200]


@pytest.mark.django_db
def test_a_fault_also_hits_a_request_with_a_bad_key(client, catalog):
    faults.inject("html_500")
    assert client.post(API_PATH, {"key": "nope", "action": "balance"}).status_code == 500


@pytest.mark.django_db
def test_clear_removes_every_queued_fault(post):
    faults.inject("html_500", times=5)
    faults.clear()
    assert post(action="balance").status_code == 200
    assert not SandboxFault.objects.exists()


@pytest.mark.django_db
def test_an_unknown_fault_kind_is_refused_when_injected():
    with pytest.raises(ValueError, match="unknown sandbox fault kind"):
        faults.inject("teapot")


@pytest.fixture
def live_account(live_server, settings):
    settings.SANDBOX_ORDER_SECONDS = 0
    ensure_catalog()
    return create_account(name="live", balance="100")


@pytest.mark.django_db(transaction=True)
def test_drop_over_http_breaks_the_connection_fast_instead_of_hanging(live_server, live_account):
    faults.inject("drop", action="add")
    started = time.monotonic()
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        requests.post(live_server.url + API_PATH, data={"key": live_account.api_key, **ADD}, timeout=5)
    assert time.monotonic() - started < 2
    assert SandboxOrder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_normally_after_a_dropped_connection(live_server, live_account):
    faults.inject("drop")
    url = live_server.url + API_PATH
    with requests.Session() as session:
        with pytest.raises(requests.exceptions.RequestException):
            session.post(url, data={"key": live_account.api_key, "action": "services"}, timeout=5)
        answer = session.post(url, data={"key": live_account.api_key, "action": "balance"}, timeout=5)
    assert answer.json() == {"balance": "100.00000", "currency": "USD"}


@pytest.mark.django_db(transaction=True)
def test_slow_over_http_trips_a_short_read_timeout(live_server, live_account):
    faults.inject("slow", seconds=0.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(live_server.url + API_PATH, data={"key": live_account.api_key, **ADD}, timeout=(2, 0.2))
    wait_until(live_server_idle, what="the slow answer to finish")
    assert SandboxOrder.objects.count() == 1  # the sandbox took the order the client gave up on


@pytest.mark.django_db(transaction=True)
def test_html_500_over_http_is_a_real_500(live_server, live_account):
    faults.inject("html_500")
    response = requests.post(
        live_server.url + API_PATH, data={"key": live_account.api_key, "action": "balance"}
    )
    assert (response.status_code, response.headers["Content-Type"][:9]) == (500, "text/html")
