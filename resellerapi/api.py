"""/api/v2 served to customers: read the fields however they came, check the key and the rate, dispatch.

`handle(request)` never raises and always returns something to serialise as JSON (HTTP 200 is the view's
business): an answer in the seed's shape, or `{"error": message}`. Writes go through orders.services, the
same functions the pages call; reads through resellerapi.selectors. The actions served are exactly those
docs.ACTIONS describes.
"""

import codecs
import json
import logging
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, QueryDict

from accounts.money import money_str
from core.net import client_ip
from orders.models import Order, Refill
from orders.services import OrderRefused, order_cancel_request, order_place, order_refill_request

from . import docs, selectors
from .errors import (
    ADDRESS_NOT_ALLOWED,
    INCORRECT_ORDER,
    INCORRECT_REQUEST,
    INCORRECT_SERVICE,
    INTERNAL_ERROR,
    INVALID_KEY,
    REFILL_NOT_FOUND,
    TOO_MANY_IDS,
    TOO_MANY_REQUESTS,
    ApiError,
)
from .selectors import OrderStatusRow

log = logging.getLogger(__name__)

KEY_FIELDS = ("key", "api_key", "api")  # "key" is the standard; some clients are set up for the others
ID_LIST_FIELDS = ("orders", "refills")  # JSON lists in these are comma-joined, in others one item a line
NOT_ORDER_FIELDS = frozenset({*KEY_FIELDS, "action", "service", "request_id"})
MAX_ID_DIGITS = 18  # 19 digits may not fit a BIGINT
MAX_REQUEST_ID_LENGTH = 100  # Order.request_id
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def handle(request: HttpRequest) -> Any:
    """The answer to one API request. Never raises: an unexpected error is logged (without the key)."""
    fields: dict[str, str] = {}
    try:
        fields = request_fields(request)
        return answer(fields, client_ip(request))
    except ApiError as refusal:
        return {"error": refusal.message}
    except Exception:
        _log_unexpected(fields)
        return {"error": INTERNAL_ERROR}


def answer(fields: dict[str, str], address: str = "") -> Any:
    """`address` is the caller's (core.net.client_ip): a key with an allow-list refuses any other, before
    the rate limit counts the call (a stolen key used elsewhere does not use up the customer's minute)."""
    try:
        user = selectors.user_for_key(key_of(fields), address)
        if user is None:
            raise ApiError(INVALID_KEY)
        if not selectors.address_allowed(user, address):
            raise ApiError(ADDRESS_NOT_ALLOWED)
        throttle(user.pk)
        handler = ACTIONS.get(fields.get("action", "").strip())
        if handler is None:
            raise ApiError(INCORRECT_REQUEST)
        return handler(user, fields)
    except ApiError as refusal:
        return {"error": refusal.message}


def key_of(fields: dict[str, str]) -> str:
    return next((fields[name].strip() for name in KEY_FIELDS if fields.get(name, "").strip()), "")


def _log_unexpected(fields: dict[str, str]) -> None:
    # The traceback may quote field values (the key among them); it is scrubbed before it is logged.
    text = traceback.format_exc()
    for name in KEY_FIELDS:
        if fields.get(name, "").strip():
            text = text.replace(fields[name].strip(), "***")
    log.error("reseller API: unexpected error on action %r\n%s", fields.get("action", "")[:30], text)


# --- Reading the request --------------------------------------------------------------------------------


def request_fields(request: HttpRequest) -> dict[str, str]:
    """The fields from the query string, then a form or JSON body (the body wins). Raises ApiError."""
    try:
        fields = request.GET.dict()  # the last value of each field, as dict(items()) gives them
        fields.update(_body_fields(request))
    except ApiError:
        raise
    except Exception:  # a body Django cannot parse: too big, too many fields, bad multipart, bad charset
        raise ApiError(INCORRECT_REQUEST) from None
    for name, value in fields.items():
        if not _storable(name) or not _storable(value):
            raise ApiError(INCORRECT_REQUEST)
    return fields


def _body_fields(request: HttpRequest) -> dict[str, str]:
    content_type = request.content_type or ""
    if content_type in FORM_TYPES:
        if request.method == "POST":
            return request.POST.dict()
        return QueryDict(request.body, encoding=request.encoding).dict()
    body = request.body
    looks_like_json = body.removeprefix(codecs.BOM_UTF8).lstrip()[:1] == b"{"  # JSON sent as text/plain
    if content_type == "application/json" or content_type.endswith("+json") or looks_like_json:
        return _json_fields(body)
    return {}


def _json_fields(body: bytes) -> dict[str, str]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError):  # includes UnicodeDecodeError and over-long integers
        raise ApiError(INCORRECT_REQUEST) from None
    if not isinstance(data, dict):
        raise ApiError(INCORRECT_REQUEST)
    return {name: _text(value, ",".join if name in ID_LIST_FIELDS else "\n".join) for name, value in data.items()}


def _text(value: Any, join: Callable[[list[str]], str]) -> str:
    """A JSON value as the text a form would have carried: numbers plain, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, list):
        return join([_text(item, join) for item in value])
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _storable(text: str) -> bool:
    # Text no database column takes: NUL (PostgreSQL refuses it) and lone surrogates (not UTF-8).
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_T = TypeVar("_T")


def _by_token(found: Mapping[int, _T], token: str) -> _T | None:
    """What `found` holds for the ID `token` says, or None: nothing is found for a token that is no ID."""
    number = parse_id(token)
    return found.get(number) if number is not None else None


def parse_id(token: str) -> int | None:
    token = token.strip()
    if not token or len(token) > MAX_ID_DIGITS or not (token.isascii() and token.isdigit()):
        return None
    return int(token)


def id_out(token: str) -> int | str:
    """An ID as answers show it: a number, as the seed does; a token that is no number, as it was sent."""
    number = parse_id(token)
    return token if number is None else number


def id_list(text: str) -> list[str]:
    """The comma-separated IDs of a multi-ID request, de-duplicated in order. Raises ApiError."""
    tokens = [token.strip() for token in text.split(",") if token.strip()]
    if not tokens:
        raise ApiError(INCORRECT_REQUEST)
    if len(tokens) > docs.MAX_IDS:
        raise ApiError(TOO_MANY_IDS)
    return list(dict.fromkeys(tokens))


def _ids(tokens: list[str]) -> list[int]:
    return [number for number in map(parse_id, tokens) if number is not None]


# --- The rate limit --------------------------------------------------------------------------------------


def throttle(user_id: int) -> None:
    """A fixed window per key per minute, counted in Django's cache. Raises ApiError when over the limit.

    Counted per customer rather than per key string: each customer has one key, and rotating it must not
    reset the count. The cache key holds no API key.
    """
    limit = getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600)
    if limit <= 0:
        return
    name = f"resellerapi:rate:{user_id}:{int(time.time() // 60)}"
    try:
        cache.add(name, 0, timeout=120)
        try:
            count = cache.incr(name)
        except ValueError:  # expired between add and incr
            cache.set(name, 1, timeout=120)
            count = 1
    except Exception:  # the cache (Redis) is down: a throttle is no reason to refuse orders (core.ratelimit too)
        log.warning("reseller API: the rate limit's cache is unavailable; letting the call through", exc_info=True)
        return
    if count > limit:
        raise ApiError(TOO_MANY_REQUESTS)


# --- Actions ---------------------------------------------------------------------------------------------


def services(user, fields: dict[str, str]) -> list[dict]:
    return [
        {
            "service": service.pk,
            "name": service.name,
            "type": service.type,
            "category": service.category.name,
            "rate": money_str(service.rate),
            "min": str(service.min_quantity),
            "max": str(service.max_quantity),
            "refill": service.refill,
            "cancel": service.cancel,
            # Beyond the seed, as many panels send them: whether runs/interval apply, and the description.
            "dripfeed": service.dripfeed,
            "desc": service.description,
        }
        for service in selectors.services_for_api(user)
    ]


def add(user, fields: dict[str, str]) -> dict:
    service_id = parse_id(fields.get("service", ""))
    if service_id is None:
        raise ApiError(INCORRECT_SERVICE)
    request_id = fields.get("request_id", "").strip() or None
    if request_id is not None and len(request_id) > MAX_REQUEST_ID_LENGTH:
        raise ApiError(INCORRECT_REQUEST)
    order_fields = {name: value for name, value in fields.items() if name not in NOT_ORDER_FIELDS}
    try:
        order = order_place(user=user, service=selectors.service_for_add(service_id), fields=order_fields,
                            request_id=request_id)
    except OrderRefused as refused:
        raise ApiError(refused.api_message) from None
    return {"order": order.pk}


def status(user, fields: dict[str, str]) -> dict:
    if fields.get("orders", "").strip():
        tokens = id_list(fields["orders"])
        found = selectors.orders_by_id(user=user, ids=_ids(tokens))
        return {token: _status_item(_by_token(found, token)) for token in tokens}
    if not fields.get("order", "").strip():
        raise ApiError(INCORRECT_REQUEST)
    order_id = parse_id(fields["order"])
    order = selectors.orders_by_id(user=user, ids=[order_id]).get(order_id) if order_id is not None else None
    if order is None:
        raise ApiError(INCORRECT_ORDER)
    return order_status(order)


def _status_item(order: OrderStatusRow | None) -> dict:
    return order_status(order) if order is not None else {"error": INCORRECT_ORDER}


def order_status(order: OrderStatusRow) -> dict:
    return {
        "charge": money_str(order.charge - order.refunded),
        "start_count": str(max(order.start_count or 0, 0)),
        "status": str(order.status),
        "remains": str(remains_of(order)),
        "currency": settings.PANEL_CURRENCY,
    }


def remains_of(order: OrderStatusRow) -> int:
    """What is left to deliver; until the provider says, nothing counts as delivered (a Completed order: 0)."""
    if order.remains is not None:
        return max(0, min(order.remains, order.units))
    return 0 if order.status == Order.Status.COMPLETED else order.units


def refill(user, fields: dict[str, str]) -> Any:
    def create(token: str) -> int:
        order_id = parse_id(token)
        if order_id is None:
            raise ApiError(INCORRECT_ORDER)
        try:
            return order_refill_request(user=user, order_id=order_id).pk
        except OrderRefused as refused:
            raise ApiError(refused.api_message) from None

    if fields.get("orders", "").strip():
        return [{"order": id_out(token), "refill": per_item(create, token)} for token in id_list(fields["orders"])]
    if not fields.get("order", "").strip():
        raise ApiError(INCORRECT_REQUEST)
    # The seed shows this one ID as a string ("1") and the multi answer's as numbers.
    return {"refill": str(create(fields["order"]))}


REFILL_STATUSES: dict[str, str] = {Refill.Status.QUEUED: "Pending"}  # queued here, not yet sent upstream: Pending to a client


def refill_status(user, fields: dict[str, str]) -> Any:
    if fields.get("refills", "").strip():
        tokens = id_list(fields["refills"])
        found = selectors.refill_statuses_by_id(user=user, ids=_ids(tokens))
        return [{"refill": id_out(token), "status": _refill_item(_by_token(found, token))} for token in tokens]
    if not fields.get("refill", "").strip():
        raise ApiError(INCORRECT_REQUEST)
    refill_id = parse_id(fields["refill"])
    found = selectors.refill_statuses_by_id(user=user, ids=[refill_id]) if refill_id is not None else {}
    if refill_id not in found:
        raise ApiError(REFILL_NOT_FOUND)
    return {"status": _refill_status_text(found[refill_id])}


def _refill_item(status_text: str | None) -> str | dict:
    return _refill_status_text(status_text) if status_text is not None else {"error": REFILL_NOT_FOUND}


def _refill_status_text(status_text: str) -> str:
    return REFILL_STATUSES.get(status_text, status_text)


def cancel(user, fields: dict[str, str]) -> list[dict]:
    def request_cancel(token: str) -> int:
        order_id = parse_id(token)
        if order_id is None:
            raise ApiError(INCORRECT_ORDER)
        try:
            order_cancel_request(user=user, order_id=order_id)
        except OrderRefused as refused:
            raise ApiError(refused.api_message) from None
        return 1

    # The seed documents `orders` only; a lone `order` is taken too and answered in the same list shape.
    tokens = id_list(fields.get("orders", "") or fields.get("order", ""))
    return [{"order": id_out(token), "cancel": per_item(request_cancel, token)} for token in tokens]


def per_item(produce: Callable[[str], Any], token: str) -> Any:
    """One item of a multi-ID write: its refusal, or an unexpected error, touches only that item."""
    try:
        return produce(token)
    except ApiError as refusal:
        return {"error": refusal.message}
    except Exception:
        log.exception("reseller API: unexpected error on one item (%s)", token[:30])
        return {"error": INTERNAL_ERROR}


def balance(user, fields: dict[str, str]) -> dict:
    return {"balance": money_str(user.balance), "currency": settings.PANEL_CURRENCY}


HANDLERS: dict[str, Callable[[Any, dict[str, str]], Any]] = {
    "services": services,
    "add": add,
    "status": status,
    "refill": refill,
    "refill_status": refill_status,
    "cancel": cancel,
    "balance": balance,
}
# Served: exactly the documented actions (a documented action without a handler fails at import).
ACTIONS = {name: HANDLERS[name] for name in docs.ACTION_NAMES}
