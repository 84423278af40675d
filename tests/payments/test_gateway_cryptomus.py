"""The Cryptomus gateway: its signatures (requests, and webhooks re-encoded as PHP writes them), what each
status does to a payment and the balance, its faults, and one round over real HTTP against a stand-in API."""

import base64
import hashlib
import json
import logging
import threading
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import responses
from django.core.management import call_command

from accounts.models import LedgerEntry
from accounts.services import wallet_adjust
from core.models import StaffNotice
from payments import services
from payments.gateways import cryptomus
from payments.gateways.base import BadNotification, GatewayError, GatewayRefused, Outcome
from payments.models import GatewayEvent, Payment

KEY = "cryptomus-test-payment-key-0123456789abcdef"
MERCHANT = "8b03432e-385b-4670-8d06-064591096795"
API = "https://api.cryptomus.test"
WEBHOOK = "/payments/webhook/cryptomus/"


@pytest.fixture
def configured(settings):
    settings.CRYPTOMUS_MERCHANT_ID = MERCHANT
    settings.CRYPTOMUS_API_KEY = KEY
    settings.CRYPTOMUS_API_BASE = API
    settings.PAYMENT_GATEWAY_TIMEOUT = 2.0
    settings.SITE_URL = "https://panel.example"
    return settings


@pytest.fixture
def method(configured, make_method):
    return make_method("cryptomus")


@pytest.fixture
def pay(alice, method, make_payment):
    """A pending payment at Cryptomus, as payment_start leaves it, with the invoice's uuid."""

    def make(**fields):
        fields.setdefault("gateway_ref", str(uuid.uuid4()))
        return make_payment(alice, method, **fields)

    return make


# --- Signing, as the test computes it (never with the module's helpers) --------------------------------


def md5_sign(text: bytes) -> str:
    return hashlib.md5(base64.b64encode(text) + KEY.encode()).hexdigest()


def php_unescaped_unicode(data: dict) -> str:
    """json_encode($data, JSON_UNESCAPED_UNICODE) for the flat strings, numbers, booleans and nulls used here."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


def signed(data: dict) -> dict:
    return {**data, "sign": md5_sign(php_unescaped_unicode(data).encode())}


def wire(data: dict) -> bytes:
    """The body as Cryptomus sends it (PHP's default json_encode: slashes and non-ASCII escaped)."""
    return json.dumps(data, separators=(",", ":")).replace("/", "\\/").encode()


def invoice(payment: Payment, status: str, **fields) -> dict:
    """A webhook's fields for the payment, in Cryptomus' order; the payer pays in USDT at a small premium."""
    total = f"{payment.total:.2f}"
    data = {
        "type": "payment", "uuid": payment.gateway_ref, "order_id": str(payment.reference), "amount": total,
        "payment_amount": total, "payment_amount_usd": total, "merchant_amount": total, "commission": "0.20",
        "is_final": status not in ("process", "check", "confirm_check", "wrong_amount_waiting"), "status": status,
        "from": None, "wallet_address_uuid": None, "network": "tron", "currency": payment.currency,
        "payer_currency": "USDT", "payer_amount": total, "additional_data": "Top-up: https://panel.example/payments/",
        "txid": "d7f1c0a2e4b6",
    }
    data.update(fields)
    return data


def post(client, body: bytes):
    return client.post(WEBHOOK, data=body, content_type="application/json")


def gateway():
    return cryptomus.from_settings()


# --- 1. The signature: a known vector --------------------------------------------------------------------

VECTOR_FIELDS = {
    "type": "payment", "uuid": "62f88b36-a9d5-4fa6-aa26-e040c3dbf26d", "order_id": "97a75bb7-1d4a-4fb9-a9f8-3a4a0a2b7c1e",
    "amount": "15.00", "status": "paid", "is_final": True, "additional_data": "Café https://panel.example/p/1",
    "txid": None,
}
# Written out by hand: what PHP's json_encode($data, JSON_UNESCAPED_UNICODE) gives for VECTOR_FIELDS.
VECTOR_TEXT = ('{"type":"payment","uuid":"62f88b36-a9d5-4fa6-aa26-e040c3dbf26d",'
               '"order_id":"97a75bb7-1d4a-4fb9-a9f8-3a4a0a2b7c1e","amount":"15.00","status":"paid","is_final":true,'
               '"additional_data":"Café https:\\/\\/panel.example\\/p\\/1","txid":null}')
VECTOR_SIGN = "4302ac043bd81ef9087b0ddca9a66bbf"  # md5(base64(VECTOR_TEXT) + KEY)


def test_the_known_vector_is_what_the_test_says_it_is():
    assert hashlib.md5(base64.b64encode(VECTOR_TEXT.encode("utf-8")) + KEY.encode()).hexdigest() == VECTOR_SIGN
    assert php_unescaped_unicode(VECTOR_FIELDS) == VECTOR_TEXT


@pytest.mark.parametrize("style", ["php_default", "php_unescaped", "python_default"])
def test_a_webhook_signed_over_the_php_encoding_is_accepted_however_its_body_is_written(configured, style):
    data = {**VECTOR_FIELDS, "sign": VECTOR_SIGN}
    body = {
        "php_default": wire(data),
        "php_unescaped": php_unescaped_unicode(data).encode("utf-8"),
        "python_default": json.dumps(data).encode(),  # spaces, "/" plain, "é" as \u00e9: the same fields
    }[style]
    notice = gateway().parse(body, {})
    assert notice.outcome == Outcome.PAID
    assert notice.reference == VECTOR_FIELDS["order_id"] and notice.gateway_ref == VECTOR_FIELDS["uuid"]
    assert notice.amount == Decimal("15.00")
    assert notice.payload["sign"] == "[removed]"


@pytest.mark.parametrize("python_way", [
    {"separators": (",", ":"), "ensure_ascii": False},  # "/" left plain
    {"separators": (",", ":"), "ensure_ascii": True},  # "é" written \u00e9 (and "/" plain)
    {},  # json.dumps as it comes
])
def test_the_same_fields_signed_the_python_way_are_refused(configured, python_way):
    text = json.dumps(VECTOR_FIELDS, **python_way)
    assert text != VECTOR_TEXT
    body = wire({**VECTOR_FIELDS, "sign": md5_sign(text.encode("utf-8"))})
    with pytest.raises(BadNotification):
        gateway().parse(body, {})


def test_a_signature_with_another_key_is_refused(configured):
    other = hashlib.md5(base64.b64encode(VECTOR_TEXT.encode()) + b"another-key").hexdigest()
    with pytest.raises(BadNotification):
        gateway().parse(wire({**VECTOR_FIELDS, "sign": other}), {})


# --- 2. Webhooks through the view -------------------------------------------------------------------------


def balance(user) -> Decimal:
    user.refresh_from_db()
    return user.balance


@pytest.mark.parametrize("bonus", ["0", "1.50"])
def test_paid_credits_once_and_a_replay_changes_nothing(client, alice, pay, bonus):
    payment = pay(amount="10.00", bonus=bonus)
    before = balance(alice)
    body = wire(signed(invoice(payment, "paid")))
    assert post(client, body).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert balance(alice) == before + payment.amount + Decimal(bonus)
    assert LedgerEntry.objects.filter(kind="deposit", payment=payment).count() == 1
    assert LedgerEntry.objects.filter(kind="bonus", payment=payment).count() == (1 if Decimal(bonus) else 0)

    assert post(client, body).status_code == 200  # the same body again
    assert balance(alice) == before + payment.amount + Decimal(bonus)
    assert LedgerEntry.objects.filter(payment=payment).count() == (2 if Decimal(bonus) else 1)
    assert GatewayEvent.objects.filter(gateway="cryptomus").count() == 1
    call_command("check_ledger")


def test_process_then_paid_credits_once(client, alice, pay):
    payment = pay(amount="25.00")
    assert post(client, wire(signed(invoice(payment, "process", payment_amount="0.00")))).status_code == 200
    assert post(client, wire(signed(invoice(payment, "confirm_check")))).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "pending" and balance(alice) == 0
    assert post(client, wire(signed(invoice(payment, "paid")))).status_code == 200
    assert post(client, wire(signed(invoice(payment, "paid", txid="another-copy")))).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "paid" and balance(alice) == Decimal("25.00")
    assert LedgerEntry.objects.filter(kind="deposit", payment=payment).count() == 1
    call_command("check_ledger")


def _forged(payment):
    return wire({**invoice(payment, "paid"), "sign": "0" * 32})


def _unsigned(payment):
    return wire(invoice(payment, "paid"))


def _empty_sign(payment):
    return wire({**invoice(payment, "paid"), "sign": ""})


def _altered(payment):
    data = signed(invoice(payment, "paid", amount="1.00", payment_amount="1.00", payer_amount="1.00"))
    data["amount"] = data["payment_amount"] = data["payer_amount"] = f"{payment.total:.2f}"
    return wire(data)


def _reordered(payment):
    data = signed(invoice(payment, "paid"))
    return wire(dict(reversed(list(data.items()))))


def _not_json(payment):
    return b"status=paid&order_id=" + str(payment.reference).encode()


@pytest.mark.parametrize("make_body", [_forged, _unsigned, _empty_sign, _altered, _reordered, _not_json])
def test_a_notification_that_is_not_cryptomus_is_refused_and_changes_nothing(client, alice, pay, caplog, make_body):
    caplog.set_level(logging.DEBUG)
    payment = pay(amount="10.00")
    body = make_body(payment)
    response = post(client, body)
    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == "pending" and balance(alice) == 0
    assert not GatewayEvent.objects.exists() and not LedgerEntry.objects.exists()
    logged = "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records)
    real_sign = signed(invoice(payment, "paid"))["sign"]
    assert KEY not in logged and real_sign not in logged and "0" * 32 not in logged


def test_a_webhook_for_a_payment_the_panel_does_not_know_credits_nothing(client, alice, pay):
    payment = pay(amount="10.00")
    stranger = invoice(payment, "paid", uuid=str(uuid.uuid4()), order_id=str(uuid.uuid4()))
    assert post(client, wire(signed(stranger))).status_code == 200
    assert balance(alice) == 0 and not LedgerEntry.objects.exists()
    assert StaffNotice.objects.filter(subject__contains="does not know").exists()


# --- 3. What each status does -----------------------------------------------------------------------------


def test_wrong_amount_credits_the_share_that_arrived_rounded_down_and_no_bonus(client, alice, pay):
    payment = pay(amount="10.01", bonus="1.00")
    # The payer was asked 10.05 USDT (a premium over the 10.01 USD invoice) and sent half of it: 5.005 USD.
    data = invoice(payment, "wrong_amount", payer_amount="10.05000000", payment_amount="5.02500000",
                   payment_amount_usd="5.00")
    assert post(client, wire(signed(data))).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert payment.credited == Decimal("5.00") and payment.bonus_credited == 0
    assert balance(alice) == Decimal("5.00")
    assert not LedgerEntry.objects.filter(kind="bonus").exists()
    call_command("check_ledger")


def test_wrong_amount_waiting_credits_nothing_yet(client, alice, pay):
    payment = pay(amount="10.00")
    data = invoice(payment, "wrong_amount_waiting", payment_amount="4.00")
    assert post(client, wire(signed(data))).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "pending" and balance(alice) == 0


def test_paid_over_credits_what_was_asked_and_tells_staff_of_the_excess(client, alice, pay):
    payment = pay(amount="10.00")
    data = invoice(payment, "paid_over", payer_amount="10.00000000", payment_amount="12.50000000",
                   payment_amount_usd="12.50")
    assert post(client, wire(signed(data))).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "paid" and balance(alice) == Decimal("10.00")
    notice = StaffNotice.objects.get(subject__contains="overpaid")
    assert "2.50" in notice.subject
    call_command("check_ledger")


@pytest.mark.parametrize(("status", "paid"), [("wrong_amount", "10.00"), ("wrong_amount", "12.00"),
                                             ("paid_over", "9.00")])
def test_figures_that_contradict_the_status_go_before_staff(client, alice, pay, status, paid):
    payment = pay(amount="10.00")
    data = invoice(payment, status, payer_amount="10.00", payment_amount=paid, payment_amount_usd=paid)
    assert post(client, wire(signed(data))).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "review" and balance(alice) == 0


@pytest.mark.parametrize("fields", [{"amount": "20.00"}, {"currency": "EUR"}])
def test_an_invoice_for_other_than_was_asked_goes_before_staff_and_credits_nothing(client, alice, pay, fields):
    payment = pay(amount="10.00")
    assert post(client, wire(signed(invoice(payment, "paid", **fields)))).status_code == 200
    payment.refresh_from_db()
    assert payment.status == "review" and balance(alice) == 0
    assert not LedgerEntry.objects.exists()
    assert StaffNotice.objects.filter(subject__contains=f"Payment #{payment.pk}").exists()
    call_command("check_ledger")


@pytest.mark.parametrize(("status", "expected"), [
    ("cancel", "expired"), ("fail", "failed"), ("system_fail", "failed"), ("locked", "review"),
    ("refund_process", "pending"), ("check", "pending"),
])
def test_statuses_that_credit_nothing(client, alice, pay, status, expected):
    payment = pay(amount="10.00")
    assert post(client, wire(signed(invoice(payment, status, payment_amount="0.00")))).status_code == 200
    payment.refresh_from_db()
    assert payment.status == expected and balance(alice) == 0
    assert not LedgerEntry.objects.exists()


def test_refund_paid_after_a_credit_takes_the_money_back_below_zero_and_flags_the_customer(
        client, alice, carol, pay):
    payment = pay(amount="10.00")
    assert post(client, wire(signed(invoice(payment, "paid")))).status_code == 200
    wallet_adjust(user=alice, amount=Decimal("-8.00"), note="spent meanwhile (stands in for orders)", created_by=carol)
    assert balance(alice) == Decimal("2.00")
    assert post(client, wire(signed(invoice(payment, "refund_process")))).status_code == 200
    assert balance(alice) == Decimal("2.00")
    assert post(client, wire(signed(invoice(payment, "refund_paid")))).status_code == 200
    payment.refresh_from_db()
    alice.refresh_from_db()
    assert payment.status == "refunded"
    assert alice.balance == Decimal("-8.00") and alice.flagged_at is not None
    assert LedgerEntry.objects.get(kind="payment_refund", payment=payment).amount == Decimal("-10.00")
    assert post(client, wire(signed(invoice(payment, "refund_paid", txid="again")))).status_code == 200
    assert balance(alice) == Decimal("-8.00")
    call_command("check_ledger")


# --- 5. create and fetch, against `responses` ------------------------------------------------------------


def answer(**result):
    return {"state": 0, "result": result}


def the_invoice(payment_like_reference, **fields):
    made = {"uuid": "4f8e4a7e-3a52-4f36-9a6c-0e8f6c0e9f21", "order_id": str(payment_like_reference),
            "amount": "103.00", "currency": "USD", "url": "https://pay.cryptomus.com/pay/4f8e4a7e",
            "expired_at": 1_900_000_000, "status": "check", "is_final": False}
    made.update(fields)
    return made


@responses.activate
def test_create_signs_the_exact_body_it_sends(configured, pay):
    payment = pay(amount="100.00", fee="3.00", gateway_ref="", redirect_url="")
    responses.add(responses.POST, f"{API}/v1/payment", json=answer(**the_invoice(payment.reference)))
    urls = services.payment_urls(payment)
    checkout = gateway().create(payment, urls=urls, description="SMM Panel: add funds for alice")

    request = responses.calls[0].request
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    assert request.headers["sign"] == md5_sign(body)
    assert request.headers["merchant"] == MERCHANT
    assert request.headers["Content-Type"] == "application/json"
    sent = json.loads(body)
    assert sent["amount"] == "103.00" and sent["currency"] == "USD"
    assert sent["order_id"] == str(payment.reference)
    assert sent["url_callback"] == "https://panel.example/payments/webhook/cryptomus/" == urls.notify
    assert sent["url_success"] == urls.success and sent["url_return"] == urls.cancel
    assert 300 <= sent["lifetime"] <= 43200
    assert checkout.gateway_ref == "4f8e4a7e-3a52-4f36-9a6c-0e8f6c0e9f21"
    assert checkout.redirect_url == "https://pay.cryptomus.com/pay/4f8e4a7e"
    assert checkout.expires_at is not None and int(checkout.expires_at.timestamp()) == 1_900_000_000


@responses.activate
def test_payment_start_sends_the_customer_to_the_invoice(configured, alice, method):
    responses.add(responses.POST, f"{API}/v1/payment", json=answer(**the_invoice("x", amount="10.00")))
    payment = services.payment_start(user=alice, method=method, amount=Decimal("10"))
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert payment.redirect_url == "https://pay.cryptomus.com/pay/4f8e4a7e"
    assert payment.gateway_ref == "4f8e4a7e-3a52-4f36-9a6c-0e8f6c0e9f21"
    sent = json.loads(responses.calls[0].request.body)
    assert sent["amount"] == "10.00" and sent["order_id"] == str(payment.reference)


@responses.activate
@pytest.mark.parametrize(("known_uuid", "asked"), [(True, "uuid"), (False, "order_id")])
def test_fetch_asks_by_uuid_or_else_by_reference(configured, pay, known_uuid, asked):
    payment = pay(amount="10.00", gateway_ref="4f8e4a7e-3a52-4f36-9a6c-0e8f6c0e9f21" if known_uuid else "")
    responses.add(responses.POST, f"{API}/v1/payment/info", json=answer(**the_invoice(
        payment.reference, amount="10.00", status="paid", payment_amount="10.05", payer_amount="10.05",
        payer_currency="USDT")))
    notice = gateway().fetch(payment)
    request = responses.calls[0].request
    assert request.headers["sign"] == md5_sign(request.body)
    sent = json.loads(request.body)
    assert sent == ({"uuid": payment.gateway_ref} if asked == "uuid" else {"order_id": str(payment.reference)})
    assert notice.outcome == Outcome.PAID and notice.amount == Decimal("10.00") and notice.currency == "USD"
    assert notice.gateway_ref == "4f8e4a7e-3a52-4f36-9a6c-0e8f6c0e9f21"
    assert notice.event_id == "fetch:4f8e4a7e-3a52-4f36-9a6c-0e8f6c0e9f21:paid:10.05"


FAULTS = {
    "read_timeout": ({"body": requests.exceptions.ReadTimeout("read timed out")}, GatewayError),
    "connect_timeout": ({"body": requests.exceptions.ConnectTimeout("connect timed out")}, GatewayError),
    "refused": ({"body": requests.exceptions.ConnectionError("Connection refused")}, GatewayError),
    "dropped": ({"body": requests.exceptions.ChunkedEncodingError("connection dropped")}, GatewayError),
    "html_500": ({"status": 500, "body": "<html><body>502 Bad Gateway</body></html>",
                  "content_type": "text/html"}, GatewayError),
    "broken_json": ({"status": 200, "body": '{"state": 0, "result": {"uuid": "4f8e', "content_type": "application/json"},
                    GatewayError),
    "no_result": ({"status": 200, "json": {"state": 0}}, GatewayError),
    "refused_422": ({"status": 422, "json": {"state": 1, "message": "Validation error",
                                             "errors": {"amount": ["The amount must be at least 1."]}}}, GatewayRefused),
    "bad_sign_401": ({"status": 401, "json": {"state": 1, "message": f"Invalid Sign. {KEY}"}}, GatewayRefused),
}


@responses.activate
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_raises_a_gateway_error_without_the_key(configured, pay, fault):
    kwargs, error = FAULTS[fault]
    responses.add(responses.POST, f"{API}/v1/payment", **kwargs)
    responses.add(responses.POST, f"{API}/v1/payment/info", **kwargs)
    payment = pay(amount="10.00")
    for call in (lambda: gateway().create(payment, urls=services.payment_urls(payment), description="x"),
                 lambda: gateway().fetch(payment)):
        with pytest.raises(error) as raised:
            call()
        assert KEY not in str(raised.value)
        assert all(c.request.headers["sign"] not in str(raised.value) for c in responses.calls)
    if fault == "refused_422":
        assert "at least 1" in str(raised.value)


@responses.activate
@pytest.mark.parametrize("fault", ["read_timeout", "refused", "html_500", "broken_json", "refused_422"])
def test_payment_start_fails_the_payment_when_cryptomus_cannot_take_it(configured, alice, method, fault):
    kwargs, _ = FAULTS[fault]
    responses.add(responses.POST, f"{API}/v1/payment", **kwargs)
    with pytest.raises(services.PaymentRefused) as raised:
        services.payment_start(user=alice, method=method, amount=Decimal("10"))
    assert KEY not in raised.value.message
    payment = Payment.objects.get()
    assert payment.status == "failed" and payment.redirect_url == ""
    assert KEY not in payment.failure_reason
    assert balance(alice) == 0


# --- 6. Over real HTTP, against a stand-in Cryptomus ------------------------------------------------------


class StandIn(ThreadingHTTPServer):
    """Cryptomus' payment API as far as the panel uses it: invoices made, and their state as the test sets it."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.invoices = {}  # uuid -> invoice
        self.seen = []  # (path, whether the sign was right)
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def settle(self, order_id: str, **fields) -> None:
        with self.lock:
            for made in self.invoices.values():
                if made["order_id"] == order_id:
                    made.update(fields)


class StandInHandler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        good = self.headers.get("merchant") == MERCHANT and self.headers.get("sign") == md5_sign(body)
        self.server.seen.append((self.path, good))
        if not good:
            return self._send(401, {"state": 1, "message": "Invalid Sign."})
        data = json.loads(body)
        with self.server.lock:
            if self.path == "/v1/payment":
                made = next((i for i in self.server.invoices.values() if i["order_id"] == data["order_id"]), None)
                if made is None:
                    made = {"uuid": str(uuid.uuid4()), "order_id": data["order_id"], "amount": data["amount"],
                            "currency": data["currency"], "payment_amount": None, "payer_amount": None,
                            "payer_currency": None, "status": "check", "payment_status": "check",
                            "is_final": False, "expired_at": 1_900_000_000, "url_callback": data["url_callback"]}
                    made["url"] = f"https://pay.cryptomus.test/pay/{made['uuid']}"
                    self.server.invoices[made["uuid"]] = made
                return self._send(200, {"state": 0, "result": dict(made)})
            if self.path == "/v1/payment/info":
                made = self.server.invoices.get(data.get("uuid")) or next(
                    (i for i in self.server.invoices.values() if i["order_id"] == data.get("order_id")), None)
                if made is None:
                    return self._send(422, {"state": 1, "message": "Payment not found"})
                return self._send(200, {"state": 0, "result": dict(made)})
        return self._send(404, {"state": 1, "message": "Not found"})

    def _send(self, code, data):
        raw = json.dumps(data).replace("/", "\\/").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def stand_in(configured):
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    configured.CRYPTOMUS_API_BASE = server.base
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_over_http_a_missed_webhook_is_caught_up_by_asking_cryptomus(stand_in, alice, method):
    payment = services.payment_start(user=alice, method=method, amount=Decimal("10"))
    made = stand_in.invoices[payment.gateway_ref]
    assert payment.redirect_url == made["url"] and made["amount"] == "10.00"
    assert made["url_callback"] == "https://panel.example/payments/webhook/cryptomus/"

    assert services.payment_check(payment.pk, min_gap_seconds=0) == "still pending"
    assert balance(alice) == 0

    stand_in.settle(str(payment.reference), status="paid", payment_status="paid", is_final=True,
                    payer_currency="USDT", payer_amount="10.04", payment_amount="10.04")
    assert services.payment_check(payment.pk, min_gap_seconds=0).startswith("credited")
    payment.refresh_from_db()
    assert payment.status == "paid" and balance(alice) == Decimal("10.00")
    assert services.payment_check(payment.pk, min_gap_seconds=0) == "skipped"  # settled: nobody asks again
    assert balance(alice) == Decimal("10.00")
    assert LedgerEntry.objects.filter(kind="deposit", payment=payment).count() == 1

    other = services.payment_start(user=alice, method=method, amount=Decimal("5"))
    stand_in.settle(str(other.reference), status="cancel", payment_status="cancel", is_final=True)
    services.payment_check(other.pk, min_gap_seconds=0)
    other.refresh_from_db()
    assert other.status == "expired" and balance(alice) == Decimal("10.00")

    assert stand_in.seen and all(good for _, good in stand_in.seen)
    assert [path for path, _ in stand_in.seen].count("/v1/payment") == 2
    call_command("check_ledger")


def test_over_http_a_wrong_key_is_refused_by_the_stand_in_and_the_payment_fails(stand_in, alice, method,
                                                                                   configured):
    configured.CRYPTOMUS_API_KEY = "not-the-key-cryptomus-knows"
    with pytest.raises(services.PaymentRefused):
        services.payment_start(user=alice, method=method, amount=Decimal("10"))
    payment = Payment.objects.get()
    assert payment.status == "failed" and "Invalid Sign" in payment.failure_reason
    assert "not-the-key-cryptomus-knows" not in payment.failure_reason
    assert stand_in.seen == [("/v1/payment", False)]
