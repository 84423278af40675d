"""Status and service-type vocabulary, the add-fields table, and provider-side refusals."""

import pytest

from smmapi import (
    PROVIDER_SIDE_MARKERS,
    SERVICE_TYPE_FIELDS,
    OrderStatus,
    ProviderRefused,
    RefillStatus,
    ServiceType,
    is_provider_side_refusal,
    normalize_order_status,
    normalize_refill_status,
    normalize_service_type,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pending", OrderStatus.PENDING),
        ("In progress", OrderStatus.IN_PROGRESS),
        ("In Progress", OrderStatus.IN_PROGRESS),
        ("in_progress", OrderStatus.IN_PROGRESS),
        ("inprogress", OrderStatus.IN_PROGRESS),
        ("IN-PROGRESS", OrderStatus.IN_PROGRESS),
        ("processing", OrderStatus.PROCESSING),
        ("completed", OrderStatus.COMPLETED),
        (" Completed ", OrderStatus.COMPLETED),
        ("Partial", OrderStatus.PARTIAL),
        ("partially completed", OrderStatus.PARTIAL),
        ("Canceled", OrderStatus.CANCELED),
        ("Cancelled", OrderStatus.CANCELED),
        ("Refunded", OrderStatus.CANCELED),
        ("Error", OrderStatus.ERROR),
        ("fail", OrderStatus.ERROR),
        ("Paused", OrderStatus.UNKNOWN),
        ("", OrderStatus.UNKNOWN),
        (None, OrderStatus.UNKNOWN),
        (3, OrderStatus.UNKNOWN),
    ],
)
def test_order_status_spellings_normalise(text, expected):
    assert normalize_order_status(text) is expected


def test_only_completed_partial_and_canceled_order_statuses_are_final():
    assert {status for status in OrderStatus if status.is_final} == {
        OrderStatus.COMPLETED,
        OrderStatus.PARTIAL,
        OrderStatus.CANCELED,
    }


def test_order_status_values_are_the_protocol_spellings():
    assert [status.value for status in OrderStatus] == [
        "Pending",
        "In progress",
        "Processing",
        "Completed",
        "Partial",
        "Canceled",
        "Error",
        "Unknown",
    ]
    assert OrderStatus.IN_PROGRESS == "In progress"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pending", RefillStatus.PENDING),
        ("in_progress", RefillStatus.IN_PROGRESS),
        ("In Progress", RefillStatus.IN_PROGRESS),
        ("Completed", RefillStatus.COMPLETED),
        ("rejected", RefillStatus.REJECTED),
        ("Canceled", RefillStatus.REJECTED),
        ("Cancelled", RefillStatus.REJECTED),
        ("Error", RefillStatus.REJECTED),
        ("whatever", RefillStatus.UNKNOWN),
        (None, RefillStatus.UNKNOWN),
    ],
)
def test_refill_status_spellings_normalise(text, expected):
    assert normalize_refill_status(text) is expected


def test_only_completed_and_rejected_refill_statuses_are_final():
    assert {status for status in RefillStatus if status.is_final} == {
        RefillStatus.COMPLETED,
        RefillStatus.REJECTED,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Default", ServiceType.DEFAULT),
        ("default", ServiceType.DEFAULT),
        ("Package", ServiceType.PACKAGE),
        ("Custom Comments", ServiceType.CUSTOM_COMMENTS),
        ("custom_comments", ServiceType.CUSTOM_COMMENTS),
        ("Custom Comments Package", ServiceType.CUSTOM_COMMENTS_PACKAGE),
        ("Web traffic", ServiceType.WEB_TRAFFIC),
        ("web_traffic", ServiceType.WEB_TRAFFIC),
        ("WEB TRAFFIC", ServiceType.WEB_TRAFFIC),
        ("Poll", ServiceType.POLL),
        ("Subscriptions", ServiceType.SUBSCRIPTIONS),
        ("Mentions", ServiceType.MENTIONS),
        ("Mentions with Hashtags", ServiceType.MENTIONS_WITH_HASHTAGS),
        ("Mentions Custom List", ServiceType.MENTIONS_CUSTOM_LIST),
        ("mentions_hashtag", ServiceType.MENTIONS_HASHTAG),
        ("Mentions User Followers", ServiceType.MENTIONS_USER_FOLLOWERS),
        ("Mentions Media Likers", ServiceType.MENTIONS_MEDIA_LIKERS),
        ("seo", ServiceType.SEO),
        ("Comment Likes", ServiceType.COMMENT_LIKES),
        ("comment replies", ServiceType.COMMENT_REPLIES),
        ("Invites from groups", ServiceType.OTHER),
        ("Other", ServiceType.OTHER),
    ],
)
def test_service_type_spellings_normalise(text, expected):
    assert normalize_service_type(text) is expected


def test_service_type_values_are_exactly_the_documented_spellings():
    assert [t.value for t in ServiceType if t is not ServiceType.OTHER] == [
        "Default",
        "Package",
        "Custom Comments",
        "Custom Comments Package",
        "Web Traffic",
        "Poll",
        "Subscriptions",
        "Mentions",
        "Mentions with Hashtags",
        "Mentions Custom List",
        "Mentions Hashtag",
        "Mentions User Followers",
        "Mentions Media Likers",
        "SEO",
        "Comment Likes",
        "Comment Replies",
    ]


def test_every_service_type_has_an_add_fields_entry():
    assert set(SERVICE_TYPE_FIELDS) == set(ServiceType)


@pytest.mark.parametrize(
    ("service_type", "fields"),
    [
        (ServiceType.DEFAULT, ("quantity", "runs", "interval")),
        (ServiceType.PACKAGE, ()),
        (ServiceType.CUSTOM_COMMENTS, ("comments",)),
        (ServiceType.CUSTOM_COMMENTS_PACKAGE, ("comments",)),
        (
            ServiceType.WEB_TRAFFIC,
            (
                "quantity",
                "runs",
                "interval",
                "country",
                "device",
                "type_of_traffic",
                "google_keyword",
                "referring_url",
            ),
        ),
        (ServiceType.POLL, ("quantity", "answer_number")),
        (ServiceType.SUBSCRIPTIONS, ("username", "min", "max", "posts", "old_posts", "delay", "expiry")),
        (ServiceType.MENTIONS, ("quantity", "usernames")),
        (ServiceType.MENTIONS_WITH_HASHTAGS, ("quantity", "usernames", "hashtags")),
        (ServiceType.MENTIONS_CUSTOM_LIST, ("usernames",)),
        (ServiceType.MENTIONS_HASHTAG, ("quantity", "hashtag")),
        (ServiceType.MENTIONS_USER_FOLLOWERS, ("quantity", "username")),
        (ServiceType.MENTIONS_MEDIA_LIKERS, ("quantity", "media")),
        (ServiceType.SEO, ("quantity", "keywords")),
        (ServiceType.COMMENT_LIKES, ("quantity", "username")),
        (ServiceType.COMMENT_REPLIES, ("username", "comments")),
        (ServiceType.OTHER, ()),
    ],
)
def test_add_fields_table_matches_the_protocol(service_type, fields):
    assert SERVICE_TYPE_FIELDS[service_type] == fields


@pytest.mark.parametrize(
    "message",
    [
        "Not enough funds on balance",
        "not enough balance",
        "Insufficient balance",
        "Too many requests",
        "Spam protection, wait 7 seconds",
        "Rate limit exceeded",
        "Please try again later",
        "API is under MAINTENANCE",
        "Invalid API key",
    ],
)
def test_refusals_about_the_provider_or_account_are_provider_side(message):
    assert is_provider_side_refusal(message)
    assert ProviderRefused(message).is_provider_side


@pytest.mark.parametrize(
    "message",
    ["Incorrect order ID", "Link is invalid", "Quantity less than minimal 50", "Incorrect service ID", ""],
)
def test_refusals_about_the_order_are_not_provider_side(message):
    assert not is_provider_side_refusal(message)
    assert not ProviderRefused(message).is_provider_side


def test_provider_side_markers_are_one_lower_case_tuple():
    assert isinstance(PROVIDER_SIDE_MARKERS, tuple)
    assert all(marker == marker.lower() for marker in PROVIDER_SIDE_MARKERS)
