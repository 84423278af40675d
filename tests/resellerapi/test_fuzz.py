"""Whatever is thrown at /api/v2, the answer is HTTP 200 and a JSON object or list: never a 500, never HTML."""

import json
from urllib.parse import quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resellerapi import docs

from .conftest import API_PATH

pytestmark = pytest.mark.django_db

FIELD_NAMES = ["key", "api_key", "api", "action", "service", "link", "quantity", "runs", "interval", "order",
               "orders", "refill", "refills", "comments", "request_id", "country", "device", "type_of_traffic",
               "username", "min", "max", "posts", "expiry", "delay"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
CONTENT_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=xx",
                 "application/json", "application/json; charset=latin-1", "application/json; charset=bogus",
                 "text/plain", "application/xml", "", "application/x-www-form-urlencoded; charset=utf-16"]

numbers = st.one_of(st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from(["0", "-1", "1e9", "9" * 50]))
texts = st.one_of(st.text(max_size=40), numbers.map(str), st.sampled_from(
    ["https://instagram.com/p/x", "1,2,3", ",".join(map(str, range(150))), "a\x00b", "\u202e", "💥" * 10]))


@st.composite
def json_values(draw):
    return draw(st.recursive(
        st.one_of(st.none(), st.booleans(), numbers, st.floats(), st.text(max_size=20)),
        lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=5), children,
                                                                                    max_size=3)),
        max_leaves=8,
    ))


@st.composite
def field_sets(draw, key):
    names = st.one_of(st.sampled_from(FIELD_NAMES), st.text(min_size=1, max_size=10))
    fields = draw(st.dictionaries(names, texts, max_size=8))
    fields["key"] = draw(st.sampled_from([key, key, "", "wrong", key.upper(), key + " "]))
    if draw(st.booleans()):
        fields["action"] = draw(st.sampled_from([*docs.ACTION_NAMES, "", "Add", "bogus"]))
    return fields


@st.composite
def requests(draw, key, service_id):
    method = draw(st.sampled_from(METHODS))
    fields = draw(field_sets(key))
    if draw(st.booleans()):
        fields["service"] = str(service_id)
    how = draw(st.sampled_from(["form", "query", "json", "json-values", "bytes", "query-bytes"]))
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    path, body = API_PATH + draw(st.sampled_from(["", "/"])), b""
    if how == "form":
        body, content_type = urlencode(_text_only(fields)).encode(), "application/x-www-form-urlencoded"
    elif how == "query":
        path += "?" + urlencode(_text_only(fields))
    elif how == "json":
        body = json.dumps(fields).encode()
    elif how == "json-values":
        values = {name: draw(json_values()) for name in fields}
        values["key"] = fields["key"]
        body = json.dumps(draw(st.one_of(st.just(values), json_values()))).encode()
    elif how == "bytes":
        body = draw(st.binary(max_size=200))
    else:
        path += "?" + quote_from_bytes(draw(st.binary(max_size=60)), safe="=&")
    return method, path, body, content_type


def _text_only(fields):
    # urlencode cannot carry lone surrogates; the JSON bodies do carry them.
    return {name: value.encode("utf-8", "replace").decode() for name, value in fields.items()}


def test_no_input_gives_anything_but_200_and_json(client, key, service, no_broker, settings_fixture_limit):
    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def throw(data):
        method, path, body, content_type = data.draw(requests(key, service.pk))
        response = client.generic(method, path, body, content_type=content_type)
        assert response.status_code == 200, (method, path, body, content_type)
        assert response["Content-Type"] == "application/json"
        if method != "HEAD":
            answer = json.loads(response.content)
            assert isinstance(answer, dict | list)
            if isinstance(answer, dict) and "error" in answer:
                assert isinstance(answer["error"], str) and answer["error"]

    throw()


@pytest.fixture
def settings_fixture_limit(settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 0  # let every example reach the actions
