"""The status and service-type vocabulary, and the normalisers that map providers' spellings onto it.

Providers spell the same thing many ways ("In Progress", "in_progress", "inprogress",
"Cancelled"...). We fold case, spaces, underscores and hyphens and look the result up in one
table per enum; anything unrecognised maps to UNKNOWN/OTHER and the caller keeps the raw text.
"""

from __future__ import annotations

import re
from enum import StrEnum

_FOLD_RE = re.compile(r"[\s_\-]+")


def _fold(text: object) -> str:
    """Lower-case and drop spaces/underscores/hyphens: "In_Progress" -> "inprogress"."""
    if not isinstance(text, str):
        return ""
    return _FOLD_RE.sub("", text).lower()


class OrderStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"
    # The provider reported an error state. Not final: the provider may still fix or
    # cancel it, so the panel flags it for staff rather than refunding.
    ERROR = "Error"
    # A spelling we do not recognise; the caller keeps the raw text.
    UNKNOWN = "Unknown"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_ORDER_STATUSES


_FINAL_ORDER_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELED})

_ORDER_STATUS_SPELLINGS: dict[str, OrderStatus] = {
    "pending": OrderStatus.PENDING,
    "inprogress": OrderStatus.IN_PROGRESS,
    "processing": OrderStatus.PROCESSING,
    "completed": OrderStatus.COMPLETED,
    "complete": OrderStatus.COMPLETED,
    "partial": OrderStatus.PARTIAL,
    "partiallycompleted": OrderStatus.PARTIAL,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    # Refunded means the provider gave the money back in full: same outcome as Canceled.
    "refunded": OrderStatus.CANCELED,
    "error": OrderStatus.ERROR,
    "fail": OrderStatus.ERROR,
    "failed": OrderStatus.ERROR,
}


def normalize_order_status(text: object) -> OrderStatus:
    """Map a provider's status spelling to an OrderStatus; UNKNOWN when unrecognised."""
    return _ORDER_STATUS_SPELLINGS.get(_fold(text), OrderStatus.UNKNOWN)


class RefillStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    REJECTED = "Rejected"
    UNKNOWN = "Unknown"

    @property
    def is_final(self) -> bool:
        return self in (RefillStatus.COMPLETED, RefillStatus.REJECTED)


_REFILL_STATUS_SPELLINGS: dict[str, RefillStatus] = {
    "pending": RefillStatus.PENDING,
    "inprogress": RefillStatus.IN_PROGRESS,
    "processing": RefillStatus.IN_PROGRESS,
    "completed": RefillStatus.COMPLETED,
    "complete": RefillStatus.COMPLETED,
    "rejected": RefillStatus.REJECTED,
    # A refill that was canceled or errored will not happen: for the panel that is a rejection.
    "canceled": RefillStatus.REJECTED,
    "cancelled": RefillStatus.REJECTED,
    "error": RefillStatus.REJECTED,
}


def normalize_refill_status(text: object) -> RefillStatus:
    """Map a provider's refill status spelling to a RefillStatus; UNKNOWN when unrecognised."""
    return _REFILL_STATUS_SPELLINGS.get(_fold(text), RefillStatus.UNKNOWN)


class ServiceType(StrEnum):
    DEFAULT = "Default"
    PACKAGE = "Package"
    CUSTOM_COMMENTS = "Custom Comments"
    CUSTOM_COMMENTS_PACKAGE = "Custom Comments Package"
    WEB_TRAFFIC = "Web Traffic"
    POLL = "Poll"
    SUBSCRIPTIONS = "Subscriptions"
    MENTIONS = "Mentions"
    MENTIONS_WITH_HASHTAGS = "Mentions with Hashtags"
    MENTIONS_CUSTOM_LIST = "Mentions Custom List"
    MENTIONS_HASHTAG = "Mentions Hashtag"
    MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
    MENTIONS_MEDIA_LIKERS = "Mentions Media Likers"
    SEO = "SEO"
    COMMENT_LIKES = "Comment Likes"
    COMMENT_REPLIES = "Comment Replies"
    # A type we do not know; the Service keeps the provider's raw spelling in type_raw.
    OTHER = "Other"


# Every known type by its folded spelling ("Custom Comments" -> "customcomments"), so
# "custom_comments", "CUSTOM-COMMENTS" and "Web traffic" all resolve. OTHER is not a spelling.
_SERVICE_TYPE_SPELLINGS: dict[str, ServiceType] = {
    _fold(member.value): member for member in ServiceType if member is not ServiceType.OTHER
}


def normalize_service_type(text: object) -> ServiceType:
    """Map a provider's service type spelling to a ServiceType; OTHER when unrecognised."""
    return _SERVICE_TYPE_SPELLINGS.get(_fold(text), ServiceType.OTHER)


# The `add` fields (besides `service` and `link`) each service type takes, per api-v2.md.
# Optional and required are not distinguished here: Default's runs/interval are optional
# drip-feed fields, Web Traffic's google_keyword/referring_url depend on type_of_traffic.
# OTHER has no entry we can trust: an unknown type's fields are unknown.
SERVICE_TYPE_FIELDS: dict[ServiceType, tuple[str, ...]] = {
    ServiceType.DEFAULT: ("quantity", "runs", "interval"),
    ServiceType.PACKAGE: (),
    ServiceType.CUSTOM_COMMENTS: ("comments",),
    ServiceType.CUSTOM_COMMENTS_PACKAGE: ("comments",),
    ServiceType.WEB_TRAFFIC: (
        "quantity",
        "runs",
        "interval",
        "country",
        "device",
        "type_of_traffic",
        "google_keyword",
        "referring_url",
    ),
    ServiceType.POLL: ("quantity", "answer_number"),
    ServiceType.SUBSCRIPTIONS: ("username", "min", "max", "posts", "old_posts", "delay", "expiry"),
    ServiceType.MENTIONS: ("quantity", "usernames"),
    ServiceType.MENTIONS_WITH_HASHTAGS: ("quantity", "usernames", "hashtags"),
    ServiceType.MENTIONS_CUSTOM_LIST: ("usernames",),
    ServiceType.MENTIONS_HASHTAG: ("quantity", "hashtag"),
    ServiceType.MENTIONS_USER_FOLLOWERS: ("quantity", "username"),
    ServiceType.MENTIONS_MEDIA_LIKERS: ("quantity", "media"),
    ServiceType.SEO: ("quantity", "keywords"),
    ServiceType.COMMENT_LIKES: ("quantity", "username"),
    ServiceType.COMMENT_REPLIES: ("username", "comments"),
    ServiceType.OTHER: (),
}
