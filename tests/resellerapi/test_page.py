"""The customers' API page: the docs from the one source the dispatcher uses, examples, and only your key."""

import hashlib

import pytest
from django.urls import reverse

from accounts.models import User
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


def test_the_page_shows_the_last_characters_of_the_viewers_key_never_the_key(page, key, bob_key):
    assert f'set, ending in <code>…{key[-4:]}</code>' in page
    assert key not in page and bob_key not in page and f"…{bob_key[-4:]}" not in page


def test_a_new_key_is_shown_once_on_the_answer_to_the_post_then_never_again(client, funded):
    client.force_login(funded)
    response = client.post(reverse("resellerapi:key_new"))
    new_key = response.context["new_key"]
    html = response.content.decode()
    assert f'<code id="api-key">{new_key}</code>' in html and "the only time it is shown" in html
    again = client.get(reverse("resellerapi:page")).content.decode()
    assert new_key not in again and f"…{new_key[-4:]}" in again
    assert new_key not in str(dict(client.session))  # kept nowhere: not in the session either


def test_the_database_holds_only_a_digest_and_the_last_four_characters_of_a_key(key, funded):
    funded.refresh_from_db()
    stored = [getattr(funded, field.attname) for field in User._meta.concrete_fields]
    assert key not in [str(value) for value in stored]
    assert funded.api_key_digest == hashlib.sha256(key.encode()).hexdigest() and funded.api_key_hint == key[-4:]


def test_the_page_is_never_cached(client, funded, key):
    client.force_login(funded)
    response = client.get(reverse("resellerapi:page"))
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_customer_without_a_key_is_offered_one_and_the_page_makes_none(client, bob):
    client.force_login(bob)
    page = client.get(reverse("resellerapi:page")).content.decode()
    assert "Create my API key" in page and 'id="api-key"' not in page
    bob.refresh_from_db()
    assert bob.api_key_digest is None


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


def test_staff_see_the_end_of_their_own_key_on_the_page(client, carol):
    key = api_key_rotate(user=carol)
    client.force_login(carol)
    assert f"…{key[-4:]}" in client.get(reverse("resellerapi:page")).content.decode()
