"""The per-type order rules shared by the panel's pages, its API and the sandbox."""

from decimal import Decimal

import pytest

from smmapi import ServiceType as T
from smmapi.orders import InvalidOrder, Terms, parse_order

LINK = "https://instagram.com/p/abc"


def terms(type_=T.DEFAULT, rate="2.5", min_=10, max_=1000, dripfeed=False):
    return Terms(type=type_, rate=Decimal(rate), min=min_, max=max_, dripfeed=dripfeed)


def test_default_charges_rate_per_thousand_and_sends_quantity():
    order = parse_order(terms(), {"link": f" {LINK} ", "quantity": "400"})
    assert (order.link, order.quantity, order.units, order.charge) == (LINK, 400, 400, Decimal("1.00000"))
    assert order.add_fields() == {"quantity": 400}


def test_drip_feed_charges_quantity_times_runs_and_sends_runs_and_interval():
    order = parse_order(terms(dripfeed=True), {"link": LINK, "quantity": "100", "runs": "5", "interval": "30"})
    assert (order.units, order.charge) == (500, Decimal("1.25000"))
    assert order.add_fields() == {"quantity": 100, "runs": 5, "interval": 30}


def test_drip_feed_is_refused_where_the_service_does_not_offer_it():
    with pytest.raises(InvalidOrder) as refused:
        parse_order(terms(), {"link": LINK, "quantity": "100", "runs": "5", "interval": "30"})
    assert refused.value.field == "runs"


def test_package_charges_the_rate_and_sends_no_quantity():
    order = parse_order(terms(T.PACKAGE, rate="7"), {"link": LINK, "quantity": "999"})
    assert (order.units, order.charge, order.add_fields()) == (1, Decimal("7.00000"), {})


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_custom_comments_count_one_unit_per_non_empty_line(newline):
    text = newline.join(["great", "", "  nice  ", "wow"])
    order = parse_order(terms(T.CUSTOM_COMMENTS, rate="100", min_=1), {"link": LINK, "comments": text})
    assert (order.units, order.charge) == (3, Decimal("0.30000"))
    assert order.add_fields() == {"comments": "great\nnice\nwow"}


def test_custom_comments_package_charges_the_rate_whatever_the_lines():
    order = parse_order(terms(T.CUSTOM_COMMENTS_PACKAGE, rate="4", min_=1), {"link": LINK, "comments": "a\nb"})
    assert order.charge == Decimal("4.00000")


def test_web_traffic_needs_a_keyword_for_google_traffic_and_a_url_for_referrer_traffic():
    base = {"link": LINK, "quantity": "100", "country": "US", "device": "5"}
    with pytest.raises(InvalidOrder) as refused:
        parse_order(terms(T.WEB_TRAFFIC), {**base, "type_of_traffic": "1"})
    assert refused.value.field == "google_keyword"
    with pytest.raises(InvalidOrder) as refused:
        parse_order(terms(T.WEB_TRAFFIC), {**base, "type_of_traffic": "2", "referring_url": "nope"})
    assert refused.value.field == "referring_url"
    order = parse_order(terms(T.WEB_TRAFFIC), {**base, "type_of_traffic": "1", "google_keyword": "smm"})
    assert order.params == {"country": "US", "device": 5, "type_of_traffic": 1, "google_keyword": "smm"}


def test_subscriptions_charge_max_on_every_post_and_need_no_link():
    order = parse_order(terms(T.SUBSCRIPTIONS), {"username": "alice", "min": "100", "max": "200", "posts": "3",
                                                  "delay": "30", "expiry": "31/12/2027"})
    assert (order.link, order.units, order.charge) == ("", 600, Decimal("1.50000"))
    assert "quantity" not in order.add_fields()


def test_subscriptions_refuse_min_above_max():
    with pytest.raises(InvalidOrder) as refused:
        parse_order(terms(T.SUBSCRIPTIONS), {"username": "a", "min": "300", "max": "200", "posts": "1", "delay": "0"})
    assert refused.value.field == "max"


@pytest.mark.parametrize(
    ("type_", "field"),
    [(T.POLL, "answer_number"), (T.MENTIONS, "usernames"), (T.MENTIONS_HASHTAG, "hashtag"),
     (T.MENTIONS_MEDIA_LIKERS, "media"), (T.SEO, "keywords"), (T.COMMENT_LIKES, "username"),
     (T.MENTIONS_USER_FOLLOWERS, "username")],
)
def test_each_type_asks_for_its_own_field(type_, field):
    with pytest.raises(InvalidOrder) as refused:
        parse_order(terms(type_), {"link": LINK, "quantity": "100"})
    assert refused.value.field == field and refused.value.api_message == "Incorrect request"


@pytest.mark.parametrize(
    ("fields", "field", "api_message"),
    [
        ({"quantity": "9"}, "quantity", "Quantity less than minimal 10"),
        ({"quantity": "1001"}, "quantity", "Quantity more than maximal 1000"),
        ({"quantity": "1_000"}, "quantity", "Incorrect request"),
        ({"quantity": "9" * 40}, "quantity", "Incorrect request"),
        ({"link": ""}, "link", "Incorrect link"),
        ({"link": "ftp://x.com/a"}, "link", "Incorrect link"),
        ({"link": "https://x.com/a b"}, "link", "Incorrect link"),
    ],
)
def test_refusals_name_the_field_and_carry_the_standard_api_message(fields, field, api_message):
    with pytest.raises(InvalidOrder) as refused:
        parse_order(terms(), {"link": LINK, "quantity": "100", **fields})
    assert (refused.value.field, refused.value.api_message) == (field, api_message)
