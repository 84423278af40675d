"""Stripe Checkout: signed notifications credit, fail, expire, refund and dispute a payment exactly as Stripe
says, anything unsigned changes nothing, and the SDK's calls carry what Stripe needs and fail safely."""

import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests
import responses
import stripe
from django.core.management import call_command
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.services import wallet_adjust
from core.models import StaffNotice
from payments import services
from payments.gateways import stripe as stripe_gateway
from payments.gateways.base import GatewayError, GatewayRefused, Outcome, Urls
from payments.models import GatewayEvent, Payment

pytestmark = pytest.mark.django_db

KEY = "sk_test_51PanelKeyQwErTyUiOp0123456789abcdefXYZ"
WEBHOOK_SECRET = "whsec_PanelTestSigningSecret0123456789"
API = "https://stripe.test"
SESSIONS = API + "/v1/checkout/sessions"
WEBHOOK = "/payments/webhook/stripe/"


@pytest.fixture(autouse=True)
def stripe_settings(settings, monkeypatch):
    settings.STRIPE_SECRET_KEY = KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = API
    settings.PAYMENT_GATEWAY_TIMEOUT = 5
    # The SDK waits half a second before its retry; the retry itself is what is tested, not the wait.
    monkeypatch.setattr(stripe.RequestsClient, "_sleep_time_seconds", lambda self, retries: 0)
    return settings


@pytest.fixture
def card(make_method):
    return make_method("stripe", name="Card")


@pytest.fixture
def payment(alice, card, make_payment):
    return make_payment(alice, card, amount="10.00", gateway_ref="cs_test_a1Panel")


@pytest.fixture
def fake_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --- Building what Stripe sends -------------------------------------------------------------------------


def session_of(payment, **fields):
    """A Checkout Session as Stripe shows it, for the payment: complete and paid unless told otherwise."""
    session = {
        "id": payment.gateway_ref, "object": "checkout.session", "mode": "payment", "livemode": False,
        "amount_subtotal": int(payment.total * 100), "amount_total": int(payment.total * 100),
        "currency": payment.currency.lower(), "client_reference_id": str(payment.reference),
        "client_secret": None, "metadata": {"reference": str(payment.reference)},
        "payment_intent": "pi_3PanelIntent", "payment_status": "paid", "status": "complete",
        "created": int(time.time()) - 60, "expires_at": int(time.time()) + 3600,
        "url": None, "success_url": "https://panel.test/ok", "cancel_url": "https://panel.test/no",
    }
    return {**session, **fields}


def charge_of(payment, *, amount_refunded, **fields):
    return {"id": "ch_3PanelCharge", "object": "charge", "amount": int(payment.total * 100),
            "amount_captured": int(payment.total * 100), "amount_refunded": amount_refunded,
            "currency": payment.currency.lower(), "paid": True, "captured": True,
            "refunded": amount_refunded >= int(payment.total * 100), "payment_intent": "pi_3PanelIntent",
            "metadata": {}, "status": "succeeded", **fields}


def dispute_of(payment, *, amount, **fields):
    return {"id": "dp_1PanelDispute", "object": "dispute", "amount": amount, "currency": payment.currency.lower(),
            "charge": "ch_3PanelCharge", "payment_intent": "pi_3PanelIntent", "reason": "fraudulent",
            "status": "needs_response", **fields}


def event(kind, obj, event_id=None):
    return {"id": event_id or f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "api_version": "2026-10-28.endive",
            "created": int(time.time()), "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": kind}


def signature(body: bytes, *, at=None, secret=WEBHOOK_SECRET) -> str:
    """The Stripe-Signature header, as Stripe computes it: HMAC-SHA256 of "{t}.{body}"."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def deliver(client, payload, *, header=None, body=None):
    body = json.dumps(payload).encode() if body is None else body
    extra = {} if header == "" else {"HTTP_STRIPE_SIGNATURE": header or signature(body)}
    return client.post(WEBHOOK, data=body, content_type="application/json", **extra)


def balance(user) -> Decimal:
    user.refresh_from_db()
    return user.balance


def kinds(payment) -> list[tuple[str, Decimal]]:
    return sorted(LedgerEntry.objects.filter(payment=payment).values_list("kind", "amount"))


# --- 1. Paid, once --------------------------------------------------------------------------------------


def test_a_paid_session_credits_the_payment_once_and_a_replay_changes_nothing(client, alice, payment):
    paid = event("checkout.session.completed", session_of(payment, client_secret="cs_secret_shh"))

    first = deliver(client, paid)
    again = deliver(client, paid)

    assert (first.status_code, again.status_code) == (200, 200)
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.credited == Decimal("10.00")
    assert payment.gateway_charge_ref == "pi_3PanelIntent"
    assert balance(alice) == Decimal("10.00")
    assert kinds(payment) == [("deposit", Decimal("10.00"))]
    kept = GatewayEvent.objects.get(event_id=paid["id"])
    assert kept.payment == payment and "cs_secret_shh" not in json.dumps(kept.payload)
    call_command("check_ledger")


def test_a_bonus_on_the_payment_is_credited_as_one_more_row(client, alice, card, make_payment):
    payment = make_payment(alice, card, amount="50.00", bonus="2.50", gateway_ref="cs_test_bonus")

    deliver(client, event("checkout.session.completed", session_of(payment)))

    assert kinds(payment) == [("bonus", Decimal("2.50")), ("deposit", Decimal("50.00"))]
    assert balance(alice) == Decimal("52.50")
    call_command("check_ledger")


def test_a_second_event_for_the_same_session_credits_nothing_more(client, alice, payment):
    deliver(client, event("checkout.session.completed", session_of(payment)))
    answer = deliver(client, event("checkout.session.async_payment_succeeded", session_of(payment)))

    assert answer.status_code == 200
    assert balance(alice) == Decimal("10.00") and kinds(payment) == [("deposit", Decimal("10.00"))]
    assert GatewayEvent.objects.filter(payment=payment).count() == 2


def test_a_session_found_only_by_its_id_is_still_credited(client, alice, payment):
    """The reference is missing (a session made by hand in the dashboard for this payment): its ID finds it."""
    deliver(client, event("checkout.session.completed", session_of(payment, client_reference_id=None, metadata={})))

    payment.refresh_from_db()
    assert payment.status == "paid" and balance(alice) == Decimal("10.00")


# --- 2. Not Stripe's: refused -------------------------------------------------------------------------------


def _forged(body):
    return signature(body, secret="whsec_NotTheRealOne")


def _stale(body):
    return signature(body, at=int(time.time()) - 301)


def _malformed(body):
    return "v1=" + signature(body).split("v1=")[1]


@pytest.mark.parametrize("make_header, alter", [
    (_forged, None),
    (lambda body: "", None),
    (_stale, None),
    (_malformed, None),
    (signature, lambda body: body.replace(b'"amount_total": 1000', b'"amount_total": 100000')),
], ids=["forged", "missing-header", "stale", "malformed-header", "altered-after-signing"])
def test_a_notification_not_signed_by_stripe_gets_400_and_changes_nothing(client, alice, payment, caplog,
                                                                          make_header, alter):
    body = json.dumps(event("checkout.session.completed", session_of(payment))).encode()
    header = make_header(body)
    sent = alter(body) if alter else body
    assert sent != body or alter is None

    with caplog.at_level("WARNING", logger="payments"):
        answer = deliver(client, None, header=header, body=sent)

    assert answer.status_code == 400
    assert not GatewayEvent.objects.exists() and not LedgerEntry.objects.exists()
    payment.refresh_from_db()
    assert payment.status == "pending" and balance(alice) == 0
    assert "notification refused" in caplog.text
    assert WEBHOOK_SECRET not in caplog.text
    if header:
        assert header.split("v1=")[1] not in caplog.text


def test_without_a_webhook_secret_nothing_is_accepted(client, alice, payment, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""

    answer = deliver(client, event("checkout.session.completed", session_of(payment)))

    assert answer.status_code == 400
    assert not GatewayEvent.objects.exists() and balance(alice) == 0


def test_a_signed_body_that_is_not_an_event_gets_400(client, payment):
    body = b'["not", "an", "event"]'

    assert deliver(client, None, body=body).status_code == 400
    assert not GatewayEvent.objects.exists()


# --- 3. Not what the panel asked -------------------------------------------------------------------------


@pytest.mark.parametrize("fields", [{"amount_total": 999}, {"currency": "eur"}], ids=["amount", "currency"])
def test_a_session_for_another_amount_or_currency_goes_before_staff_uncredited(client, alice, payment, fields):
    deliver(client, event("checkout.session.completed", session_of(payment, **fields)))

    payment.refresh_from_db()
    assert payment.status == "review" and payment.credited == 0
    assert balance(alice) == 0 and not LedgerEntry.objects.exists()
    assert StaffNotice.objects.filter(subject__contains=f"Payment #{payment.pk}").exists()


# --- 4. The session's other outcomes ----------------------------------------------------------------------


@pytest.mark.parametrize("kind, fields, status, credited", [
    ("checkout.session.async_payment_succeeded", {}, "paid", Decimal("10.00")),
    ("checkout.session.async_payment_failed", {"payment_status": "unpaid"}, "failed", Decimal("0")),
    ("checkout.session.expired", {"status": "expired", "payment_status": "unpaid", "payment_intent": None},
     "expired", Decimal("0")),
    ("checkout.session.completed", {"payment_status": "unpaid"}, "pending", Decimal("0")),
], ids=["async-succeeded", "async-failed", "expired", "completed-unpaid"])
def test_each_session_event_moves_the_payment_as_stripe_says(client, alice, payment, kind, fields, status, credited):
    answer = deliver(client, event(kind, session_of(payment, **fields)))

    assert answer.status_code == 200
    payment.refresh_from_db()
    assert payment.status == status
    assert balance(alice) == credited
    assert sum(amount for _, amount in kinds(payment)) == credited


def test_an_async_payment_that_clears_after_completed_unpaid_is_credited(client, alice, payment):
    deliver(client, event("checkout.session.completed", session_of(payment, payment_status="unpaid")))
    deliver(client, event("checkout.session.async_payment_succeeded", session_of(payment)))

    payment.refresh_from_db()
    assert payment.status == "paid" and balance(alice) == Decimal("10.00")


def test_an_event_of_another_kind_is_kept_and_changes_nothing(client, alice, payment):
    answer = deliver(client, event("payment_intent.created", {"id": "pi_3PanelIntent", "object": "payment_intent"}))

    assert answer.status_code == 200
    assert GatewayEvent.objects.filter(kind="payment_intent.created").exists()
    payment.refresh_from_db()
    assert payment.status == "pending" and balance(alice) == 0


# --- 5. Money taken back -----------------------------------------------------------------------------------


@pytest.fixture
def spent(client, alice, carol, payment):
    """The payment credited, and the whole of it spent."""
    deliver(client, event("checkout.session.completed", session_of(payment)))
    wallet_adjust(user=alice, amount=Decimal("-10.00"), note="spent on orders", created_by=carol)
    assert balance(alice) == 0
    return payment


def test_refunds_take_back_what_stripe_refunded_so_far_even_below_zero(client, alice, spent):
    partial = event("charge.refunded", charge_of(spent, amount_refunded=400))

    deliver(client, partial)

    spent.refresh_from_db()
    assert spent.status == "paid" and spent.taken_back == Decimal("4.00")
    assert balance(alice) == Decimal("-4.00")
    alice.refresh_from_db()
    assert alice.flagged_at is not None
    call_command("check_ledger")

    deliver(client, event("charge.refunded", charge_of(spent, amount_refunded=1000)))
    deliver(client, partial)  # the first one again: nothing more

    spent.refresh_from_db()
    assert spent.status == "refunded" and spent.taken_back == Decimal("10.00")
    assert balance(alice) == Decimal("-10.00")
    assert [amount for kind, amount in kinds(spent) if kind == "payment_refund"] == [Decimal("-6.00"), Decimal("-4.00")]
    call_command("check_ledger")


def test_a_whole_refund_takes_back_the_bonus_with_it(client, alice, card, make_payment):
    payment = make_payment(alice, card, amount="20.00", bonus="1.00", gateway_ref="cs_test_bonus")
    deliver(client, event("checkout.session.completed", session_of(payment)))

    deliver(client, event("charge.refunded", charge_of(payment, amount_refunded=2000,
                                                       metadata={"reference": str(payment.reference)})))

    payment.refresh_from_db()
    assert payment.status == "refunded" and balance(alice) == 0
    assert ("payment_refund", Decimal("-21.00")) in kinds(payment)
    call_command("check_ledger")


def test_a_dispute_takes_back_the_rest_once(client, alice, spent):
    deliver(client, event("charge.refunded", charge_of(spent, amount_refunded=400)))

    deliver(client, event("charge.dispute.created", dispute_of(spent, amount=1000)))
    deliver(client, event("charge.dispute.created", dispute_of(spent, amount=1000)))  # another event ID

    spent.refresh_from_db()
    assert spent.status == "disputed" and spent.taken_back == Decimal("10.00")
    assert balance(alice) == Decimal("-10.00")
    assert [amount for kind, amount in kinds(spent) if kind == "dispute"] == [Decimal("-6.00")]
    alice.refresh_from_db()
    assert alice.flagged_at is not None
    call_command("check_ledger")


def test_a_dispute_of_part_of_the_charge_takes_back_that_part(client, alice, spent):
    deliver(client, event("charge.dispute.created", dispute_of(spent, amount=250)))

    spent.refresh_from_db()
    assert spent.status == "disputed" and balance(alice) == Decimal("-2.50")
    assert [amount for kind, amount in kinds(spent) if kind == "dispute"] == [Decimal("-2.50")]
    call_command("check_ledger")


def test_a_refund_of_a_payment_never_credited_takes_nothing(client, alice, payment):
    deliver(client, event("charge.refunded", charge_of(payment, amount_refunded=1000,
                                                       metadata={"reference": str(payment.reference)})))

    payment.refresh_from_db()
    assert payment.status == "pending" and balance(alice) == 0 and not LedgerEntry.objects.exists()


# --- 6. create and fetch against a fake API -------------------------------------------------------------------


def _session_answer(session_id="cs_test_made", **fields):
    return {"id": session_id, "object": "checkout.session", "status": "open", "payment_status": "unpaid",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}", "expires_at": int(time.time()) + 3600,
            "amount_total": 1050, "currency": "usd", "payment_intent": None, **fields}


def _form(call) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(call.request.body).items()}


URLS = Urls(notify="https://panel.test/payments/webhook/stripe/", success="https://panel.test/p/1/?returned=1",
            cancel="https://panel.test/p/1/?canceled=1")


def test_create_asks_stripe_for_the_total_in_cents_with_our_reference(fake_api, alice, card, make_payment):
    payment = make_payment(alice, card, amount="10.00", fee="0.50", gateway_ref="",
                           expires_at=timezone.now() + timedelta(hours=2))
    fake_api.add("POST", SESSIONS, json=_session_answer())

    checkout = stripe_gateway.from_settings().create(payment, urls=URLS, description="Panel: add funds for alice")

    assert (checkout.gateway_ref, checkout.redirect_url) == ("cs_test_made", "https://checkout.stripe.com/c/pay/cs_test_made")
    call = fake_api.calls[0]
    form = _form(call)
    assert form["line_items[0][price_data][unit_amount]"] == "1050"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["line_items[0][price_data][product_data][name]"] == "Panel: add funds for alice"
    assert form["mode"] == "payment" and form["line_items[0][quantity]"] == "1"
    assert form["client_reference_id"] == str(payment.reference)
    assert form["metadata[reference]"] == form["payment_intent_data[metadata][reference]"] == str(payment.reference)
    assert (form["success_url"], form["cancel_url"]) == (URLS.success, URLS.cancel)
    assert int(form["expires_at"]) == int(payment.expires_at.timestamp())
    assert call.request.headers["Idempotency-Key"] == str(payment.reference)
    assert call.request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("lifetime, expected", [
    (timedelta(minutes=5), timedelta(minutes=31)), (timedelta(hours=48), timedelta(hours=23, minutes=59)),
], ids=["too-short", "too-long"])
def test_create_keeps_the_session_within_what_stripe_allows(fake_api, alice, card, make_payment, lifetime, expected):
    payment = make_payment(alice, card, gateway_ref="", expires_at=timezone.now() + lifetime)
    fake_api.add("POST", SESSIONS, json=_session_answer())

    stripe_gateway.from_settings().create(payment, urls=URLS, description="top-up")

    asked = int(_form(fake_api.calls[0])["expires_at"]) - time.time()
    assert abs(asked - expected.total_seconds()) < 5


def test_a_create_retried_sends_the_same_request_under_the_same_key(fake_api, alice, card, make_payment):
    """Stripe answers a repeated idempotency key with the first session only if the request is the same."""
    payment = make_payment(alice, card, gateway_ref="", expires_at=timezone.now() + timedelta(hours=1))
    fake_api.add("POST", SESSIONS, status=500, json={"error": {"type": "api_error", "message": "try again"}})
    fake_api.add("POST", SESSIONS, json=_session_answer())

    checkout = stripe_gateway.from_settings().create(payment, urls=URLS, description="top-up")

    assert checkout.gateway_ref == "cs_test_made"
    first, retry = fake_api.calls
    assert first.request.headers["Idempotency-Key"] == retry.request.headers["Idempotency-Key"] == str(payment.reference)
    assert first.request.body == retry.request.body


FAULTS = {
    "read-timeout": {"body": requests.exceptions.ReadTimeout("read timed out")},
    "connect-timeout": {"body": requests.exceptions.ConnectTimeout("connect timed out")},
    "html-500": {"status": 500, "body": "<html><body>502 Bad Gateway</body></html>", "content_type": "text/html"},
    "broken-json-200": {"status": 200, "body": '{"id": "cs_test_x", "url": ', "content_type": "application/json"},
    "connection-dropped": {"body": requests.exceptions.ConnectionError("Connection aborted.")},
    "bad-key-401": {"status": 401, "json": {"error": {"type": "invalid_request_error",
                                                      "message": f"Invalid API Key provided: {KEY[:8]}****{KEY[-4:]}"}}},
    "echoed-key-500": {"status": 500, "body": f"<pre>Authorization: Bearer {KEY}</pre>", "content_type": "text/html"},
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_every_fault_of_create_is_a_gateway_error_without_the_key(fake_api, alice, card, make_payment, fault):
    payment = make_payment(alice, card, gateway_ref="")
    fake_api.add("POST", SESSIONS, **fault)

    with pytest.raises(GatewayError) as caught:
        stripe_gateway.from_settings().create(payment, urls=URLS, description="top-up")

    message = str(caught.value)
    assert message.startswith("Stripe")
    assert KEY not in message and KEY[-4:] not in message and "sk_test_" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_request_stripe_refuses_is_a_refusal_with_its_reason(fake_api, alice, card, make_payment):
    payment = make_payment(alice, card, gateway_ref="")
    fake_api.add("POST", SESSIONS, status=400, json={"error": {
        "type": "invalid_request_error", "code": "amount_too_small",
        "message": "The Checkout Session's total amount due must add up to at least $0.50 usd"}})

    with pytest.raises(GatewayRefused, match="amount_too_small.*at least"):
        stripe_gateway.from_settings().create(payment, urls=URLS, description="top-up")


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_payment_stripe_could_not_make_is_failed_and_refused(fake_api, alice, card, fault):
    fake_api.add("POST", SESSIONS, **fault)

    with pytest.raises(services.PaymentRefused):
        services.payment_start(user=alice, method=card, amount=Decimal("10"))

    made = Payment.objects.get(user=alice)
    assert made.status == "failed" and made.redirect_url == "" and made.gateway_ref == ""
    assert KEY not in made.failure_reason and "sk_test_" not in made.failure_reason
    assert balance(alice) == 0


def test_payment_start_keeps_the_session_and_its_page(fake_api, alice, card):
    fake_api.add("POST", SESSIONS, json=_session_answer("cs_test_started"))

    made = services.payment_start(user=alice, method=card, amount=Decimal("10.50"))

    made.refresh_from_db()
    assert (made.status, made.gateway_ref) == ("pending", "cs_test_started")
    assert made.redirect_url == "https://checkout.stripe.com/c/pay/cs_test_started"
    assert _form(fake_api.calls[0])["client_reference_id"] == str(made.reference)


@pytest.mark.parametrize("fields, outcome", [
    ({"status": "complete", "payment_status": "paid"}, Outcome.PAID),
    ({"status": "expired", "payment_status": "unpaid"}, Outcome.EXPIRED),
    ({"status": "open", "payment_status": "unpaid"}, Outcome.PENDING),
    ({"status": "complete", "payment_status": "unpaid"}, Outcome.PENDING),
], ids=["paid", "expired", "open", "complete-unpaid"])
def test_fetch_reads_the_session_state(fake_api, payment, fields, outcome):
    answer = session_of(payment, **fields)
    fake_api.add("GET", f"{SESSIONS}/{payment.gateway_ref}", json=answer)
    gateway = stripe_gateway.from_settings()

    notice, again = gateway.fetch(payment), gateway.fetch(payment)

    assert notice.outcome == outcome
    assert notice.event_id == again.event_id == f"fetch:{payment.gateway_ref}:{outcome}"
    assert (notice.reference, notice.gateway_ref, notice.charge_ref) == (
        str(payment.reference), payment.gateway_ref, "pi_3PanelIntent")
    assert (notice.amount, notice.currency) == (Decimal("10.00"), "USD")


@pytest.mark.parametrize("fault", [FAULTS["read-timeout"], FAULTS["html-500"], FAULTS["broken-json-200"]],
                         ids=["timeout", "html-500", "broken-json"])
def test_a_fetch_that_fails_is_a_gateway_error_and_changes_nothing(fake_api, alice, payment, fault):
    fake_api.add("GET", f"{SESSIONS}/{payment.gateway_ref}", **fault)

    with pytest.raises(GatewayError) as caught:
        stripe_gateway.from_settings().fetch(payment)
    assert KEY not in str(caught.value)

    assert services.payment_check(payment.pk, min_gap_seconds=0) == "the gateway could not be asked"
    payment.refresh_from_db()
    assert payment.status == "pending" and balance(alice) == 0


# --- 7. Over real HTTP: a stand-in Stripe API -----------------------------------------------------------------


class StandIn:
    """Just enough of Stripe's API for Checkout: sessions made by POST, read by GET, paid by the test."""

    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []

    def create(self, form: dict[str, str]) -> dict:
        session_id = f"cs_test_{uuid.uuid4().hex}"
        session = {
            "id": session_id, "object": "checkout.session", "mode": form["mode"], "livemode": False,
            "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
            "currency": form["line_items[0][price_data][currency]"],
            "client_reference_id": form["client_reference_id"], "metadata": {"reference": form["metadata[reference]"]},
            "payment_intent": None, "payment_status": "unpaid", "status": "open", "created": int(time.time()),
            "expires_at": int(form["expires_at"]), "success_url": form["success_url"],
            "cancel_url": form["cancel_url"], "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return session

    def pay(self, session_id: str) -> None:
        self.sessions[session_id].update(status="complete", payment_status="paid", payment_intent="pi_3StandIn")


def stand_in_handler(api: StandIn):
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_POST(self):
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
            self._seen(form)
            if self.path != "/v1/checkout/sessions":
                return self._answer(404, {"error": {"type": "invalid_request_error", "message": "Unrecognized URL"}})
            self._answer(200, api.create(form))

        def do_GET(self):
            self._seen({})
            session = api.sessions.get(self.path.split("?")[0].removeprefix("/v1/checkout/sessions/"))
            if session is None:
                return self._answer(404, {"error": {"type": "invalid_request_error", "message": "No such session"}})
            self._answer(200, session)

        def _seen(self, form):
            api.requests.append((self.command, self.path, {**dict(self.headers), **form}))

        def _answer(self, status, payload):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", "req_StandIn")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def stand_in(settings):
    api = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), stand_in_handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    yield api
    server.shutdown()
    server.server_close()


def test_over_http_a_payment_is_started_and_a_missed_webhook_is_made_good_by_asking(stand_in, alice, card):
    payment = services.payment_start(user=alice, method=card, amount=Decimal("12.34"))

    session = stand_in.sessions[payment.gateway_ref]
    assert payment.redirect_url == session["url"] and payment.status == "pending"
    assert (session["amount_total"], session["currency"]) == (1234, "usd")
    method, path, sent = stand_in.requests[0]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert sent["Idempotency-Key"] == str(payment.reference) and sent["Authorization"] == f"Bearer {KEY}"

    assert services.payment_check(payment.pk, min_gap_seconds=0) == "still pending"
    assert balance(alice) == 0

    stand_in.pay(payment.gateway_ref)
    assert services.payment_check(payment.pk, min_gap_seconds=0).startswith("credited 12.34")
    asked_again = stripe_gateway.from_settings().fetch(payment)  # the same state gives the same event
    assert services.notice_apply(gateway="stripe", notice=asked_again, source="fetch").startswith("duplicate")

    payment.refresh_from_db()
    assert payment.status == "paid" and payment.gateway_charge_ref == "pi_3StandIn"
    assert balance(alice) == Decimal("12.34") and kinds(payment) == [("deposit", Decimal("12.34"))]
    assert ("GET", f"/v1/checkout/sessions/{payment.gateway_ref}") in [(m, p) for m, p, _ in stand_in.requests]
    call_command("check_ledger")
