"""Validation of an `add` request by service type: which fields apply, what quantity and charge they mean.

Pure functions over the request's fields (a dict of strings); each refusal is an ApiError with the
standard v2 message. The result says what to store; services.order_add does the writing.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from . import errors
from .errors import ApiError
from .models import SandboxService, ServiceType
from .money import round_money

T = ServiceType
MAX_LINK_LENGTH = 2000
INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
SUBSCRIPTION_DELAYS = frozenset(
    {0, 5, 10, 15, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540, 600}
)

# Types whose quantity is the number of lines of a list field.
LINE_COUNTED = {
    T.CUSTOM_COMMENTS: "comments",
    T.CUSTOM_COMMENTS_PACKAGE: "comments",
    T.MENTIONS_CUSTOM_LIST: "usernames",
}
# Types priced per package (charge = rate) rather than per 1000 units.
PACKAGES = {T.PACKAGE, T.CUSTOM_COMMENTS_PACKAGE}
# Types that may be drip-fed (runs, interval) when the service allows it.
DRIPFEED_TYPES = {T.DEFAULT, T.WEB_TRAFFIC}
# Text fields each quantity-based type requires besides `quantity` (lists are one item a line).
REQUIRED_TEXT = {
    T.MENTIONS: ("usernames",),
    T.MENTIONS_WITH_HASHTAGS: ("usernames", "hashtags"),
    T.MENTIONS_HASHTAG: ("hashtag",),
    T.MENTIONS_USER_FOLLOWERS: ("username",),
    T.MENTIONS_MEDIA_LIKERS: ("media",),
    T.SEO: ("keywords",),
    T.COMMENT_LIKES: ("username",),
}


@dataclass
class OrderInput:
    link: str
    quantity: int  # total units
    charge: Decimal
    runs: int | None = None
    interval: int | None = None
    params: dict = field(default_factory=dict)


def parse_order(service: SandboxService, fields: dict[str, str]) -> OrderInput:
    if service.type == T.SUBSCRIPTIONS:
        return _subscription(service, fields)
    link = check_link(fields.get("link", ""))
    if service.type == T.PACKAGE:
        return OrderInput(link=link, quantity=1, charge=round_money(service.rate))
    if service.type in LINE_COUNTED:
        return _line_counted(service, fields, link)
    return _quantity_based(service, fields, link)


def check_link(link: str) -> str:
    link = link.strip()
    parts = urlsplit(link)
    if len(link) > MAX_LINK_LENGTH or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ApiError(errors.INCORRECT_LINK)
    return link


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _line_counted(service: SandboxService, fields: dict[str, str], link: str) -> OrderInput:
    name = LINE_COUNTED[service.type]
    items = lines(fields.get(name, ""))
    if not items:
        raise ApiError(errors.INCORRECT_REQUEST)
    quantity = _within_limits(len(items), service.min, service.max)
    if service.type in PACKAGES:
        charge = round_money(service.rate)
    else:
        charge = per_thousand(service.rate, quantity)
    return OrderInput(link=link, quantity=quantity, charge=charge, params={name: "\n".join(items)})


def _quantity_based(service: SandboxService, fields: dict[str, str], link: str) -> OrderInput:
    per_run = _within_limits(_int(fields.get("quantity")), service.min, service.max)
    runs, interval = _dripfeed(service, fields)
    params = _type_params(service.type, fields)
    total = per_run * (runs or 1)
    return OrderInput(
        link=link,
        quantity=total,
        charge=per_thousand(service.rate, total),
        runs=runs,
        interval=interval,
        params=params,
    )


def _type_params(service_type: str, fields: dict[str, str]) -> dict:
    if service_type == T.WEB_TRAFFIC:
        return _web_traffic(fields)
    if service_type == T.POLL:
        return {"answer_number": _positive(fields.get("answer_number"))}
    return {name: _required(fields, name) for name in REQUIRED_TEXT.get(service_type, ())}


def _web_traffic(fields: dict[str, str]) -> dict:
    params = {
        "country": _required(fields, "country"),
        "device": _choice(fields.get("device"), range(1, 6)),
        "type_of_traffic": _choice(fields.get("type_of_traffic"), range(1, 4)),
    }
    if params["type_of_traffic"] == 1:
        params["google_keyword"] = _required(fields, "google_keyword")
    if params["type_of_traffic"] == 2:
        params["referring_url"] = check_link(_required(fields, "referring_url"))
    return params


def _dripfeed(service: SandboxService, fields: dict[str, str]) -> tuple[int | None, int | None]:
    if not fields.get("runs") and not fields.get("interval"):
        return None, None
    if service.type not in DRIPFEED_TYPES or not service.dripfeed:
        raise ApiError(errors.NO_DRIPFEED)
    return _positive(fields.get("runs")), _positive(fields.get("interval"))


def _subscription(service: SandboxService, fields: dict[str, str]) -> OrderInput:
    # Subscriptions watch a username for future posts; a link is optional (checked when given).
    link = check_link(fields["link"]) if fields.get("link") else ""
    low, high = _int(fields.get("min")), _int(fields.get("max"))
    _within_limits(low, service.min, service.max)
    _within_limits(high, service.min, service.max)
    if low > high:
        raise ApiError(errors.INCORRECT_REQUEST)
    posts = _positive(fields.get("posts"))
    old_posts = _int(fields["old_posts"]) if fields.get("old_posts") else 0
    delay = _choice(fields.get("delay"), SUBSCRIPTION_DELAYS)
    params = {
        "username": _required(fields, "username"),
        "min": low,
        "max": high,
        "posts": posts,
        "old_posts": max(old_posts, 0),
        "delay": delay,
    }
    if fields.get("expiry"):
        params["expiry"] = _date(fields["expiry"])
    # Charged up front for the most it may deliver: `max` on every post it will cover.
    quantity = high * (posts + params["old_posts"])
    return OrderInput(
        link=link, quantity=quantity, charge=per_thousand(service.rate, quantity), params=params
    )


def per_thousand(rate: Decimal, units: int) -> Decimal:
    return round_money(rate * units / 1000)


def _within_limits(quantity: int, minimum: int, maximum: int) -> int:
    if quantity < minimum:
        raise ApiError(errors.quantity_below(minimum))
    if quantity > maximum:
        raise ApiError(errors.quantity_above(maximum))
    return quantity


def _int(value: str | None) -> int:
    # Plain decimal digits only: int() alone would also take "1_000" and 40-digit numbers.
    text = "" if value is None else str(value).strip()
    if not INTEGER.fullmatch(text):
        raise ApiError(errors.INCORRECT_REQUEST)
    return int(text)


def _positive(value: str | None) -> int:
    number = _int(value)
    if number < 1:
        raise ApiError(errors.INCORRECT_REQUEST)
    return number


def _choice(value: str | None, allowed) -> int:
    number = _int(value)
    if number not in allowed:
        raise ApiError(errors.INCORRECT_REQUEST)
    return number


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise ApiError(errors.INCORRECT_REQUEST)
    return value


def _date(value: str) -> str:
    try:
        datetime.strptime(value.strip(), "%d/%m/%Y")
    except ValueError:
        raise ApiError(errors.INCORRECT_REQUEST) from None
    return value.strip()
