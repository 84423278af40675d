"""Each way a call can fail maps to the right error kind: ProviderRefused, NotSent or Ambiguous.

Mocked faults go through `responses`; the ones that matter most (refused connect, dropped
connection, slow answer) also run against real sockets on 127.0.0.1.
"""

import http.client
import ssl
import time

import pytest
import requests
import responses
import urllib3.exceptions
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from smmapi_helpers import KEY, URL, closed_port, json_answer, raw_http_server

from smmapi import Ambiguous, Client, NotSent, ProviderRefused, SmmApiError


def _fail_with(mocked, exc):
    mocked.add(responses.POST, URL, body=exc)


# ---------------------------------------------------------------- mocked faults


def test_connect_timeout_is_not_sent(mocked, api_client):
    _fail_with(mocked, requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(NotSent) as caught:
        api_client.add(1, "https://x", quantity=100)
    assert "connect timeout" in caught.value.reason and "provider.example" in caught.value.reason


def test_read_timeout_is_ambiguous(mocked, api_client):
    _fail_with(mocked, requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(Ambiguous) as caught:
        api_client.add(1, "https://x", quantity=100)
    assert "read timeout" in caught.value.reason


def test_http_500_with_an_html_body_is_ambiguous(mocked, api_client):
    mocked.add(responses.POST, URL, body="<html><h1>500 Internal Server Error</h1></html>", status=500)
    with pytest.raises(Ambiguous) as caught:
        api_client.add(1, "https://x", quantity=100)
    assert caught.value.http_status == 500


def test_http_502_with_a_json_error_is_still_ambiguous(mocked, api_client):
    mocked.add(responses.POST, URL, json={"error": "Bad gateway"}, status=502)
    with pytest.raises(Ambiguous) as caught:
        api_client.add(1, "https://x", quantity=100)
    assert caught.value.http_status == 502


def test_http_200_whose_body_is_not_json_is_ambiguous(mocked, api_client):
    mocked.add(responses.POST, URL, body="Order placed!<br>", status=200)
    with pytest.raises(Ambiguous) as caught:
        api_client.add(1, "https://x", quantity=100)
    assert caught.value.http_status == 200


def test_http_200_with_an_empty_body_is_ambiguous(mocked, api_client):
    mocked.add(responses.POST, URL, body="", status=200)
    with pytest.raises(Ambiguous):
        api_client.balance()


def test_chunked_encoding_error_is_ambiguous(mocked, api_client):
    _fail_with(mocked, requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"))
    with pytest.raises(Ambiguous):
        api_client.add(1, "https://x", quantity=100)


def test_http_429_with_a_json_error_is_a_provider_side_refusal(mocked, api_client):
    mocked.add(responses.POST, URL, json={"error": "Too many requests"}, status=429)
    with pytest.raises(ProviderRefused) as caught:
        api_client.statuses([1, 2])
    assert caught.value.message == "Too many requests"
    assert caught.value.is_provider_side


def test_http_429_with_an_html_body_is_ambiguous(mocked, api_client):
    mocked.add(responses.POST, URL, body="<html>slow down</html>", status=429)
    with pytest.raises(Ambiguous) as caught:
        api_client.add(1, "https://x", quantity=100)
    assert caught.value.http_status == 429


def test_http_401_with_a_json_error_is_a_refusal(mocked, api_client):
    mocked.add(responses.POST, URL, json={"error": "Invalid API key"}, status=401)
    with pytest.raises(ProviderRefused) as caught:
        api_client.balance()
    assert caught.value.is_provider_side


def test_a_redirect_is_not_followed_and_is_ambiguous(mocked, api_client):
    mocked.add(responses.POST, URL, status=301, headers={"Location": "https://elsewhere.example/api/v2"})
    with pytest.raises(Ambiguous) as caught:
        api_client.add(1, "https://x", quantity=100)
    assert caught.value.http_status == 301
    assert len(mocked.calls) == 1


def test_a_bare_connection_error_is_ambiguous_when_we_cannot_tell(mocked, api_client):
    _fail_with(mocked, requests.exceptions.ConnectionError("something broke"))
    with pytest.raises(Ambiguous):
        api_client.add(1, "https://x", quantity=100)


def _wrapped(reason: Exception) -> requests.exceptions.ConnectionError:
    """What requests raises when urllib3 gives up: ConnectionError(MaxRetryError(reason))."""
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/api/v2", reason))


def test_a_refused_connect_under_connection_error_is_not_sent(mocked, api_client):
    _fail_with(mocked, _wrapped(urllib3.exceptions.NewConnectionError(None, "Connection refused")))
    with pytest.raises(NotSent):
        api_client.add(1, "https://x", quantity=100)


def test_a_dns_failure_is_not_sent(mocked, api_client):
    _fail_with(
        mocked,
        _wrapped(urllib3.exceptions.NameResolutionError("provider.example", None, OSError("no such host"))),
    )
    with pytest.raises(NotSent):
        api_client.add(1, "https://x", quantity=100)


def test_a_remote_disconnect_after_sending_is_ambiguous(mocked, api_client):
    dropped = urllib3.exceptions.ProtocolError(
        "Connection aborted.", http.client.RemoteDisconnected("closed")
    )
    _fail_with(mocked, requests.exceptions.ConnectionError(dropped))
    with pytest.raises(Ambiguous):
        api_client.add(1, "https://x", quantity=100)


def test_a_connection_reset_after_sending_is_ambiguous(mocked, api_client):
    reset = urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    _fail_with(mocked, requests.exceptions.ConnectionError(reset))
    with pytest.raises(Ambiguous):
        api_client.add(1, "https://x", quantity=100)


def test_a_certificate_rejected_in_the_handshake_is_not_sent(mocked, api_client):
    bad_cert = urllib3.exceptions.SSLError(ssl.SSLCertVerificationError(1, "certificate verify failed"))
    _fail_with(
        mocked, requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/api/v2", bad_cert))
    )
    with pytest.raises(NotSent):
        api_client.add(1, "https://x", quantity=100)


def test_other_ssl_errors_are_ambiguous(mocked, api_client):
    _fail_with(mocked, requests.exceptions.SSLError("EOF occurred in violation of protocol"))
    with pytest.raises(Ambiguous):
        api_client.add(1, "https://x", quantity=100)


def test_errors_name_the_action_that_failed(mocked, api_client):
    _fail_with(mocked, requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(Ambiguous) as caught:
        api_client.balance()
    assert caught.value.action == "balance"


# ---------------------------------------------------------------- real sockets


def test_a_real_refused_connect_is_not_sent():
    with Client(f"http://127.0.0.1:{closed_port()}/api/v2", KEY) as client:
        with pytest.raises(NotSent) as caught:
            client.add(1, "https://x", quantity=100)
    assert "127.0.0.1" in caught.value.reason


def _headers_then_drop(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
    conn.sendall(b'{"order": ')  # 10 of the promised 100 bytes, then close


def test_a_real_connection_dropped_mid_answer_is_ambiguous_and_not_resent():
    with raw_http_server(_headers_then_drop) as (url, connections):
        with Client(url, KEY) as client, pytest.raises(Ambiguous):
            client.add(1, "https://x", quantity=100)
    assert len(connections) == 1
    assert b"action=add" in connections[0]


def test_a_real_connection_closed_before_any_answer_is_ambiguous_and_not_resent():
    with raw_http_server(lambda conn: None) as (url, connections):
        with Client(url, KEY) as client, pytest.raises(Ambiguous):
            client.add(1, "https://x", quantity=100)
    assert len(connections) == 1


def test_a_real_slow_answer_past_the_read_timeout_is_ambiguous():
    def slow(conn):
        time.sleep(0.6)
        json_answer(b'{"order": 1}')(conn)

    with raw_http_server(slow) as (url, connections):
        with Client(url, KEY, read_timeout=0.2) as client:
            started = time.monotonic()
            with pytest.raises(Ambiguous) as caught:
                client.add(1, "https://x", quantity=100)
            assert time.monotonic() - started < 0.55
    assert "read timeout" in caught.value.reason
    assert len(connections) == 1


def test_a_real_well_formed_answer_round_trips():
    with raw_http_server(json_answer(b'{"order": "VEGA123ABC"}')) as (url, connections):
        with Client(url, KEY) as client:
            assert client.add(1, "https://x", quantity=100) == "VEGA123ABC"
    assert b"User-Agent: smm-panel/1" in connections[0]


# ---------------------------------------------------------------- session handling


def test_the_client_mounts_a_pooled_adapter_that_never_retries():
    with Client(URL, KEY, pool_maxsize=7) as client:
        adapter = client._session.get_adapter(URL)
        assert isinstance(adapter, HTTPAdapter)
        assert adapter.max_retries.total == 0
        assert adapter._pool_maxsize == 7
        assert client._session.get_adapter("http://other.example/") is adapter


class _CountingSession(requests.Session):
    closed = 0

    def close(self):
        self.closed += 1
        super().close()


def test_close_closes_only_a_session_the_client_created():
    own = Client(URL, KEY)
    own._session = counted = _CountingSession()
    own.close()
    assert counted.closed == 1

    shared = _CountingSession()
    with Client(URL, KEY, session=shared):
        pass
    assert shared.closed == 0


def test_one_session_is_shared_across_calls(mocked):
    seen = []
    mocked.add_callback(
        responses.POST, URL, callback=lambda request: seen.append(request) or (200, {}, '{"balance": "1"}')
    )
    session = requests.Session()
    with Client(URL, KEY, session=session) as client:
        client.balance()
        client.balance()
        assert client._session is session
    assert len(seen) == 2


def test_timeouts_are_sent_as_connect_and_read(mocked):
    captured = {}
    session = requests.Session()
    real_request = session.request

    def spy(method, url, **kwargs):
        captured.update(kwargs)
        return real_request(method, url, **kwargs)

    session.request = spy
    mocked.add(responses.POST, URL, json={"balance": "1"})
    with Client(URL, KEY, session=session, connect_timeout=3.0, read_timeout=12.0) as client:
        client.balance()
    assert captured["timeout"] == (3.0, 12.0)
    assert captured["allow_redirects"] is False


# ---------------------------------------------------------------- any answer at all

ACTIONS = [
    lambda c: c.services(),
    lambda c: c.add(1, "https://x", quantity=100),
    lambda c: c.status(1),
    lambda c: c.statuses([1, 2]),
    lambda c: c.refill(1),
    lambda c: c.refills([1, 2]),
    lambda c: c.refill_status(1),
    lambda c: c.refill_statuses([1, 2]),
    lambda c: c.cancel([1, 2]),
    lambda c: c.balance(),
]


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=64)
    | st.sampled_from([b"{}", b"[]", b"null", b'{"error": ""}', b"[[[]]]", b"1e999"]),
    status=st.sampled_from([200, 201, 204, 301, 400, 404, 429, 500, 503]),
    which=st.integers(min_value=0, max_value=len(ACTIONS) - 1),
)
def test_whatever_comes_back_every_action_returns_or_raises_one_of_our_errors(body, status, which):
    with responses.RequestsMock() as mock, Client(URL, KEY) as client:
        mock.add(responses.POST, URL, body=body, status=status)
        try:
            ACTIONS[which](client)
        except SmmApiError as error:
            if isinstance(error, ProviderRefused):
                assert status < 300 or 400 <= status < 500  # never a refusal at 3xx/5xx
            elif not 200 <= status < 300:
                assert isinstance(error, Ambiguous) and error.http_status == status
        else:
            assert 200 <= status < 300
