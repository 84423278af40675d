"""The tolerant parsers, called directly on decoded JSON (no HTTP)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smmapi import (
    Ambiguous,
    ItemError,
    OrderStatus,
    ProviderRefused,
    RefillStatus,
    ServiceType,
    SmmApiError,
    parsing,
)

# ---------------------------------------------------------------- scalars


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.90", Decimal("0.90")),
        (0.9, Decimal("0.9")),
        (8, Decimal("8")),
        ("95200", Decimal("95200")),
        ("0.000012345678", Decimal("0.000012345678")),
        (" 1.5 ", Decimal("1.5")),
        ("95 200", Decimal("95200")),
        ("1,234.50", Decimal("1234.50")),
        ("1,234,567", Decimal("1234567")),
        (Decimal("2.5"), Decimal("2.5")),
        (1e-05, Decimal("0.00001")),
    ],
)
def test_decimal_parser_reads_money_in_every_spelling(value, expected):
    assert parsing.parse_decimal(value) == expected


def test_decimal_parser_keeps_all_decimal_places_as_sent():
    assert str(parsing.parse_decimal("0.27819000")) == "0.27819000"


def test_decimal_parser_never_goes_through_binary_floats():
    # Decimal(0.1) would be 0.1000000000000000055511151231257827...
    assert str(parsing.parse_decimal(0.1)) == "0.1"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "abc",
        "0,90",
        "1,234",
        "$5",
        "NaN",
        "Infinity",
        float("nan"),
        float("inf"),
        True,
        [],
        {},
        "1_000",
        "1e999",
    ],
)
def test_decimal_parser_rejects_garbage_and_ambiguous_commas(value):
    assert parsing.parse_decimal(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50),
        (50, 50),
        ("50.0", 50),
        (50.0, 50),
        (" 10000 ", 10000),
        ("", None),
        ("Unknown", None),
        ("50.5", None),
        (None, None),
        (True, None),
    ],
)
def test_int_parser(value, expected):
    assert parsing.parse_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("157", 157), (0, 0), ("-1", None), (-5, None), ("Unknown", None), ("", None)]
)
def test_counts_treat_negative_like_unknown(value, expected):
    assert parsing.parse_count(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
        ("true", True),
        ("False", False),
        ("yes", True),
        ("no", False),
        (None, False),
        ("maybe", False),
    ],
)
def test_bool_parser(value, expected):
    assert parsing.parse_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (23501, "23501"),
        ("23501", "23501"),
        (" VEGA123ABC ", "VEGA123ABC"),
        ("ord_01HG9Z", "ord_01HG9Z"),
        (7.0, "7"),
        ("", None),
        (None, None),
        (False, None),
        ({}, None),
    ],
)
def test_id_parser_always_returns_text(value, expected):
    assert parsing.parse_id(value) == expected


# ---------------------------------------------------------------- services

SERVICE = {
    "service": 1,
    "name": "Followers",
    "type": "Default",
    "category": "First Category",
    "rate": "0.90",
    "min": "50",
    "max": "10000",
    "refill": True,
    "cancel": True,
}


def test_services_skip_non_objects_with_a_reason():
    result = parsing.parse_services([SERVICE, "junk", 5])
    assert [s.service_id for s in result] == ["1"]
    assert [item.reason for item in result.skipped] == ["not an object", "not an object"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"service": None}, "missing service id"),
        ({"name": ""}, "missing name"),
        ({"rate": "free"}, "missing or unparseable rate"),
        ({"rate": "-1"}, "negative rate"),
        ({"min": "lots"}, "missing or unparseable min/max"),
        ({"max": None}, "missing or unparseable min/max"),
        ({"min": "100", "max": "10"}, "min/max out of order"),
    ],
)
def test_services_skip_unusable_items_with_a_reason_and_keep_the_rest(change, reason):
    bad = {**SERVICE, "service": 2, **change}
    result = parsing.parse_services([SERVICE, bad])
    assert [s.service_id for s in result] == ["1"]
    assert result.skipped[0].reason == reason
    assert result.skipped[0].raw == bad


def test_services_skip_a_duplicate_service_id():
    result = parsing.parse_services([SERVICE, {**SERVICE, "name": "Again"}])
    assert [s.name for s in result] == ["Followers"]
    assert result.skipped[0].reason == "duplicate service id"


def test_services_accept_a_dict_keyed_by_service_id():
    item = {key: value for key, value in SERVICE.items() if key != "service"}
    result = parsing.parse_services({"17": item, "18": "junk"})
    assert [s.service_id for s in result] == ["17"]
    assert result.skipped[0].reason == "not an object"


def test_services_take_description_from_description_key_too():
    (service,) = parsing.parse_services([{**SERVICE, "description": "Fast start"}])
    assert service.description == "Fast start"


def test_services_without_a_type_are_default():
    item = {key: value for key, value in SERVICE.items() if key != "type"}
    (service,) = parsing.parse_services([item])
    assert service.type is ServiceType.DEFAULT
    assert service.type_raw == ""


def test_services_keep_an_unknown_type_raw():
    (service,) = parsing.parse_services([{**SERVICE, "type": "Invites From Groups"}])
    assert service.type is ServiceType.OTHER
    assert service.type_raw == "Invites From Groups"


def test_services_answer_that_is_not_a_list_is_ambiguous():
    with pytest.raises(Ambiguous):
        parsing.parse_services("services")
    with pytest.raises(Ambiguous):
        parsing.parse_services(SERVICE)


def test_empty_services_answer_is_an_empty_list():
    assert len(parsing.parse_services([])) == 0


# ---------------------------------------------------------------- add / single answers


@pytest.mark.parametrize(
    "answer", [{}, {"status": "success"}, {"order": None}, [], [{"order": 1}, {"order": 2}], "ok", None]
)
def test_add_answer_without_an_order_id_is_ambiguous(answer):
    with pytest.raises(Ambiguous):
        parsing.parse_add(answer)


def test_add_answer_with_both_order_and_error_is_ambiguous():
    with pytest.raises(Ambiguous):
        parsing.parse_add({"order": 5, "error": "Something"})


def test_add_treats_a_null_error_key_as_no_error():
    assert parsing.parse_add({"order": 5, "error": None}) == "5"


def test_error_true_with_message_takes_the_message():
    with pytest.raises(ProviderRefused) as caught:
        parsing.parse_add({"error": True, "message": "Link is invalid"})
    assert caught.value.message == "Link is invalid"


def test_single_status_without_a_status_field_is_ambiguous():
    with pytest.raises(Ambiguous):
        parsing.parse_status({"foo": 1}, "5")


def test_single_status_keyed_by_the_id_is_accepted():
    info = parsing.parse_status({"5": {"status": "Pending"}}, "5")
    assert info.status is OrderStatus.PENDING


def test_refill_status_with_a_null_status_is_unknown():
    info = parsing.parse_refill_status({"status": None}, "3")
    assert info.status is RefillStatus.UNKNOWN


def test_balance_without_amount_is_ambiguous():
    with pytest.raises(Ambiguous):
        parsing.parse_balance({"currency": "USD"})


# ---------------------------------------------------------------- multi answers


def test_multi_status_list_of_objects_with_order_key():
    result = parsing.parse_statuses(
        [{"order": 1, "status": "Completed"}, {"id": "2", "status": "Pending"}], ["1", "2"]
    )
    assert result["1"].status is OrderStatus.COMPLETED
    assert result["2"].status is OrderStatus.PENDING


def test_multi_status_item_that_is_not_an_object_is_an_item_error():
    result = parsing.parse_statuses({"1": 5, "2": {"status": "Pending"}}, ["1", "2"])
    assert isinstance(result["1"], ItemError)
    assert result["2"].status is OrderStatus.PENDING


def test_multi_status_ignores_ids_nobody_asked_for():
    result = parsing.parse_statuses({"1": {"status": "Pending"}, "99": {"status": "Pending"}}, ["1"])
    assert list(result) == ["1"]


def test_multi_answer_of_the_wrong_kind_is_ambiguous():
    with pytest.raises(Ambiguous):
        parsing.parse_statuses("ok", ["1"])


def test_cancel_text_that_is_not_a_yes_or_no_is_the_providers_reason():
    result = parsing.parse_cancels(
        [{"order": 1, "cancel": "Order is not cancelable"}, {"order": 2, "cancel": 0}], ["1", "2"]
    )
    assert result == {"1": ItemError("Order is not cancelable"), "2": False}


# ---------------------------------------------------------------- never raise anything else

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
# Values shaped like real answers, so the deeper branches get exercised too.
answer_like = st.dictionaries(
    st.sampled_from(
        [
            "1",
            "2",
            "order",
            "refill",
            "status",
            "cancel",
            "error",
            "charge",
            "remains",
            "balance",
            "service",
            "name",
            "rate",
            "min",
            "max",
        ]
    ),
    json_values,
    max_size=6,
)
any_answer = json_values | answer_like | st.lists(answer_like, max_size=4)
ids = st.lists(st.sampled_from(["1", "2", "3", "order", "x"]), min_size=1, max_size=3)

PARSERS = [
    lambda data, _ids: parsing.parse_services(data),
    lambda data, _ids: parsing.parse_add(data),
    lambda data, _ids: parsing.parse_balance(data),
    lambda data, i: parsing.parse_status(data, i[0]),
    lambda data, i: parsing.parse_refill(data, i[0]),
    lambda data, i: parsing.parse_refill_status(data, i[0]),
    lambda data, i: parsing.parse_statuses(data, i),
    lambda data, i: parsing.parse_refills(data, i),
    lambda data, i: parsing.parse_refill_statuses(data, i),
    lambda data, i: parsing.parse_cancels(data, i),
]


@settings(max_examples=300, deadline=None)
@given(data=any_answer, item_ids=ids, which=st.integers(min_value=0, max_value=len(PARSERS) - 1))
def test_parsers_raise_nothing_but_our_errors_on_any_json(data, item_ids, which):
    try:
        result = PARSERS[which](data, item_ids)
    except SmmApiError:
        return
    if isinstance(result, dict):
        # Multi answers always cover exactly the IDs asked for.
        assert set(result) == set(item_ids)


@given(value=json_values)
def test_scalar_parsers_never_raise(value):
    parsing.parse_decimal(value)
    parsing.parse_int(value)
    parsing.parse_count(value)
    parsing.parse_bool(value)
    parsing.parse_id(value)
    parsing.error_message(value)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=5, min_value=-(10**9), max_value=10**9))
def test_decimal_strings_round_trip_exactly(number):
    assert parsing.parse_decimal(str(number)) == number
