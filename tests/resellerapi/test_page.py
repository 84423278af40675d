"""The customers' API page: the docs from the one source the dispatcher uses, examples, and only your key."""

import pytest
from django.urls import reverse

from accounts.services import api_key_rotate
from resellerapi import api, docs

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, funded, key):
    client.force_login(funded)
    response = client.get(reverse("resellerapi:page"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_api_page_needs_a_login(client):
    response = client.get(reverse("resellerapi:page"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_shows_the_viewers_key_and_no_one_elses(page, key, bob_key):
    assert f'<code id="api-key">{key}</code>' in page
    assert bob_key not in page


def test_bob_sees_his_key_not_alices(client, bob, bob_key, key):
    client.force_login(bob)
    page = client.get(reverse("resellerapi:page")).content.decode()
    assert bob_key in page and key not in page


def test_the_page_is_never_cached(client, funded, key):
    client.force_login(funded)
    response = client.get(reverse("resellerapi:page"))
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_customer_without_a_key_is_offered_one_and_the_page_makes_none(client, bob):
    client.force_login(bob)
    page = client.get(reverse("resellerapi:page")).content.decode()
    assert "Create my API key" in page and 'id="api-key"' not in page
    bob.refresh_from_db()
    assert bob.api_key is None


def test_the_page_shows_the_endpoint_url_and_a_rotate_button(page):
    assert '<code id="endpoint">http://testserver/api/v2</code>' in page
    assert "Rotate key" in page and reverse("resellerapi:key_new") in page


def test_the_page_documents_every_action_the_api_serves_with_its_example_answer(page):
    assert set(api.ACTIONS) == set(api.HANDLERS) == {a.name for a in docs.ACTIONS}
    for action in docs.ACTIONS:
        assert f'id="action-{action.name}"' in page
        for call in action.calls:
            assert call.title in page
            assert call.answer_json.replace('"', "&quot;") in page


def test_the_page_documents_the_fields_of_every_service_type_and_every_error(page):
    for add_type in docs.ADD_TYPES:
        assert f"<td>{add_type.type}</td>" in page
    for message, _ in docs.ERRORS:
        assert f"<code>{message}</code>" in page


def test_the_page_has_curl_python_and_php_examples_against_the_endpoint(page):
    assert "curl -X POST http://testserver/api/v2 -d key=YOUR_API_KEY -d action=balance" in page
    assert 'API_URL = &quot;http://testserver/api/v2&quot;' in page and "import requests" in page
    assert "$apiUrl = &#x27;http://testserver/api/v2&#x27;" in page and "curl_init" in page


def test_an_undocumented_action_is_not_served(monkeypatch, call):
    # The dispatcher's table is built from docs.ACTIONS: a handler alone does not make an action.
    assert "refund_everything" not in api.ACTIONS
    monkeypatch.setitem(api.HANDLERS, "balance_doubled", lambda user, fields: {"balance": "2"})
    assert call("balance_doubled") == {"error": "Incorrect request"}


def test_staff_see_their_own_key_on_the_page(client, carol):
    key = api_key_rotate(user=carol)
    client.force_login(carol)
    assert key in client.get(reverse("resellerapi:page")).content.decode()
