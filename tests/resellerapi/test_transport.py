"""The same fields work as a POST form, a GET query string, a JSON body or multipart, with or without a slash."""

import json
from decimal import Decimal

import pytest

from orders.models import Order
from tests.factories import ProviderServiceFactory, ServiceFactory

from .conftest import API_PATH, LINK, balance_of

pytestmark = pytest.mark.django_db


def test_a_post_form_is_answered(client, key):
    response = client.post(API_PATH, {"key": key, "action": "balance"})
    assert response.json() == {"balance": "10.00000", "currency": "USD"}


def test_a_get_query_string_is_answered(client, key):
    response = client.get(API_PATH, {"key": key, "action": "balance"})
    assert response.json() == {"balance": "10.00000", "currency": "USD"}


def test_a_json_body_is_answered(client, key):
    response = client.post(API_PATH, {"key": key, "action": "balance"}, content_type="application/json")
    assert response.json() == {"balance": "10.00000", "currency": "USD"}


def test_a_json_body_with_a_byte_order_mark_and_no_content_type_is_answered(client, key):
    body = b"\xef\xbb\xbf" + json.dumps({"key": key, "action": "balance"}).encode()
    response = client.generic("POST", API_PATH, body, content_type="text/plain")
    assert response.json() == {"balance": "10.00000", "currency": "USD"}


def test_a_multipart_form_is_answered(client, key):
    response = client.post(API_PATH, {"key": key, "action": "balance"})  # the test client posts multipart
    assert response.request["CONTENT_TYPE"].startswith("multipart/form-data")
    assert response.json()["balance"] == "10.00000"


def test_a_urlencoded_form_is_answered(client, key):
    response = client.generic("POST", API_PATH, f"key={key}&action=balance",
                              content_type="application/x-www-form-urlencoded")
    assert response.json()["balance"] == "10.00000"


def test_the_url_with_a_trailing_slash_answers_too(client, key):
    response = client.post(API_PATH + "/", {"key": key, "action": "balance"})
    assert response.json()["balance"] == "10.00000"


@pytest.mark.parametrize("field", ["api_key", "api"])
def test_the_key_is_also_read_from_the_field_names_some_clients_use(client, key, field):
    response = client.post(API_PATH, {field: key, "action": "balance"})
    assert response.json()["balance"] == "10.00000"


def test_the_body_wins_over_the_query_string(client, key, bob_key):
    response = client.post(f"{API_PATH}?key={bob_key}&action=services", {"key": key, "action": "balance"})
    assert response.json()["balance"] == "10.00000"


def test_json_numbers_and_lists_are_read_like_form_text(client, key, service, no_broker, funded):
    answer = client.post(API_PATH, {"key": key, "action": "add", "service": service.pk, "link": LINK,
                                    "quantity": 1000.0}, content_type="application/json").json()
    order = Order.objects.get()
    assert answer == {"order": order.pk} and order.quantity == 1000
    statuses = client.post(API_PATH, {"key": key, "action": "status", "orders": [order.pk, 999999]},
                           content_type="application/json").json()
    assert set(statuses) == {str(order.pk), "999999"}


def test_json_comments_as_a_list_are_one_comment_a_line(client, key, funded, no_broker):
    comments = ServiceFactory(rate=Decimal("8"), provider_service=ProviderServiceFactory(
        external_id="303", type="Custom Comments", min_quantity=1, max_quantity=100))
    answer = client.post(API_PATH, {"key": key, "action": "add", "service": comments.pk, "link": LINK,
                                    "comments": ["great", "love it", "wow"]}, content_type="application/json")
    order = Order.objects.get(pk=answer.json()["order"])
    assert (order.units, order.charge) == (3, Decimal("0.02400"))
    assert balance_of(order.user) == Decimal("9.97600")


def test_a_put_with_a_form_body_is_read_too(client, key):
    response = client.generic("PUT", API_PATH, f"key={key}&action=balance",
                              content_type="application/x-www-form-urlencoded")
    assert response.json()["balance"] == "10.00000"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2, 3]", b'"text"', b"{" * 100000, b"\xff\xfe{}"])
def test_a_json_body_that_is_no_object_is_an_incorrect_request(client, key, body):
    response = client.generic("POST", API_PATH, body, content_type="application/json")
    assert (response.status_code, response.json()) == (200, {"error": "Incorrect request"})


@pytest.mark.parametrize("value", ["a\x00b", "\ud800"])
def test_text_no_database_can_store_is_an_incorrect_request(client, key, value):
    body = json.dumps({"key": key, "action": "balance", "link": value})
    response = client.generic("POST", API_PATH, body, content_type="application/json")
    assert response.json() == {"error": "Incorrect request"}


def test_a_body_above_djangos_upload_limit_is_an_incorrect_request(client, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.generic("POST", API_PATH, f"key={key}&action=balance&pad={'x' * 2000}",
                              content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json()) == (200, {"error": "Incorrect request"})
