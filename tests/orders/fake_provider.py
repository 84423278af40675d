"""A `responses` callback acting as a provider whose answers the test sets per order ID."""

import json
from urllib.parse import parse_qs

import responses

from tests.factories import FAKE_PROVIDER_URL


class FakeProvider:
    def __init__(self, rsps):
        self.statuses = {}  # external id -> status dict or {"error": ...}
        self.refill_ids = {}  # external order id -> refill id or {"error": ...}
        self.refill_statuses = {}  # refill id -> status text or {"error": ...}
        self.cancels = {}  # external order id -> 1 or {"error": ...}
        self.fault = None  # (status, body) answered to every call while set
        self.fail_next = 0  # the next this many calls answer a 502 page
        self.calls = []
        # Looked up on each call, so that a test may wrap `_answer` (a flaky provider, a slow one).
        rsps.add_callback(responses.POST, FAKE_PROVIDER_URL, callback=lambda request: self._answer(request))

    def _answer(self, request):
        fields = {k: v[0] for k, v in parse_qs(request.body or "").items()}
        self.calls.append(fields)
        if self.fault:
            return self.fault[0], {}, self.fault[1]
        if self.fail_next:
            self.fail_next -= 1
            return 502, {}, "<html>Bad gateway</html>"
        return 200, {"Content-Type": "application/json"}, json.dumps(getattr(self, "_" + fields["action"])(fields))

    def _ids(self, fields, name):
        return fields[name].split(",")

    def _status(self, fields):
        return {i: self.statuses.get(i, {"error": "Incorrect order ID"}) for i in self._ids(fields, "orders")}

    def _refill(self, fields):
        return [{"order": i, "refill": self.refill_ids.get(i, {"error": "Incorrect order ID"})}
                for i in self._ids(fields, "orders")]

    def _refill_status(self, fields):
        return [{"refill": i, "status": self.refill_statuses.get(i, {"error": "Refill not found"})}
                for i in self._ids(fields, "refills")]

    def _cancel(self, fields):
        return [{"order": i, "cancel": self.cancels.get(i, {"error": "Incorrect order ID"})}
                for i in self._ids(fields, "orders")]

    def calls_of(self, action):
        return [c for c in self.calls if c["action"] == action]


def status(state, *, remains="0", start_count="100", charge="0.50000"):
    return {"charge": charge, "start_count": start_count, "status": state, "remains": remains, "currency": "USD"}
