import pytest
from django.test import RequestFactory

from core.net import client_ip


def request(remote="10.0.0.5", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_trusted_proxy_the_socket_is_the_visitor_and_a_forged_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request(forwarded="1.2.3.4")) == "10.0.0.5"


@pytest.mark.parametrize(("forwarded", "count", "seen"), [
    ("203.0.113.7", 1, "203.0.113.7"),
    ("6.6.6.6, 203.0.113.7", 1, "203.0.113.7"),  # the client's own entry on the left is not believed
    ("6.6.6.6, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),
    ("2001:db8::1", 1, "2001:db8::1"),
    ("not-an-address", 1, "10.0.0.5"),
    ("", 1, "10.0.0.5"),
    ("203.0.113.7", 2, "10.0.0.5"),  # fewer hops than proxies: not through them
])
def test_behind_trusted_proxies_the_visitor_is_counted_from_the_right(settings, forwarded, count, seen):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_ip(request(forwarded=forwarded)) == seen
