"""`add` for every service type: accepted input, what it costs, and every refusal with its message."""

from decimal import Decimal

import pytest

from sandbox.models import SandboxAccount, SandboxOrder

pytestmark = pytest.mark.django_db

# Service IDs from sandbox.catalog, by type.
DEFAULT, DEFAULT_NO_DRIPFEED, PACKAGE, CUSTOM_COMMENTS, COMMENTS_PACKAGE = 1, 2, 15, 5, 6
WEB_TRAFFIC, POLL, SUBSCRIPTIONS = 33, 27, 13
MENTIONS, WITH_HASHTAGS, CUSTOM_LIST, HASHTAG, USER_FOLLOWERS, MEDIA_LIKERS = 7, 8, 9, 10, 11, 12
SEO, COMMENT_LIKES = 35, 14
LINK = "https://instagram.com/p/abc"


def balance_of(account) -> Decimal:
    return SandboxAccount.objects.get(pk=account.pk).balance


def only_order() -> SandboxOrder:
    return SandboxOrder.objects.get()


def test_default_order_answers_a_numeric_id_and_charges_rate_times_quantity(call, account):
    answer = call("add", service=DEFAULT, link=LINK, quantity=1000)
    assert answer == {"order": only_order().pk}
    assert isinstance(answer["order"], int)
    assert only_order().charge == Decimal("0.90000")
    assert balance_of(account) == Decimal("99.10000")


def test_charge_keeps_five_decimal_places(call):
    call("add", service=DEFAULT, link=LINK, quantity=333)
    assert only_order().charge == Decimal("0.29970")


def test_dripfeed_charges_every_run_and_stores_total_quantity(call):
    call("add", service=DEFAULT, link=LINK, quantity=100, runs=5, interval=30)
    order = only_order()
    assert (order.quantity, order.runs, order.interval) == (500, 5, 30)
    assert order.charge == Decimal("0.45000")


def test_dripfeed_is_refused_on_a_service_without_it(call):
    answer = call("add", service=DEFAULT_NO_DRIPFEED, link=LINK, quantity=100, runs=2, interval=5)
    assert answer == {"error": "Drip-feed is not available for this service"}
    assert not SandboxOrder.objects.exists()


def test_dripfeed_runs_without_interval_is_an_incorrect_request(call):
    assert call("add", service=DEFAULT, link=LINK, quantity=100, runs=2) == {"error": "Incorrect request"}


def test_package_charges_the_rate_once_whatever_quantity_says(call, account):
    call("add", service=PACKAGE, link=LINK, quantity=5000)
    order = only_order()
    assert (order.quantity, order.charge) == (1, Decimal("12.50000"))
    assert balance_of(account) == Decimal("87.50000")


@pytest.mark.parametrize("separator", ["\n", "\r\n"])
def test_custom_comments_count_their_lines_as_the_quantity(call, separator):
    comments = separator.join(f"Nice post {n}" for n in range(12)) + separator + separator
    call("add", service=CUSTOM_COMMENTS, link=LINK, comments=comments, quantity=999)
    order = only_order()
    assert order.quantity == 12
    assert order.charge == Decimal("0.09600")
    assert order.params["comments"].split("\n")[0] == "Nice post 0"


def test_custom_comments_without_comments_are_an_incorrect_request(call):
    assert call("add", service=CUSTOM_COMMENTS, link=LINK, quantity=20) == {"error": "Incorrect request"}


def test_custom_comments_below_the_minimum_lines_are_refused(call):
    answer = call("add", service=CUSTOM_COMMENTS, link=LINK, comments="one\ntwo")
    assert answer == {"error": "Quantity less than minimal 10"}


def test_custom_comments_package_charges_the_rate_for_up_to_max_lines(call):
    call("add", service=COMMENTS_PACKAGE, link=LINK, comments="a\nb\nc")
    order = only_order()
    assert (order.quantity, order.charge) == (3, Decimal("1.50000"))


def test_custom_comments_package_takes_more_lines_than_its_max_as_one_package(call):
    # A package's min and max count packages, not lines (issue #14's wrong refusal).
    call("add", service=COMMENTS_PACKAGE, link=LINK, comments="\n".join("abcdef"))
    order = only_order()
    assert (order.quantity, order.charge) == (6, Decimal("1.50000"))


WEB_FIELDS = {"quantity": 1000, "country": "US", "device": 5}


def test_web_traffic_with_a_google_keyword_is_accepted(call):
    call("add", service=WEB_TRAFFIC, link=LINK, type_of_traffic=1, google_keyword="buy shoes", **WEB_FIELDS)
    order = only_order()
    assert order.params == {"country": "US", "device": 5, "type_of_traffic": 1, "google_keyword": "buy shoes"}
    assert order.charge == Decimal("0.45000")


def test_web_traffic_keyword_traffic_without_google_keyword_is_refused(call):
    answer = call("add", service=WEB_TRAFFIC, link=LINK, type_of_traffic=1, **WEB_FIELDS)
    assert answer == {"error": "Incorrect request"}


def test_web_traffic_referrer_traffic_needs_a_referring_url(call):
    without = call("add", service=WEB_TRAFFIC, link=LINK, type_of_traffic=2, **WEB_FIELDS)
    with_url = call(
        "add",
        service=WEB_TRAFFIC,
        link=LINK,
        type_of_traffic=2,
        referring_url="https://ref.test",
        **WEB_FIELDS,
    )
    assert without == {"error": "Incorrect request"}
    assert only_order().pk == with_url["order"]


def test_web_traffic_blank_referrer_needs_neither_extra_field(call):
    answer = call("add", service=WEB_TRAFFIC, link=LINK, type_of_traffic=3, **WEB_FIELDS)
    assert "order" in answer


@pytest.mark.parametrize(
    "change", [{"device": 6}, {"device": "mobile"}, {"type_of_traffic": 4}, {"country": ""}]
)
def test_web_traffic_with_a_bad_targeting_field_is_refused(call, change):
    fields = {**WEB_FIELDS, "type_of_traffic": 3, **change}
    assert call("add", service=WEB_TRAFFIC, link=LINK, **fields) == {"error": "Incorrect request"}


def test_web_traffic_may_be_drip_fed(call):
    call("add", service=WEB_TRAFFIC, link=LINK, type_of_traffic=3, runs=2, interval=60, **WEB_FIELDS)
    assert only_order().quantity == 2000


def test_poll_needs_a_positive_answer_number(call):
    assert call("add", service=POLL, link=LINK, quantity=100) == {"error": "Incorrect request"}
    assert call("add", service=POLL, link=LINK, quantity=100, answer_number=0) == {
        "error": "Incorrect request"
    }
    call("add", service=POLL, link=LINK, quantity=100, answer_number=2)
    assert only_order().params == {"answer_number": 2}


SUBSCRIPTION = {"username": "cats", "min": 100, "max": 200, "posts": 3, "delay": 30}


def test_subscription_is_charged_for_max_on_every_post_and_needs_no_link(call):
    call("add", service=SUBSCRIPTIONS, old_posts=1, expiry="31/12/2030", **SUBSCRIPTION)
    order = only_order()
    assert (order.link, order.quantity) == ("", 800)
    assert order.charge == Decimal("0.24000")
    assert order.params["expiry"] == "31/12/2030"


@pytest.mark.parametrize(
    "change, error",
    [
        ({"username": ""}, "Incorrect request"),
        ({"min": 10}, "Quantity less than minimal 50"),
        ({"max": 6000}, "Quantity more than maximal 5000"),
        ({"min": 300}, "Incorrect request"),
        ({"delay": 7}, "Incorrect request"),
        ({"posts": 0}, "Incorrect request"),
        ({"expiry": "2030-12-31"}, "Incorrect request"),
    ],
)
def test_subscription_with_bad_fields_is_refused(call, change, error):
    assert call("add", service=SUBSCRIPTIONS, **{**SUBSCRIPTION, **change}) == {"error": error}


@pytest.mark.parametrize(
    "service, fields",
    [
        (MENTIONS, {"usernames": "alice\nbob"}),
        (WITH_HASHTAGS, {"usernames": "alice", "hashtags": "#cats\n#dogs"}),
        (HASHTAG, {"hashtag": "cats"}),
        (USER_FOLLOWERS, {"username": "https://instagram.com/alice"}),
        (MEDIA_LIKERS, {"media": "https://instagram.com/p/xyz"}),
        (SEO, {"keywords": "shoes\nboots"}),
        (COMMENT_LIKES, {"username": "commenter"}),
    ],
)
def test_quantity_types_with_their_extra_field_are_accepted_and_refused_without_it(call, service, fields):
    assert call("add", service=service, link=LINK, quantity=100) == {"error": "Incorrect request"}
    call("add", service=service, link=LINK, quantity=100, **fields)
    assert set(only_order().params) == set(fields)


def test_mentions_custom_list_counts_usernames_as_the_quantity(call):
    call("add", service=CUSTOM_LIST, link=LINK, usernames="\n".join(f"user{n}" for n in range(15)))
    order = only_order()
    assert (order.quantity, order.charge) == (15, Decimal("0.06000"))


@pytest.mark.parametrize(
    "quantity, error",
    [
        (0, "Quantity less than minimal 50"),
        (-5, "Quantity less than minimal 50"),
        (49, "Quantity less than minimal 50"),
        (10001, "Quantity more than maximal 10000"),
        ("abc", "Incorrect request"),
        ("12.5", "Incorrect request"),
        ("1_000", "Incorrect request"),
        ("", "Incorrect request"),
    ],
)
def test_bad_quantities_are_refused_and_charge_nothing(call, account, quantity, error):
    assert call("add", service=DEFAULT, link=LINK, quantity=quantity) == {"error": error}
    assert balance_of(account) == Decimal("100")
    assert not SandboxOrder.objects.exists()


def test_quantities_at_the_limits_are_accepted(call):
    assert "order" in call("add", service=DEFAULT, link=LINK, quantity=50)
    assert "order" in call("add", service=DEFAULT, link=LINK, quantity=10000)


@pytest.mark.parametrize(
    "link",
    [
        "",
        "   ",
        "instagram.com/p/abc",
        "ftp://x.test/a",
        "javascript:alert(1)",
        "https://",
        "https://" + "a" * 2000,
    ],
)
def test_bad_links_are_refused(call, link):
    assert call("add", service=DEFAULT, link=link, quantity=100) == {"error": "Incorrect link"}


def test_a_missing_link_is_refused(call):
    assert call("add", service=DEFAULT, quantity=100) == {"error": "Incorrect link"}


@pytest.mark.parametrize("service", ["", "0", "9999", "abc", "1.0"])
def test_unknown_services_are_refused(call, service):
    assert call("add", service=service, link=LINK, quantity=100) == {"error": "Incorrect service ID"}


def test_an_inactive_service_is_refused(call):
    from sandbox.models import SandboxService

    SandboxService.objects.filter(pk=DEFAULT).update(active=False)
    assert call("add", service=DEFAULT, link=LINK, quantity=100) == {"error": "Incorrect service ID"}


def test_an_order_costing_more_than_the_balance_is_refused_whole(call, account):
    answer = call("add", service=21, link=LINK, quantity=5000)  # 28.00 per 1000 -> 140.00
    assert answer == {"error": "Not enough funds on balance"}
    assert balance_of(account) == Decimal("100")
    assert not SandboxOrder.objects.exists()


def test_an_order_costing_exactly_the_balance_is_accepted(call, account):
    account.balance = Decimal("0.90000")
    account.save()
    assert "order" in call("add", service=DEFAULT, link=LINK, quantity=1000)
    assert balance_of(account) == Decimal("0")


def test_the_start_count_is_deterministic_from_the_link(call):
    first = call("add", service=DEFAULT, link=LINK, quantity=100)["order"]
    second = call("add", service=DEFAULT, link=LINK, quantity=200)["order"]
    other = call("add", service=DEFAULT, link=LINK + "/other", quantity=100)["order"]
    counts = dict(SandboxOrder.objects.values_list("pk", "start_count"))
    assert counts[first] == counts[second] != counts[other]
