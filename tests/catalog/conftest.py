import json
from decimal import Decimal

import pytest
import responses

from catalog.models import Provider

FAKE_URL = "https://provider.example/api/v2"


def upstream(service_id, *, name=None, rate="1.00", category="Instagram Followers", type_="Default",
             min_="10", max_="10000", refill=False, cancel=False, **extra):
    item = {
        "service": service_id, "name": name or f"Service {service_id}", "type": type_, "category": category,
        "rate": rate, "min": min_, "max": max_, "refill": refill, "cancel": cancel,
    }
    item.update(extra)
    return item


class FakeCatalog:
    """A provider whose `services` answer the test sets; every other action is refused."""

    def __init__(self, rsps):
        self.items = []
        self.rsps = rsps
        rsps.add_callback(responses.POST, FAKE_URL, callback=self._answer)

    def _answer(self, request):
        if "action=services" in (request.body or ""):
            return 200, {"Content-Type": "application/json"}, json.dumps(self.items)
        return 200, {"Content-Type": "application/json"}, json.dumps({"error": "Incorrect request"})


@pytest.fixture
def fake(db):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeCatalog(rsps)


@pytest.fixture
def provider(db):
    return Provider.objects.create(
        name="Upstream", api_url=FAKE_URL, api_key="secret-key-123", markup_percent=Decimal("50")
    )
