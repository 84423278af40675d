"""Every call to a provider is timed and kept (in batches), and the dashboard shows each provider's recent
error rate and median latency."""

from datetime import timedelta

import pytest
import requests
import responses
from django.urls import reverse
from django.utils import timezone

import smmapi
from catalog import health
from catalog.models import ProviderCall
from catalog.selectors import provider_call_stats
from tests.factories import FAKE_PROVIDER_URL, ProviderFactory

pytestmark = pytest.mark.django_db


def test_the_client_tells_its_observer_of_every_call_and_whether_the_provider_answered():
    seen = []
    client = smmapi.Client(FAKE_PROVIDER_URL, "k", observer=lambda action, answered, seconds: seen.append(
        (action, answered, seconds >= 0)))
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, FAKE_PROVIDER_URL, json={"balance": "1.0", "currency": "USD"})
        rsps.add(responses.POST, FAKE_PROVIDER_URL, json={"error": "Incorrect order ID"})
        rsps.add(responses.POST, FAKE_PROVIDER_URL, body=requests.ConnectionError("down"))
        client.balance()
        for _ in range(2):
            with pytest.raises(smmapi.SmmApiError):
                client.status(1)
    assert seen == [("balance", True, True), ("status", True, True), ("status", False, True)]


def test_a_failing_observer_does_not_fail_the_call():
    client = smmapi.Client(FAKE_PROVIDER_URL, "k", observer=lambda *args: 1 / 0)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, FAKE_PROVIDER_URL, json={"balance": "1.0", "currency": "USD"})
        assert client.balance().amount == 1


def test_a_providers_calls_are_kept_in_batches_not_one_write_each(django_assert_num_queries):
    provider = ProviderFactory()
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, FAKE_PROVIDER_URL, json={"balance": "1.0", "currency": "USD"})
        with django_assert_num_queries(0):
            for _ in range(3):
                provider.client().balance()
    assert not ProviderCall.objects.exists()
    with django_assert_num_queries(1):
        assert health.flush_calls() == 3
    assert ProviderCall.objects.filter(provider=provider, action="balance", answered=True).count() == 3


def test_the_stats_read_each_providers_last_calls_in_one_query(django_assert_num_queries):
    steady, flaky = ProviderFactory(name="Steady"), ProviderFactory(name="Flaky")
    now = timezone.now()
    old = [ProviderCall(provider=steady, at=now - timedelta(hours=1), action="status", answered=False, ms=9000)
           for _ in range(5)]
    recent = [ProviderCall(provider=steady, at=now - timedelta(seconds=n), action="status", answered=True, ms=100 + n)
              for n in range(100)]
    flaky_calls = [ProviderCall(provider=flaky, at=now, action="status", answered=n % 4 != 0, ms=300) for n in range(8)]
    ProviderCall.objects.bulk_create(old + recent + flaky_calls)
    with django_assert_num_queries(1):
        stats = provider_call_stats(last=100)
    assert (stats[steady.pk].calls, stats[steady.pk].failed, stats[steady.pk].median_ms) == (100, 0, 149)
    assert (stats[flaky.pk].calls, stats[flaky.pk].failed, stats[flaky.pk].error_rate) == (8, 2, 0.25)


def test_the_dashboard_shows_the_error_rate_and_median(client, carol):
    provider = ProviderFactory(name="Flaky")
    ProviderCall.objects.bulk_create([ProviderCall(provider=provider, at=timezone.now(), action="status",
                                                   answered=n % 2 == 0, ms=200) for n in range(10)])
    client.force_login(carol)
    html = client.get(reverse("staff_catalog:dashboard")).content.decode()
    assert "10 calls: <span class=\"quote-problem\">50% failed</span>, median 200 ms" in html


def test_calls_older_than_a_week_are_forgotten():
    provider = ProviderFactory()
    ProviderCall.objects.create(provider=provider, at=timezone.now() - timedelta(days=8), action="x", answered=True, ms=1)
    ProviderCall.objects.create(provider=provider, at=timezone.now(), action="x", answered=True, ms=1)
    assert health.forget_old_calls() == 1 and ProviderCall.objects.count() == 1
