
import pytest
import responses

from tests.factories import FAKE_PROVIDER_URL, ServiceFactory


@pytest.fixture
def service(db):
    """Followers at 2.00 per 1000, 10 to 10000, from the fake provider's service 101."""
    return ServiceFactory(provider_service__external_id="101")


@pytest.fixture
def provider_http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def provider_answers(provider_http):
    """Make the fake provider answer `add` with the given body (or exception)."""

    def answer(body=None, *, status=200, exc=None):
        provider_http.replace(responses.POST, FAKE_PROVIDER_URL, status=status, body=exc or body) if any(
            r.url == FAKE_PROVIDER_URL for r in provider_http.registered()
        ) else provider_http.add(responses.POST, FAKE_PROVIDER_URL, status=status, body=exc or body)
        return provider_http

    return answer
