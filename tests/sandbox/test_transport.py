"""The ways a request may reach the sandbox: form POST, GET, JSON body, and the key under three names."""

import json

import pytest

from .conftest import API_PATH

pytestmark = pytest.mark.django_db


def test_form_post_is_answered_as_json(client, account):
    response = client.post(API_PATH, {"key": account.api_key, "action": "balance"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"balance": "100.00000", "currency": "USD"}


def test_get_query_string_is_accepted(client, account):
    response = client.get(API_PATH, {"key": account.api_key, "action": "balance"})
    assert response.json()["balance"] == "100.00000"


def test_json_body_is_accepted_with_numbers_and_lists(client, account, instant):
    body = {
        "key": account.api_key,
        "action": "add",
        "service": 1,
        "link": "https://x.test/a",
        "quantity": 100,
    }
    order = client.post(API_PATH, json.dumps(body), content_type="application/json").json()["order"]
    status = {"key": account.api_key, "action": "status", "orders": [order, 999999]}
    answer = client.post(API_PATH, json.dumps(status), content_type="application/json").json()
    assert answer[str(order)]["status"] == "Completed"
    assert answer["999999"] == {"error": "Incorrect order ID"}


def test_trailing_slash_url_answers_too(client, account):
    response = client.post(API_PATH + "/", {"key": account.api_key, "action": "balance"})
    assert response.json()["currency"] == "USD"


@pytest.mark.parametrize("field", ["key", "api", "api_key"])
def test_the_key_may_come_in_any_of_the_three_usual_fields(client, account, field):
    response = client.post(API_PATH, {field: account.api_key, "action": "balance"})
    assert response.json() == {"balance": "100.00000", "currency": "USD"}


@pytest.mark.parametrize("key", ["", "not-a-key", "0" * 32])
def test_an_invalid_key_is_refused_at_http_200(client, account, key):
    response = client.post(API_PATH, {"key": key, "action": "balance"})
    assert response.status_code == 200
    assert response.json() == {"error": "Invalid API key"}


def test_a_missing_key_is_refused(client, account):
    assert client.post(API_PATH, {"action": "services"}).json() == {"error": "Invalid API key"}


@pytest.mark.parametrize("action", ["", "delete_everything", "STATUS"])
def test_an_unknown_or_missing_action_is_an_incorrect_request(call, action):
    assert call(action) == {"error": "Incorrect request"}


def test_a_json_body_that_is_not_an_object_is_refused_without_error_500(client, account):
    response = client.post(API_PATH, "[1, 2", content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"error": "Invalid API key"}


def test_the_sandbox_needs_no_csrf_token(account):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(API_PATH, {"key": account.api_key, "action": "balance"}).status_code == 200
