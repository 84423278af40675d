"""Refusals come back as HTTP 200 {"error": ...} in the standard's wording, and a refused add charges nothing."""

from decimal import Decimal

import pytest

from orders import services as order_services
from orders.models import Order, Refill
from resellerapi import api
from tests.factories import ServiceFactory

from .conftest import API_PATH, LINK, balance_of
from .test_actions import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def nothing_charged(funded):
    yield
    assert not Order.objects.exists()
    assert balance_of(funded) == Decimal("10.00000")


@pytest.mark.parametrize(("fields", "error"), [
    ({"quantity": "0"}, "Quantity less than minimal 10"),
    ({"quantity": "-5"}, "Quantity less than minimal 10"),
    ({"quantity": "9"}, "Quantity less than minimal 10"),
    ({"quantity": "10001"}, "Quantity more than maximal 10000"),
    ({"quantity": "99999999999999999999999"}, "Incorrect request"),
    ({"quantity": "abc"}, "Incorrect request"),
    ({"quantity": "1.5"}, "Incorrect request"),
    ({"quantity": ""}, "Incorrect request"),
    ({"link": ""}, "Incorrect link"),
    ({"link": "   "}, "Incorrect link"),
    ({"link": "https://instagram.com/" + "a" * 2000}, "Incorrect link"),
    ({"link": "instagram.com/p/abc"}, "Incorrect link"),
    ({"link": "javascript:alert(1)"}, "Incorrect link"),
    ({"runs": "3", "interval": "10"}, "Drip-feed is not available for this service"),
    ({"request_id": "r" * 101}, "Incorrect request"),
])
def test_add_refuses_bad_input_with_the_standard_message_and_charges_nothing(call, service, nothing_charged,
                                                                          no_broker, fields, error):
    order = {"service": service.pk, "link": LINK, "quantity": "1000", **fields}
    assert call("add", **order) == {"error": error}


@pytest.mark.parametrize("service_id", ["999999", "abc", "", "-1", "1.0", "9" * 30])
def test_add_refuses_a_service_that_does_not_exist(call, nothing_charged, service_id):
    assert call("add", service=service_id, link=LINK, quantity=100) == {"error": "Incorrect service ID"}


def test_add_refuses_a_disabled_service(call, nothing_charged):
    hidden = ServiceFactory(enabled=False)
    assert call("add", service=hidden.pk, link=LINK, quantity=100) == {"error": "Incorrect service ID"}


def test_add_above_the_balance_is_refused_with_not_enough_funds(call, service, nothing_charged, no_broker):
    assert call("add", service=service.pk, link=LINK, quantity=6000) == {"error": "Not enough funds on balance"}


@pytest.mark.parametrize("fields", [{}, {"key": ""}, {"key": "not-a-key"}, {"key": "x" * 500}])
def test_a_missing_or_wrong_key_is_an_invalid_api_key(client, key, fields):
    response = client.post(API_PATH, {"action": "balance", **fields})
    assert (response.status_code, response.json()) == (200, {"error": "Invalid API key"})


def test_a_key_differing_only_in_case_is_invalid(call, key):
    assert call("balance", key=key.upper()) == {"error": "Invalid API key"}


def test_an_inactive_users_key_is_invalid(call, funded, key):
    funded.is_active = False
    funded.save(update_fields=["is_active"])
    assert call("balance") == {"error": "Invalid API key"}


@pytest.mark.parametrize("action", ["", "bogus", "ADD", "services;", "__init__", "HANDLERS"])
def test_an_unknown_or_missing_action_is_an_incorrect_request(call, action):
    assert call(action) == {"error": "Incorrect request"}


@pytest.mark.parametrize(("action", "fields"), [
    ("status", {}), ("status", {"orders": " , ,"}), ("refill", {}), ("refill_status", {}), ("cancel", {}),
])
def test_an_action_without_its_ids_is_an_incorrect_request(call, action, fields):
    assert call(action, **fields) == {"error": "Incorrect request"}


@pytest.mark.parametrize(("action", "field"), [
    ("status", "orders"), ("refill", "orders"), ("refill_status", "refills"), ("cancel", "orders"),
])
def test_more_than_100_ids_are_refused_and_100_are_not(call, action, field):
    assert call(action, **{field: ",".join(str(n) for n in range(1, 102))}) == {"error": "Too many IDs (100 at most)"}
    assert "error" not in call(action, **{field: ",".join(str(n) for n in range(1, 101))})


@pytest.mark.parametrize("order_id", ["999999", "abc", "-1", "0", "9" * 40])
def test_status_of_an_unknown_order_is_an_incorrect_order_id(call, order_id):
    assert call("status", order=order_id) == {"error": "Incorrect order ID"}


def test_status_refill_and_cancel_refuse_another_customers_order_and_change_nothing(call, bob, service):
    bobs = make_order(bob, service, status=Order.Status.COMPLETED)
    assert call("status", order=bobs.pk) == {"error": "Incorrect order ID"}
    assert call("refill", order=bobs.pk) == {"error": "Incorrect order ID"}
    assert call("cancel", orders=str(bobs.pk)) == [{"order": bobs.pk, "cancel": {"error": "Incorrect order ID"}}]
    assert not Refill.objects.exists()
    assert Order.objects.get(pk=bobs.pk).cancel_state == ""


def test_refill_of_a_service_without_refills_says_so(call, funded):
    no_refill = ServiceFactory(refill=False)
    order = make_order(funded, no_refill, status=Order.Status.COMPLETED)
    assert call("refill", order=order.pk) == {"error": "This service does not offer refills."}


def test_a_second_open_refill_of_one_order_is_refused(call, funded, service):
    order = make_order(funded, service, status=Order.Status.COMPLETED)
    assert "refill" in call("refill", order=order.pk)
    assert call("refill", order=order.pk) == {"error": "A refill of this order is already open."}
    assert Refill.objects.count() == 1


def test_cancel_of_a_final_order_is_refused(call, funded, service):
    order = make_order(funded, service, status=Order.Status.COMPLETED)
    assert call("cancel", orders=str(order.pk)) == [
        {"order": order.pk, "cancel": {"error": "This order can no longer be canceled."}}]


def test_an_unexpected_error_answers_200_with_a_generic_error_and_a_log_line(call, key, caplog, monkeypatch):
    def broken(user, fields):
        raise RuntimeError(f"boom near {fields['key']}")

    monkeypatch.setitem(api.ACTIONS, "balance", broken)
    assert call("balance") == {"error": "Internal error, try again later"}
    assert "RuntimeError" in caplog.text and "boom near ***" in caplog.text
    assert key not in caplog.text


def test_an_unexpected_error_on_one_item_leaves_the_others_answered(call, funded, service, monkeypatch, caplog):
    good = make_order(funded, service, status=Order.Status.IN_PROGRESS)
    bad = make_order(funded, service, status=Order.Status.IN_PROGRESS)
    real = order_services.order_cancel_request

    def flaky(*, user, order_id):
        if order_id == bad.pk:
            raise RuntimeError("database hiccup")
        return real(user=user, order_id=order_id)

    monkeypatch.setattr("resellerapi.api.order_cancel_request", flaky)
    assert call("cancel", orders=f"{bad.pk},{good.pk}") == [
        {"order": bad.pk, "cancel": {"error": "Internal error, try again later"}},
        {"order": good.pk, "cancel": 1},
    ]
    assert "database hiccup" in caplog.text


def test_an_answer_that_is_not_json_able_still_answers_json(call, key, monkeypatch, caplog):
    monkeypatch.setitem(api.ACTIONS, "balance", lambda user, fields: {"balance": object()})
    assert call("balance") == {"error": "Internal error, try again later"}
    assert "not serialisable" in caplog.text
