"""Every action through the client: the seed's exact answers, then each real-provider quirk
from api-v2.md's "What real providers send" section, one test each."""

from decimal import Decimal

import pytest
import responses
from smmapi_helpers import KEY, URL, sent_fields

from smmapi import (
    Ambiguous,
    Balance,
    ItemError,
    OrderStatus,
    OrderStatusInfo,
    ProviderRefused,
    RefillStatus,
    ServiceType,
)

SEED_SERVICES = [
    {
        "service": 1,
        "name": "Followers",
        "type": "Default",
        "category": "First Category",
        "rate": "0.90",
        "min": "50",
        "max": "10000",
        "refill": True,
        "cancel": True,
    },
    {
        "service": 2,
        "name": "Comments",
        "type": "Custom Comments",
        "category": "Second Category",
        "rate": "8",
        "min": "10",
        "max": "1500",
        "refill": False,
        "cancel": True,
    },
]
SEED_STATUS = {
    "charge": "0.27819",
    "start_count": "3572",
    "status": "Partial",
    "remains": "157",
    "currency": "USD",
}


def answer(mocked, body, status=200):
    mocked.add(responses.POST, URL, json=body, status=status)


def last_fields(mocked):
    return sent_fields(mocked.calls[-1].request)


# ---------------------------------------------------------------- seed shapes


def test_services_parses_the_seed_example(mocked, api_client):
    answer(mocked, SEED_SERVICES)
    services = api_client.services()
    assert last_fields(mocked) == {"key": KEY, "action": "services"}
    assert len(services) == 2 and services.skipped == []
    followers, comments = services
    assert followers.service_id == "1"
    assert followers.name == "Followers"
    assert followers.type is ServiceType.DEFAULT and followers.type_raw == "Default"
    assert followers.category == "First Category"
    assert followers.rate == Decimal("0.90")
    assert (followers.min, followers.max) == (50, 10000)
    assert followers.refill and followers.cancel and not followers.dripfeed
    assert followers.raw == SEED_SERVICES[0]
    assert comments.type is ServiceType.CUSTOM_COMMENTS
    assert comments.rate == Decimal("8") and not comments.refill
    assert services.by_id()["2"] is comments


def test_add_sends_service_link_and_quantity_and_returns_the_order_id(mocked, api_client):
    answer(mocked, {"order": 23501})
    order_id = api_client.add(1, "https://instagram.com/x", quantity=100)
    assert order_id == "23501"
    assert last_fields(mocked) == {
        "key": KEY,
        "action": "add",
        "service": "1",
        "link": "https://instagram.com/x",
        "quantity": "100",
    }


def test_add_drops_none_fields_and_sends_drip_feed_fields(mocked, api_client):
    answer(mocked, {"order": 1})
    api_client.add("1", "https://x", quantity=Decimal("100"), runs=5, interval=30, country=None)
    fields = last_fields(mocked)
    assert (fields["quantity"], fields["runs"], fields["interval"]) == ("100", "5", "30")
    assert "country" not in fields


def test_add_joins_a_comments_list_one_per_line(mocked, api_client):
    answer(mocked, {"order": 2})
    api_client.add(2, "https://x", comments=["nice", "great pic", "wow"])
    assert last_fields(mocked)["comments"] == "nice\ngreat pic\nwow"


def test_add_sends_decimals_as_plain_text_not_exponents(mocked, api_client):
    answer(mocked, {"order": 2})
    api_client.add(2, "https://x", quantity=Decimal("1E+3"))
    assert last_fields(mocked)["quantity"] == "1000"


def test_add_refuses_to_let_fields_override_action_or_key(api_client):
    with pytest.raises(ValueError):
        api_client.add(1, "https://x", action="balance")
    with pytest.raises(ValueError):
        api_client.add(1, "https://x", key="other")


def test_status_parses_the_seed_example(mocked, api_client):
    answer(mocked, SEED_STATUS)
    info = api_client.status(23501)
    assert last_fields(mocked) == {"key": KEY, "action": "status", "order": "23501"}
    assert info == OrderStatusInfo(
        order_id="23501",
        status=OrderStatus.PARTIAL,
        status_raw="Partial",
        charge=Decimal("0.27819"),
        start_count=3572,
        remains=157,
        currency="USD",
    )
    assert info.raw == SEED_STATUS


def test_statuses_parse_the_seed_example(mocked, api_client):
    answer(
        mocked,
        {
            "1": SEED_STATUS,
            "10": {"error": "Incorrect order ID"},
            "100": {**SEED_STATUS, "charge": "1.44219", "status": "In progress", "remains": "10"},
        },
    )
    result = api_client.statuses([1, "10", 100])
    assert last_fields(mocked) == {"key": KEY, "action": "status", "orders": "1,10,100"}
    assert result["1"].status is OrderStatus.PARTIAL
    assert result["10"] == ItemError("Incorrect order ID")
    assert result["100"].status is OrderStatus.IN_PROGRESS
    assert result["100"].charge == Decimal("1.44219")


def test_refill_parses_the_seed_example(mocked, api_client):
    answer(mocked, {"refill": "1"})
    assert api_client.refill(23501) == "1"
    assert last_fields(mocked) == {"key": KEY, "action": "refill", "order": "23501"}


def test_refills_parse_the_seed_example(mocked, api_client):
    answer(
        mocked,
        [
            {"order": 1, "refill": 1},
            {"order": 2, "refill": 2},
            {"order": 3, "refill": {"error": "Incorrect order ID"}},
        ],
    )
    result = api_client.refills([1, 2, 3])
    assert last_fields(mocked) == {"key": KEY, "action": "refill", "orders": "1,2,3"}
    assert result == {"1": "1", "2": "2", "3": ItemError("Incorrect order ID")}


def test_refill_status_parses_the_seed_example(mocked, api_client):
    answer(mocked, {"status": "Completed"})
    info = api_client.refill_status(1)
    assert last_fields(mocked) == {"key": KEY, "action": "refill_status", "refill": "1"}
    assert (info.refill_id, info.status, info.status_raw) == ("1", RefillStatus.COMPLETED, "Completed")


def test_refill_statuses_parse_the_seed_example(mocked, api_client):
    answer(
        mocked,
        [
            {"refill": 1, "status": "Completed"},
            {"refill": 2, "status": "Rejected"},
            {"refill": 3, "status": {"error": "Refill not found"}},
        ],
    )
    result = api_client.refill_statuses(["1", "2", "3"])
    assert last_fields(mocked) == {"key": KEY, "action": "refill_status", "refills": "1,2,3"}
    assert result["1"].status is RefillStatus.COMPLETED
    assert result["2"].status is RefillStatus.REJECTED
    assert result["3"] == ItemError("Refill not found")


def test_cancel_parses_the_seed_example(mocked, api_client):
    answer(mocked, [{"order": 9, "cancel": {"error": "Incorrect order ID"}}, {"order": 2, "cancel": 1}])
    result = api_client.cancel([9, 2])
    assert last_fields(mocked) == {"key": KEY, "action": "cancel", "orders": "9,2"}
    assert result == {"9": ItemError("Incorrect order ID"), "2": True}


def test_cancel_accepts_a_single_id(mocked, api_client):
    answer(mocked, [{"order": 2, "cancel": True}])
    assert api_client.cancel("2") == {"2": True}
    assert last_fields(mocked)["orders"] == "2"


def test_balance_parses_the_seed_example(mocked, api_client):
    answer(mocked, {"balance": "100.84292", "currency": "USD"})
    assert api_client.balance() == Balance(Decimal("100.84292"), "USD")
    assert last_fields(mocked) == {"key": KEY, "action": "balance"}


# ---------------------------------------------------------------- quirks: IDs


def test_services_accept_service_ids_as_strings_or_numbers(mocked, api_client):
    answer(mocked, [{**SEED_SERVICES[0], "service": "3"}, {**SEED_SERVICES[1], "service": 4}])
    assert [s.service_id for s in api_client.services()] == ["3", "4"]


def test_add_keeps_non_numeric_order_ids_as_text(mocked, api_client):
    answer(mocked, {"order": "ord_01HG8ZK3QW"})
    assert api_client.add(1, "https://x", quantity=100) == "ord_01HG8ZK3QW"
    answer(mocked, {"order": "VEGA123ABC"})
    assert api_client.add(1, "https://x", quantity=100) == "VEGA123ABC"


def test_statuses_key_results_by_non_numeric_ids(mocked, api_client):
    answer(mocked, {"VEGA123ABC": {"status": "Pending"}})
    assert api_client.statuses(["VEGA123ABC"])["VEGA123ABC"].status is OrderStatus.PENDING


# ---------------------------------------------------------------- quirks: numbers and money


def test_services_accept_min_max_and_rate_as_numbers(mocked, api_client):
    answer(mocked, [{**SEED_SERVICES[0], "rate": 0.9, "min": 50, "max": 10000}])
    (service,) = api_client.services()
    assert (service.rate, service.min, service.max) == (Decimal("0.9"), 50, 10000)


def test_services_keep_many_decimal_places_in_a_rate(mocked, api_client):
    answer(mocked, [{**SEED_SERVICES[0], "rate": "0.0012345678"}])
    assert api_client.services().services[0].rate == Decimal("0.0012345678")


def test_services_accept_large_rates_in_other_currencies(mocked, api_client):
    answer(mocked, [{**SEED_SERVICES[0], "rate": "95200"}])
    assert api_client.services().services[0].rate == Decimal("95200")


def test_status_accepts_charge_as_a_number_in_another_currency(mocked, api_client):
    answer(mocked, {**SEED_STATUS, "charge": 1520.75, "currency": "INR"})
    info = api_client.status(1)
    assert (info.charge, info.currency) == (Decimal("1520.75"), "INR")


def test_balance_accepts_a_number_and_missing_currency(mocked, api_client):
    answer(mocked, {"balance": 95200.5})
    assert api_client.balance() == Balance(Decimal("95200.5"), "")


# ---------------------------------------------------------------- quirks: extra and missing keys


def test_services_read_desc_and_dripfeed_as_number_or_bool(mocked, api_client):
    answer(
        mocked,
        [
            {**SEED_SERVICES[0], "desc": "Real-looking followers", "dripfeed": 1},
            {**SEED_SERVICES[1], "dripfeed": False},
        ],
    )
    first, second = api_client.services()
    assert first.description == "Real-looking followers" and first.dripfeed is True
    assert second.description == "" and second.dripfeed is False


def test_services_with_refill_and_cancel_missing_default_to_false(mocked, api_client):
    item = {key: value for key, value in SEED_SERVICES[0].items() if key not in ("refill", "cancel")}
    answer(mocked, [item])
    (service,) = api_client.services()
    assert service.refill is False and service.cancel is False


def test_services_accept_a_list_wrapped_once_more(mocked, api_client):
    answer(mocked, [SEED_SERVICES])
    assert [s.service_id for s in api_client.services()] == ["1", "2"]


# ---------------------------------------------------------------- quirks: spellings


def test_services_normalise_type_spelling(mocked, api_client):
    answer(mocked, [{**SEED_SERVICES[0], "type": "default"}, {**SEED_SERVICES[1], "type": "custom_comments"}])
    assert [s.type for s in api_client.services()] == [ServiceType.DEFAULT, ServiceType.CUSTOM_COMMENTS]


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("processing", OrderStatus.PROCESSING),
        ("completed", OrderStatus.COMPLETED),
        ("In Progress", OrderStatus.IN_PROGRESS),
        ("in_progress", OrderStatus.IN_PROGRESS),
        ("Cancelled", OrderStatus.CANCELED),
        ("Refunded", OrderStatus.CANCELED),
        ("Error", OrderStatus.ERROR),
    ],
)
def test_status_normalises_spelling_and_keeps_the_raw_text(mocked, api_client, spelling, expected):
    answer(mocked, {**SEED_STATUS, "status": spelling})
    info = api_client.status(1)
    assert info.status is expected and info.status_raw == spelling


def test_status_with_an_unrecognised_spelling_is_unknown_with_raw_text(mocked, api_client):
    answer(mocked, {**SEED_STATUS, "status": "Paused by admin"})
    info = api_client.status(1)
    assert info.status is OrderStatus.UNKNOWN and info.status_raw == "Paused by admin"


# ---------------------------------------------------------------- quirks: remains / start_count


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Unknown", None), ("", None), ("-1", None), (-20, None), (157, 157), ("157", 157)],
)
def test_status_reads_remains_and_start_count_unknown_empty_negative_or_number(
    mocked, api_client, value, expected
):
    answer(mocked, {**SEED_STATUS, "remains": value, "start_count": value})
    info = api_client.status(1)
    assert info.remains == expected and info.start_count == expected


# ---------------------------------------------------------------- quirks: add answers


def test_add_accepts_order_id_as_a_number(mocked, api_client):
    answer(mocked, {"order": 23501})
    assert api_client.add(1, "https://x", quantity=100) == "23501"


def test_add_accepts_order_id_as_a_string(mocked, api_client):
    answer(mocked, {"order": "23501"})
    assert api_client.add(1, "https://x", quantity=100) == "23501"


def test_add_accepts_a_status_success_answer(mocked, api_client):
    answer(mocked, {"status": "success", "order": 151})
    assert api_client.add(1, "https://x", quantity=100) == "151"


def test_add_accepts_a_success_true_answer(mocked, api_client):
    answer(mocked, {"success": True, "order": "ab12"})
    assert api_client.add(1, "https://x", quantity=100) == "ab12"


def test_add_accepts_order_id_wrapped_in_a_list(mocked, api_client):
    answer(mocked, [{"order": "1242"}])
    assert api_client.add(1, "https://x", quantity=100) == "1242"


def test_add_answer_without_an_order_is_ambiguous_because_it_may_have_been_placed(mocked, api_client):
    answer(mocked, {"status": "success"})
    with pytest.raises(Ambiguous):
        api_client.add(1, "https://x", quantity=100)


# ---------------------------------------------------------------- quirks: errors in answers


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.services(),
        lambda c: c.add(1, "https://x", quantity=10),
        lambda c: c.status(1),
        lambda c: c.statuses([1, 2]),
        lambda c: c.refill(1),
        lambda c: c.refills([1, 2]),
        lambda c: c.refill_status(1),
        lambda c: c.refill_statuses([1, 2]),
        lambda c: c.cancel([1, 2]),
        lambda c: c.balance(),
    ],
)
def test_error_at_http_200_is_a_refusal_on_every_action(mocked, api_client, call):
    answer(mocked, {"error": "Incorrect request"})
    with pytest.raises(ProviderRefused) as caught:
        call(api_client)
    assert caught.value.message == "Incorrect request"
    assert not caught.value.is_provider_side


def test_refill_with_a_nested_error_is_a_refusal(mocked, api_client):
    answer(mocked, {"refill": {"error": "Refill is disabled for this service"}})
    with pytest.raises(ProviderRefused) as caught:
        api_client.refill(1)
    assert caught.value.message == "Refill is disabled for this service"


def test_refills_with_a_nested_error_mark_only_that_item(mocked, api_client):
    answer(mocked, [{"order": 1, "refill": {"error": "Too early"}}, {"order": 2, "refill": "77"}])
    assert api_client.refills([1, 2]) == {"1": ItemError("Too early"), "2": "77"}


def test_status_with_a_nested_status_error_is_a_refusal(mocked, api_client):
    answer(mocked, {"status": {"error": "Incorrect order ID"}})
    with pytest.raises(ProviderRefused):
        api_client.status(1)


def test_statuses_with_a_nested_status_error_mark_only_that_item(mocked, api_client):
    answer(mocked, {"1": {"status": {"error": "Order not found"}}, "2": SEED_STATUS})
    result = api_client.statuses([1, 2])
    assert result["1"] == ItemError("Order not found")
    assert result["2"].status is OrderStatus.PARTIAL


def test_refill_status_with_a_nested_error_is_a_refusal(mocked, api_client):
    answer(mocked, {"status": {"error": "Refill not found"}})
    with pytest.raises(ProviderRefused) as caught:
        api_client.refill_status(3)
    assert caught.value.message == "Refill not found"


def test_too_many_requests_at_200_is_a_provider_side_refusal(mocked, api_client):
    answer(mocked, {"error": "Too many requests"})
    with pytest.raises(ProviderRefused) as caught:
        api_client.statuses([1])
    assert caught.value.is_provider_side


def test_spam_protection_is_a_provider_side_refusal(mocked, api_client):
    answer(mocked, {"error": "Spam protection, wait 7 seconds"})
    with pytest.raises(ProviderRefused) as caught:
        api_client.add(1, "https://x", quantity=100)
    assert caught.value.is_provider_side


def test_not_enough_funds_is_a_provider_side_refusal(mocked, api_client):
    answer(mocked, {"error": "Not enough funds on balance"})
    with pytest.raises(ProviderRefused) as caught:
        api_client.add(1, "https://x", quantity=100)
    assert caught.value.is_provider_side


# ---------------------------------------------------------------- quirks: multi answers


def test_statuses_accept_the_single_shape_when_asked_for_one_id(mocked, api_client):
    answer(mocked, SEED_STATUS)
    result = api_client.statuses(["5"])
    assert result["5"].status is OrderStatus.PARTIAL and result["5"].order_id == "5"


def test_statuses_accept_a_list_of_objects_carrying_their_order_id(mocked, api_client):
    answer(mocked, [{"order": 1, **SEED_STATUS}, {"id": 2, "status": "Completed"}])
    result = api_client.statuses([1, 2])
    assert result["1"].remains == 157 and result["2"].status is OrderStatus.COMPLETED


def test_statuses_normalise_whitespace_in_keys(mocked, api_client):
    answer(mocked, {" 1 ": SEED_STATUS})
    assert api_client.statuses([1])["1"].status is OrderStatus.PARTIAL


def test_an_id_missing_from_the_answer_is_an_item_error(mocked, api_client):
    answer(mocked, {"1": SEED_STATUS})
    assert api_client.statuses([1, 2])["2"] == ItemError("missing from provider answer")


def test_one_odd_item_does_not_break_the_batch(mocked, api_client):
    answer(
        mocked,
        {
            "1": {**SEED_STATUS, "charge": "n/a", "remains": [], "start_count": {}},
            "2": ["junk"],
            "3": SEED_STATUS,
        },
    )
    result = api_client.statuses([1, 2, 3])
    assert (
        result["1"].status is OrderStatus.PARTIAL
        and result["1"].charge is None
        and result["1"].remains is None
    )
    assert isinstance(result["2"], ItemError)
    assert result["3"].charge == Decimal("0.27819")


def test_refill_accepts_a_numeric_refill_id(mocked, api_client):
    answer(mocked, {"refill": 1})
    assert api_client.refill(23501) == "1"


def test_refill_answer_without_a_refill_id_is_ambiguous(mocked, api_client):
    answer(mocked, {"status": "ok"})
    with pytest.raises(Ambiguous):
        api_client.refill(1)


def test_refill_statuses_accept_an_object_keyed_by_refill_id(mocked, api_client):
    answer(mocked, {"1": {"status": "in_progress"}, "2": "Completed"})
    result = api_client.refill_statuses([1, 2])
    assert result["1"].status is RefillStatus.IN_PROGRESS
    assert result["2"].status is RefillStatus.COMPLETED


def test_cancel_accepts_true_and_one_and_per_item_errors(mocked, api_client):
    answer(
        mocked,
        [{"order": 1, "cancel": True}, {"order": 2, "cancel": 1}, {"order": 3, "error": "Not cancelable"}],
    )
    assert api_client.cancel([1, 2, 3]) == {"1": True, "2": True, "3": ItemError("Not cancelable")}


def test_a_json_float_charge_is_read_through_its_text(mocked, api_client):
    answer(mocked, {**SEED_STATUS, "charge": 0.1})
    assert str(api_client.status(1).charge) == "0.1"


def test_answers_with_a_byte_order_mark_are_read(mocked, api_client):
    mocked.add(responses.POST, URL, body=b'\xef\xbb\xbf{"balance": "1.5", "currency": "USD"}', status=200)
    assert api_client.balance() == Balance(Decimal("1.5"), "USD")
