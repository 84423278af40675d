"""Multi-ID calls: chunks of at most 100 IDs, merged answers, de-duplication, .partial on failure."""

import json

import pytest
import requests
import responses
from smmapi_helpers import URL, sent_fields

from smmapi import (
    MAX_IDS_PER_REQUEST,
    Ambiguous,
    ItemError,
    NotSent,
    OrderStatus,
    ProviderRefused,
    RefillStatus,
)


def _status_answer(request):
    """Answer every asked ID with a status; IDs divisible by 7 are unknown to the provider."""
    ids = sent_fields(request)["orders"].split(",")
    body = {
        order_id: {"error": "Incorrect order ID"}
        if int(order_id) % 7 == 0
        else {"status": "Completed", "charge": "1"}
        for order_id in ids
    }
    return 200, {}, json.dumps(body)


def _asked_ids(mocked, field="orders"):
    return [sent_fields(call.request)[field].split(",") for call in mocked.calls]


def test_the_limit_is_100_ids_per_request():
    assert MAX_IDS_PER_REQUEST == 100


def test_250_ids_go_out_in_3_requests_of_at_most_100_and_come_back_merged(mocked, api_client):
    mocked.add_callback(responses.POST, URL, callback=_status_answer)
    ids = list(range(1, 251))
    result = api_client.statuses(ids)
    asked = _asked_ids(mocked)
    assert [len(chunk) for chunk in asked] == [100, 100, 50]
    assert [order_id for chunk in asked for order_id in chunk] == [str(i) for i in ids]
    assert list(result) == [str(i) for i in ids]
    assert result["1"].status is OrderStatus.COMPLETED
    assert result["7"] == ItemError("Incorrect order ID")
    assert result["250"].status is OrderStatus.COMPLETED
    assert sum(isinstance(value, ItemError) for value in result.values()) == 250 // 7


def test_ids_are_de_duplicated_before_sending(mocked, api_client):
    mocked.add_callback(responses.POST, URL, callback=_status_answer)
    result = api_client.statuses([1, "1", " 1 ", 2, "2"])
    assert _asked_ids(mocked) == [["1", "2"]]
    assert list(result) == ["1", "2"]


def test_no_ids_means_no_request(mocked, api_client):
    assert api_client.statuses([]) == {}
    assert api_client.cancel([]) == {}
    assert len(mocked.calls) == 0


def test_an_id_with_a_comma_or_an_empty_id_is_a_programming_error(api_client):
    with pytest.raises(ValueError):
        api_client.statuses(["1,2"])
    with pytest.raises(ValueError):
        api_client.statuses([""])


def test_a_failing_chunk_raises_with_the_earlier_chunks_as_partial(mocked, api_client):
    answers = iter([_status_answer, lambda request: (502, {}, "<html>Bad gateway</html>"), _status_answer])
    mocked.add_callback(responses.POST, URL, callback=lambda request: next(answers)(request))

    with pytest.raises(Ambiguous) as caught:
        api_client.statuses(range(1, 251))
    assert caught.value.http_status == 502
    assert list(caught.value.partial) == [str(i) for i in range(1, 101)]
    assert caught.value.partial["1"].status is OrderStatus.COMPLETED
    assert len(mocked.calls) == 2  # the third chunk was not sent


def test_a_refused_first_chunk_has_an_empty_partial(mocked, api_client):
    mocked.add(responses.POST, URL, json={"error": "Too many requests"})
    with pytest.raises(ProviderRefused) as caught:
        api_client.statuses(range(1, 251))
    assert caught.value.partial == {}
    assert caught.value.is_provider_side


def test_a_chunk_not_sent_keeps_the_earlier_answers(mocked, api_client):
    answers = iter([_status_answer, _status_answer])

    def answer(request):
        try:
            return next(answers)(request)
        except StopIteration:
            raise requests.exceptions.ConnectTimeout("connect timed out") from None

    mocked.add_callback(responses.POST, URL, callback=answer)
    with pytest.raises(NotSent) as caught:
        api_client.statuses(range(1, 251))
    assert len(caught.value.partial) == 200


def test_single_calls_have_no_partial(mocked, api_client):
    mocked.add(responses.POST, URL, json={"error": "Incorrect order ID"})
    with pytest.raises(ProviderRefused) as caught:
        api_client.status(1)
    assert caught.value.partial is None


def test_cancel_is_batched_by_100(mocked, api_client):
    def answer(request):
        ids = sent_fields(request)["orders"].split(",")
        return 200, {}, json.dumps([{"order": int(i), "cancel": 1} for i in ids])

    mocked.add_callback(responses.POST, URL, callback=answer)
    result = api_client.cancel(range(1, 202))
    assert [len(chunk) for chunk in _asked_ids(mocked)] == [100, 100, 1]
    assert len(result) == 201 and all(value is True for value in result.values())


def test_refills_are_batched_by_100(mocked, api_client):
    def answer(request):
        ids = sent_fields(request)["orders"].split(",")
        return 200, {}, json.dumps([{"order": int(i), "refill": int(i) + 1000} for i in ids])

    mocked.add_callback(responses.POST, URL, callback=answer)
    result = api_client.refills(range(1, 151))
    assert [len(chunk) for chunk in _asked_ids(mocked)] == [100, 50]
    assert result["150"] == "1150"


def test_refill_statuses_are_batched_by_100(mocked, api_client):
    def answer(request):
        ids = sent_fields(request)["refills"].split(",")
        return 200, {}, json.dumps([{"refill": i, "status": "Pending"} for i in ids])

    mocked.add_callback(responses.POST, URL, callback=answer)
    result = api_client.refill_statuses(str(i) for i in range(1, 102))
    assert [len(chunk) for chunk in _asked_ids(mocked, "refills")] == [100, 1]
    assert all(info.status is RefillStatus.PENDING for info in result.values())
