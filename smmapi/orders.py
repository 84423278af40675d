"""What an `add` request takes and costs, by service type: one set of rules for everyone who validates one.

The panel's order pages, the panel's own /api/v2 and the sandbox provider all take an order as a mapping
of text fields and ask `parse_order` what it means: the fields to send upstream, the units ordered in all
(what a Partial refund is measured against) and the charge. A refusal is an `InvalidOrder` naming the
field, with a message for a person and the standard API v2 message for a machine.
"""

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from .money import per_thousand, to_money
from .status import ServiceType
from .text import has_unsafe_characters

MAX_LINK_LENGTH = 2000
MAX_LINES = 10_000
# The most a number field may say: a drip-feed's runs and its minutes between them (a year), a subscription's
# posts, a poll's answer. Beyond these no real order goes, and a database column would overflow (runs and
# interval are 32-bit integers; a subscription's units, max × posts, a 64-bit one).
MOST = {"runs": 10_000, "interval": 525_600, "posts": 100_000, "old_posts": 100_000, "answer_number": 1_000}
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")

INCORRECT_REQUEST = "Incorrect request"
INCORRECT_LINK = "Incorrect link"
NO_DRIPFEED = "Drip-feed is not available for this service"

# Types whose quantity is the number of lines of a list field.
LINE_COUNTED = {
    ServiceType.CUSTOM_COMMENTS: "comments",
    ServiceType.CUSTOM_COMMENTS_PACKAGE: "comments",
    ServiceType.MENTIONS_CUSTOM_LIST: "usernames",
    ServiceType.COMMENT_REPLIES: "comments",
}
# Priced per package (charge = rate) rather than per 1000 units.
PACKAGES = {ServiceType.PACKAGE, ServiceType.CUSTOM_COMMENTS_PACKAGE}
# May be drip-fed (runs, interval) when the service allows it.
DRIPFEED_TYPES = {ServiceType.DEFAULT, ServiceType.WEB_TRAFFIC}
# Text fields a quantity-based type requires besides `quantity`.
REQUIRED_TEXT = {
    ServiceType.MENTIONS: ("usernames",),
    ServiceType.MENTIONS_WITH_HASHTAGS: ("usernames", "hashtags"),
    ServiceType.MENTIONS_HASHTAG: ("hashtag",),
    ServiceType.MENTIONS_USER_FOLLOWERS: ("username",),
    ServiceType.MENTIONS_MEDIA_LIKERS: ("media",),
    ServiceType.SEO: ("keywords",),
    ServiceType.COMMENT_LIKES: ("username",),
    ServiceType.COMMENT_REPLIES: ("username",),
}
WEB_TRAFFIC_DEVICES = {1: "Desktop", 2: "Mobile (Android)", 3: "Mobile (iOS)", 4: "Mixed (Mobile)",
                       5: "Mixed (Mobile & Desktop)"}
WEB_TRAFFIC_KINDS = {1: "Google keyword", 2: "Custom referrer", 3: "Blank referrer"}
# A parsed order's fields for `add` besides service, link and quantity: text, or whole numbers.
Params = dict[str, str | int]
SUBSCRIPTION_DELAYS = (0, 5, 10, 15, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540, 600)


class InvalidOrder(ValueError):
    """An order that cannot be placed. `field` names the input at fault ("" when none does)."""

    def __init__(self, message: str, field: str = "", api_message: str | None = None) -> None:
        # The order of orders.services.OrderRefused (and the panel's other refusals): message, then field.
        super().__init__(message)
        self.field = field
        self.message = message
        self.api_message = api_message or message

    @classmethod
    def at(cls, field: str, message: str, api_message: str | None = None) -> "InvalidOrder":
        """The refusal of one input: `InvalidOrder.at("runs", "This service does not take drip-feed orders.")`."""
        return cls(message, field, api_message)


@dataclass(frozen=True)
class Terms:
    """What the seller says about a service: its type, price per 1000 and limits."""

    type: ServiceType
    rate: Decimal
    min: int
    max: int
    dripfeed: bool = False


@dataclass
class OrderInput:
    link: str
    quantity: int  # what `add` sends as quantity: per run for drip-feed, the line count for lists
    units: int  # units ordered in all: quantity × runs, the lines, 1 for a package
    charge: Decimal
    runs: int | None = None
    interval: int | None = None
    params: Params = field(default_factory=dict)  # every other field `add` sends (comments, country, ...)
    sends_quantity: bool = True  # packages, lists and subscriptions send no `quantity` field

    def add_fields(self) -> dict[str, str | int | None]:
        """The fields for smmapi.Client.add besides service and link."""
        return add_fields(quantity=self.quantity if self.sends_quantity else None, runs=self.runs,
                          interval=self.interval, params=self.params)


def sends_quantity(service_type: ServiceType) -> bool:
    """Packages, lists and subscriptions send no `quantity` field: the provider counts for itself."""
    return service_type not in PACKAGES and service_type not in LINE_COUNTED and service_type != ServiceType.SUBSCRIPTIONS


def add_fields(
    *, quantity: int | None, runs: int | None, interval: int | None, params: Mapping[str, str | int]
) -> dict[str, str | int | None]:
    """The `add` fields of a stored order (the panel keeps these columns) or of a parsed one."""
    fields: dict[str, str | int | None] = dict(params)
    if quantity:
        fields["quantity"] = quantity
    if runs:
        fields.update(runs=runs, interval=interval)
    return fields


def parse_order(terms: Terms, fields: Mapping[str, object]) -> OrderInput:
    """Validate an order's fields for a service and say what it means. Raises InvalidOrder."""
    text = {k: "" if v is None else str(v) for k, v in fields.items()}
    if terms.type == ServiceType.SUBSCRIPTIONS:
        order = _subscription(terms, text)
    elif terms.type in PACKAGES and terms.type not in LINE_COUNTED:
        order = OrderInput(link=check_link(text.get("link", "")), quantity=1, units=1,
                           charge=to_money(terms.rate), sends_quantity=False)
    elif terms.type in LINE_COUNTED:
        order = _line_counted(terms, text)
    else:
        order = _quantity_based(terms, text)
    return order


def check_link(link: str, name: str = "link") -> str:
    link = link.strip()
    if not link:
        raise InvalidOrder.at(name, "Enter the link.", INCORRECT_LINK)
    parts = urlsplit(link)
    if len(link) > MAX_LINK_LENGTH:
        raise InvalidOrder.at(name, f"The link is longer than {MAX_LINK_LENGTH} characters.", INCORRECT_LINK)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidOrder.at(name, "Enter a full link starting with https://", INCORRECT_LINK)
    if has_unsafe_characters(link) or any(char in link for char in ' <>"'):
        raise InvalidOrder.at(name, "The link holds a space, a line break, <, >, a quote or an invisible control "
                                 "character: enter it as the address bar shows it.", INCORRECT_LINK)
    return link


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


def _line_counted(terms: Terms, fields: dict[str, str]) -> OrderInput:
    link = check_link(fields.get("link", ""))
    name = LINE_COUNTED[terms.type]
    items = lines(fields.get(name, ""))
    if not items:
        raise InvalidOrder.at(name, f"Enter the {name}, one per line.", INCORRECT_REQUEST)
    if terms.type in PACKAGES:
        # A package's min and max count packages (1 and 1, as providers list them), not its lines: any
        # number of lines makes one package, at the package's rate.
        if len(items) > MAX_LINES:
            raise InvalidOrder.at(name, f"At most {MAX_LINES} {name}.", INCORRECT_REQUEST)
        count, charge = len(items), to_money(terms.rate)
    else:
        count = _within_limits(name, len(items), terms)
        charge = per_thousand(terms.rate, count)
    params: Params = {name: "\n".join(items)}
    params.update({n: _required(fields, n) for n in REQUIRED_TEXT.get(terms.type, ())})
    return OrderInput(link=link, quantity=count, units=count, charge=charge, params=params, sends_quantity=False)


def _quantity_based(terms: Terms, fields: dict[str, str]) -> OrderInput:
    link = check_link(fields.get("link", ""))
    per_run = _within_limits("quantity", _int(fields, "quantity"), terms)
    runs, interval = _dripfeed(terms, fields)
    units = per_run * (runs or 1)
    return OrderInput(
        link=link, quantity=per_run, units=units, charge=per_thousand(terms.rate, units),
        runs=runs, interval=interval, params=_type_params(terms.type, fields),
    )


def _type_params(service_type: ServiceType, fields: dict[str, str]) -> Params:
    if service_type == ServiceType.WEB_TRAFFIC:
        return _web_traffic(fields)
    if service_type == ServiceType.POLL:
        return {"answer_number": _positive(fields, "answer_number")}
    return {name: _required(fields, name) for name in REQUIRED_TEXT.get(service_type, ())}


def _web_traffic(fields: dict[str, str]) -> Params:
    params: Params = {
        "country": _required(fields, "country"),
        "device": _choice(fields, "device", WEB_TRAFFIC_DEVICES),
        "type_of_traffic": _choice(fields, "type_of_traffic", WEB_TRAFFIC_KINDS),
    }
    if params["type_of_traffic"] == 1:
        params["google_keyword"] = _required(fields, "google_keyword")
    if params["type_of_traffic"] == 2:
        params["referring_url"] = check_link(_required(fields, "referring_url"), "referring_url")
    return params


def _dripfeed(terms: Terms, fields: dict[str, str]) -> tuple[int | None, int | None]:
    if not fields.get("runs", "").strip() and not fields.get("interval", "").strip():
        return None, None
    if terms.type not in DRIPFEED_TYPES or not terms.dripfeed:
        raise InvalidOrder.at("runs", "This service does not take drip-feed orders.", NO_DRIPFEED)
    return _positive(fields, "runs"), _positive(fields, "interval")


def _subscription(terms: Terms, fields: dict[str, str]) -> OrderInput:
    # Subscriptions watch a username for future posts; a link is optional (checked when given).
    link = check_link(fields["link"]) if fields.get("link", "").strip() else ""
    username = _required(fields, "username")
    low = _within_limits("min", _int(fields, "min"), terms)
    high = _within_limits("max", _int(fields, "max"), terms)
    if low > high:
        raise InvalidOrder.at("max", "Max must not be below min.", INCORRECT_REQUEST)
    posts = _positive(fields, "posts")
    old_posts = _int(fields, "old_posts") if fields.get("old_posts", "").strip() else 0
    if old_posts < 0:
        raise InvalidOrder.at("old_posts", "Old posts cannot be negative.", INCORRECT_REQUEST)
    _at_most("old_posts", old_posts)
    params: Params = {"username": username, "min": low, "max": high, "posts": posts, "old_posts": old_posts,
              "delay": _choice(fields, "delay", SUBSCRIPTION_DELAYS)}
    if fields.get("expiry", "").strip():
        params["expiry"] = _date(fields, "expiry")
    # Charged up front for the most it may deliver: `max` on every post it will cover.
    units = high * (posts + old_posts)
    return OrderInput(link=link, quantity=high, units=units, charge=per_thousand(terms.rate, units), params=params,
                      sends_quantity=False)


def _within_limits(name: str, quantity: int, terms: Terms) -> int:
    if quantity < terms.min:
        raise InvalidOrder.at(name, f"Quantity less than minimal {terms.min}")
    if quantity > terms.max:
        raise InvalidOrder.at(name, f"Quantity more than maximal {terms.max}")
    return quantity


def _int(fields: dict[str, str], name: str) -> int:
    # Plain decimal digits only: int() alone would also take "1_000" and 40-digit numbers.
    text = fields.get(name, "").strip()
    if not text:
        raise InvalidOrder.at(name, f"Enter the {_label(name)}.", INCORRECT_REQUEST)
    if not _INTEGER.fullmatch(text):
        raise InvalidOrder.at(name, f"The {_label(name)} must be a whole number.", INCORRECT_REQUEST)
    return int(text)


def _positive(fields: dict[str, str], name: str) -> int:
    number = _int(fields, name)
    if number < 1:
        raise InvalidOrder.at(name, f"The {_label(name)} must be at least 1.", INCORRECT_REQUEST)
    return _at_most(name, number)


def _at_most(name: str, number: int) -> int:
    if name in MOST and number > MOST[name]:
        raise InvalidOrder.at(name, f"The {_label(name)} can be at most {MOST[name]:,}.".replace(",", " "),
                           INCORRECT_REQUEST)
    return number


def _choice(fields: dict[str, str], name: str, allowed: Container[int]) -> int:
    number = _int(fields, name)
    if number not in allowed:
        raise InvalidOrder.at(name, f"Choose a valid {_label(name)}.", INCORRECT_REQUEST)
    return number


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise InvalidOrder.at(name, f"Enter the {_label(name)}.", INCORRECT_REQUEST)
    return value


def _date(fields: dict[str, str], name: str) -> str:
    value = fields[name].strip()
    try:
        datetime.strptime(value, "%d/%m/%Y")
    except ValueError:
        raise InvalidOrder.at(name, f"Enter the {_label(name)} as day/month/year.", INCORRECT_REQUEST) from None
    return value


def _label(name: str) -> str:
    return name.replace("_", " ")
