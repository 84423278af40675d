"""Transport variants (GET, JSON body, key field names) and keeping the API key secret:
never in an error's str/repr/args/chain/traceback, the client's repr, or any log record."""

import json
import logging
import traceback

import pytest
import requests
import responses
from smmapi_helpers import (
    KEY,
    TRANSPORTS,
    URL,
    closed_port,
    error_chain_text,
    json_answer,
    leaks_key,
    raw_http_server,
    sent_fields,
)

from smmapi import Ambiguous, Client, NotSent, ProviderRefused, SmmApiError, Transport

# ---------------------------------------------------------------- transport variants


def test_get_transport_puts_every_field_in_the_query_string(mocked):
    mocked.add(responses.GET, URL, json={"order": 5})
    with Client(URL, KEY, transport=Transport(method="GET")) as client:
        client.add(1, "https://x/p?a=1", quantity=100)
    request = mocked.calls[0].request
    assert request.method == "GET" and not request.body
    assert sent_fields(request) == {
        "key": KEY,
        "action": "add",
        "service": "1",
        "link": "https://x/p?a=1",
        "quantity": "100",
    }


def test_post_form_transport_sends_a_urlencoded_body(mocked, api_client):
    mocked.add(responses.POST, URL, json={"balance": "1"})
    api_client.balance()
    request = mocked.calls[0].request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "?" not in request.url
    assert sent_fields(request) == {"key": KEY, "action": "balance"}


def test_json_transport_sends_a_json_body(mocked):
    mocked.add(responses.POST, URL, json={"order": 5})
    with Client(URL, KEY, transport=Transport(body="json")) as client:
        client.add(1, "https://x", comments=["a", "b"])
    request = mocked.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "key": KEY,
        "action": "add",
        "service": "1",
        "link": "https://x",
        "comments": "a\nb",
    }


@pytest.mark.parametrize("key_field", ["api_key", "api"])
def test_the_key_goes_in_the_configured_field(mocked, key_field):
    mocked.add(responses.POST, URL, json={"balance": "1"})
    with Client(URL, KEY, transport=Transport(key_field=key_field)) as client:
        client.balance()
    fields = sent_fields(mocked.calls[0].request)
    assert fields[key_field] == KEY and "key" not in fields


def test_add_cannot_override_a_custom_key_field():
    with Client(URL, KEY, transport=Transport(key_field="token")) as client, pytest.raises(ValueError):
        client.add(1, "https://x", token="other")


@pytest.mark.parametrize("kwargs", [{"method": "PUT"}, {"body": "xml"}, {"key_field": ""}])
def test_transport_rejects_unknown_settings(kwargs):
    with pytest.raises(ValueError):
        Transport(**kwargs)


@pytest.mark.parametrize("url", ["provider.example/api/v2", "ftp://provider.example/api", ""])
def test_client_rejects_a_url_that_is_not_absolute_http(url):
    with pytest.raises(ValueError):
        Client(url, KEY)


def test_the_client_sends_its_user_agent_and_asks_for_json(mocked):
    mocked.add(responses.POST, URL, json={"balance": "1"})
    with Client(URL, KEY, user_agent="panel-test/9") as client:
        client.balance()
    headers = mocked.calls[0].request.headers
    assert headers["User-Agent"] == "panel-test/9" and headers["Accept"] == "application/json"


# ---------------------------------------------------------------- the key stays secret


def test_the_clients_repr_shows_the_host_and_never_the_key():
    client = Client(URL, KEY, transport=Transport(method="GET", key_field="api_key"))
    assert "provider.example" in repr(client)
    assert not leaks_key(repr(client)) and not leaks_key(str(client))


def _assert_no_leak(error: SmmApiError):
    assert not leaks_key(error_chain_text(error))
    assert not leaks_key("".join(traceback.format_exception(error)))
    assert error.__cause__ is None and error.__context__ is None


def _method(transport):
    return responses.GET if transport.method == "GET" else responses.POST


def _url_with_key(transport):
    """What requests' own exception text looks like: the full URL, key included for GET."""
    return f"HTTPSConnectionPool(host='provider.example', port=443): Max retries exceeded with url: /api/v2?key={KEY}"


# One fault of every kind, each carrying the key somewhere a careless client would pass on.
MOCKED_FAULTS = {
    "refused-echoing-the-key": (
        ProviderRefused,
        lambda t: {"json": {"error": f"Invalid API key {KEY}"}},
    ),
    "refused-echoing-the-encoded-key": (
        ProviderRefused,
        lambda t: {"json": {"error": "bad key sEcReT-k3y%2F%2B%3D%2642"}},
    ),
    "connect-timeout": (NotSent, lambda t: {"body": requests.exceptions.ConnectTimeout(_url_with_key(t))}),
    "read-timeout": (Ambiguous, lambda t: {"body": requests.exceptions.ReadTimeout(_url_with_key(t))}),
    "connection-error": (
        Ambiguous,
        lambda t: {"body": requests.exceptions.ConnectionError(_url_with_key(t))},
    ),
    "chunked": (Ambiguous, lambda t: {"body": requests.exceptions.ChunkedEncodingError(_url_with_key(t))}),
    "html-500-echoing-the-key": (Ambiguous, lambda t: {"body": f"<pre>key={KEY}</pre>", "status": 500}),
    "redirect-echoing-the-key": (
        Ambiguous,
        lambda t: {"status": 302, "headers": {"Location": f"https://x.example/?key={KEY}"}},
    ),
    "not-json-echoing-the-key": (Ambiguous, lambda t: {"body": f"key {KEY} ok"}),
}


@pytest.mark.parametrize("transport_name", sorted(TRANSPORTS))
@pytest.mark.parametrize("fault", sorted(MOCKED_FAULTS))
def test_no_error_kind_carries_the_key(mocked, fault, transport_name):
    transport = TRANSPORTS[transport_name]
    kind, make = MOCKED_FAULTS[fault]
    mocked.add(_method(transport), URL, **make(transport))
    with Client(URL, KEY, transport=transport) as client, pytest.raises(kind) as caught:
        client.add(1, "https://x", quantity=100)
    _assert_no_leak(caught.value)


@pytest.mark.parametrize("transport_name", sorted(TRANSPORTS))
def test_a_provider_message_echoing_the_key_is_scrubbed_not_dropped(mocked, transport_name):
    transport = TRANSPORTS[transport_name]
    mocked.add(_method(transport), URL, json={"error": f"Invalid API key {KEY}"})
    with Client(URL, KEY, transport=transport) as client, pytest.raises(ProviderRefused) as caught:
        client.balance()
    assert caught.value.message == "Invalid API key ***"


@pytest.mark.parametrize("transport_name", sorted(TRANSPORTS))
def test_a_real_refused_connect_does_not_carry_the_key(transport_name):
    with Client(
        f"http://127.0.0.1:{closed_port()}/api/v2", KEY, transport=TRANSPORTS[transport_name]
    ) as client:
        with pytest.raises(NotSent) as caught:
            client.statuses([1, 2])
    _assert_no_leak(caught.value)


@pytest.mark.parametrize("transport_name", sorted(TRANSPORTS))
def test_a_real_dropped_connection_does_not_carry_the_key(transport_name):
    def drop(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")

    with raw_http_server(drop) as (url, _connections):
        with (
            Client(url, KEY, transport=TRANSPORTS[transport_name]) as client,
            pytest.raises(Ambiguous) as caught,
        ):
            client.add(1, "https://x", quantity=100)
    _assert_no_leak(caught.value)


def test_a_batch_error_with_partial_results_does_not_carry_the_key(mocked):
    answers = iter([(200, {}, json.dumps({str(i): {"status": "Pending"} for i in range(1, 101)}))])

    def answer(request):
        try:
            return next(answers)
        except StopIteration:
            raise requests.exceptions.ReadTimeout(_url_with_key(None)) from None

    mocked.add_callback(responses.GET, URL, callback=answer)
    with Client(URL, KEY, transport=TRANSPORTS["get"]) as client, pytest.raises(Ambiguous) as caught:
        client.statuses(range(1, 151))
    assert len(caught.value.partial) == 100
    _assert_no_leak(caught.value)


def _all_log_text(caplog) -> str:
    return "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records)


@pytest.mark.parametrize("transport_name", sorted(TRANSPORTS))
def test_log_records_never_carry_the_key_on_real_requests(caplog, transport_name):
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's request lines included
    with raw_http_server(json_answer(b'{"balance": "3.5", "currency": "USD"}')) as (url, connections):
        with Client(url, KEY, transport=TRANSPORTS[transport_name]) as client:
            client.balance()
    assert KEY in connections[0].decode() or "sEcReT-k3y%2F%2B%3D%2642" in connections[0].decode()
    text = _all_log_text(caplog)
    assert "smmapi balance 127.0.0.1 -> HTTP 200" in text
    assert not leaks_key(text)


@pytest.mark.parametrize("transport_name", sorted(TRANSPORTS))
@pytest.mark.parametrize("fault", sorted(MOCKED_FAULTS))
def test_log_records_never_carry_the_key_on_failures(mocked, caplog, fault, transport_name):
    caplog.set_level(logging.DEBUG)
    transport = TRANSPORTS[transport_name]
    kind, make = MOCKED_FAULTS[fault]
    mocked.add(_method(transport), URL, **make(transport))
    with Client(URL, KEY, transport=transport) as client, pytest.raises(kind):
        client.add(1, "https://x", quantity=100)
    assert any(record.name == "smmapi" for record in caplog.records)
    assert not leaks_key(_all_log_text(caplog))


def test_logs_never_carry_the_form_body(mocked, caplog, api_client):
    caplog.set_level(logging.DEBUG)
    mocked.add(responses.POST, URL, json={"order": 5})
    api_client.add(1, "https://secret-link.example/p", quantity=100)
    assert "secret-link" not in _all_log_text(caplog)
