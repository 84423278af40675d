"""Tolerant parsers for API v2 answers: pure functions from decoded JSON to typed results.

Rules: never let one odd field break a batch (bad items become SkippedItem / ItemError);
a whole answer that says ``{"error": ...}`` is a ProviderRefused; an answer of a shape we
cannot read is Ambiguous (for writes we cannot know whether the provider acted).
Parsers raise nothing but SmmApiError subclasses, whatever JSON value they are given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .errors import Ambiguous, ProviderRefused
from .status import ServiceType, normalize_order_status, normalize_refill_status, normalize_service_type
from .types import (
    Balance,
    ItemError,
    OrderStatusInfo,
    RefillStatusInfo,
    Service,
    ServiceList,
    SkippedItem,
)

MISSING_FROM_ANSWER = "missing from provider answer"
# ItemError texts of our own making (the answer's shape, not the provider's word). A
# single-ID call turns them into Ambiguous, while the provider's own texts become refusals.
_NO_STATUS = "no status in provider answer"
_NO_REFILL = "no refill id in provider answer"
_NO_CANCEL = "no cancel result in provider answer"
_UNEXPECTED_ITEM = "unexpected item in provider answer"
_UNEXPECTED_VALUE = "unexpected value in provider answer"
_OWN_ITEM_MESSAGES = frozenset(
    {MISSING_FROM_ANSWER, _NO_STATUS, _NO_REFILL, _NO_CANCEL, _UNEXPECTED_ITEM, _UNEXPECTED_VALUE}
)

T = TypeVar("T")

# ASCII digits only: `\d` would also accept e.g. Arabic-Indic digits.
_PLAIN_NUMBER_RE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
# "1,234.50" / "1,234,567": commas only in thousands positions.
_THOUSANDS_RE = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
# Beyond this many digits a number is garbage, not money or a count (and int() of
# Decimal("1e999999999") would try to build a billion-digit integer).
_MAX_MAGNITUDE = 30

_TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", ""})


# ---------------------------------------------------------------- scalars


def parse_decimal(value: object) -> Decimal | None:
    """A Decimal from "0.90", 0.9, 95200, "1,234.50", " 95 200 "; None for anything else.

    JSON floats go through str() (shortest repr), never binary: 0.9 -> Decimal("0.9").
    Decimal places are kept as sent; rounding is the caller's business. A lone comma
    ("0,90", "1,234") is ambiguous between decimal and thousands separator: rejected.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = "".join(value.split())
        if "," in text:
            unambiguous = _THOUSANDS_RE.fullmatch(text) and ("." in text or text.count(",") > 1)
            if not unambiguous:
                return None
            text = text.replace(",", "")
        if not _PLAIN_NUMBER_RE.fullmatch(text):
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite():
        return None
    if number and abs(number.adjusted()) > _MAX_MAGNITUDE:
        return None
    return number


def parse_int(value: object) -> int | None:
    """An int from 50, "50", "50.0", 50.0; None for "", "Unknown", 50.5, garbage."""
    number = parse_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def parse_count(value: object) -> int | None:
    """A non-negative int for start_count/remains.

    Negative values are treated like "Unknown": providers send -1 (or worse) when they do
    not know, and a negative remains would turn into a refund larger than the charge.
    """
    number = parse_int(value)
    if number is None or number < 0:
        return None
    return number


def parse_bool(value: object, default: bool = False) -> bool:
    """true/false, 1/0, "1"/"0", "true"/"false", "yes"/"no"; missing or unrecognised -> default."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, float) and math.isfinite(value):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    return default


def parse_id(value: object) -> str | None:
    """A provider ID as text: 23501 -> "23501", " ord_01HG " -> "ord_01HG"; None if absent/unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        number = parse_int(value)
        return None if number is None else str(number)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _text(value: object) -> str:
    """Free text from a field that should be a string; numbers are stringified, others dropped."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return ""


def error_message(value: object) -> str | None:
    """The provider's error text if ``value`` is an error object (``{"error": ...}``), else None.

    A falsy error (``null``, ``""``, ``false``) means "no error": some providers always send
    the key. ``{"error": true, "message": "..."}`` takes the message.
    """
    if not isinstance(value, dict):
        return None
    error = value.get("error")
    if not error:
        return None
    if isinstance(error, str):
        return error.strip() or None
    if isinstance(error, dict):
        nested = _text(error.get("message"))
        return nested or str(error)
    message = _text(value.get("message"))
    return message or str(error)


def _raise_for_refusal(data: object, id_keys: Sequence[str] = ()) -> None:
    """Raise ProviderRefused if the whole answer is an error object.

    Covers ``{"error": ...}``, ``{"status": {"error": ...}}`` and a one-item list holding
    an error that is not attributed to any ID (``[{"error": "Invalid API key"}]``).
    """
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        if not any(key in data[0] for key in id_keys):
            data = data[0]
    if not isinstance(data, dict):
        return
    message = error_message(data)
    if message is None and isinstance(data.get("status"), dict):
        message = error_message(data["status"])
    if message is not None:
        raise ProviderRefused(message)


def _unwrap_single(data: object) -> object:
    """``[{"order": "1242"}]`` -> ``{"order": "1242"}``: some providers wrap one answer in a list."""
    if isinstance(data, list) and len(data) == 1:
        return data[0]
    return data


def _shape(data: object) -> str:
    """A short description of an unexpected value for messages (never its content)."""
    if isinstance(data, dict):
        return "object with keys " + ", ".join(sorted(str(key) for key in data)[:8])
    if isinstance(data, list):
        return f"list of {len(data)}"
    return type(data).__name__


# ---------------------------------------------------------------- services


def _service_items(data: object) -> list[tuple[str | None, object]]:
    """(key, item) pairs from a services answer: a list, a list of lists, or a dict keyed by ID."""
    if isinstance(data, list) and data and all(isinstance(inner, list) for inner in data):
        data = [item for inner in data for item in inner]  # wrapped once more: [[...]]
    if isinstance(data, list):
        return [(None, item) for item in data]
    if isinstance(data, dict) and "name" not in data:
        return [(str(key).strip(), item) for key, item in data.items()]
    raise Ambiguous(f"services answer is not a list of services ({_shape(data)})")


def _first_present(item: dict[str, Any], keys: Sequence[str]) -> object:
    for key in keys:
        if item.get(key) is not None:
            return item[key]
    return None


def _parse_service(key: str | None, item: object) -> Service | str:
    """A Service, or the reason the item is unusable."""
    if not isinstance(item, dict):
        return "not an object"
    service_id = parse_id(_first_present(item, ("service", "service_id", "id"))) or key
    if not service_id:
        return "missing service id"
    name = _text(item.get("name"))
    if not name:
        return "missing name"
    rate = parse_decimal(item.get("rate"))
    if rate is None:
        return "missing or unparseable rate"
    if rate < 0:
        return "negative rate"
    low, high = parse_int(item.get("min")), parse_int(item.get("max"))
    if low is None or high is None:
        return "missing or unparseable min/max"
    if low < 0 or high < low:
        return "min/max out of order"
    type_raw = _text(item.get("type"))
    # No type at all: the seed's parameter sets start with Default, and clients in the
    # wild treat a missing type as Default.
    service_type = normalize_service_type(type_raw) if type_raw else ServiceType.DEFAULT
    return Service(
        service_id=service_id,
        name=name,
        type=service_type,
        type_raw=type_raw,
        category=_text(item.get("category")),
        rate=rate,
        min=low,
        max=high,
        refill=parse_bool(item.get("refill")),
        cancel=parse_bool(item.get("cancel")),
        dripfeed=parse_bool(item.get("dripfeed")),
        description=_text(_first_present(item, ("desc", "description"))),
        raw=item,
    )


def parse_services(data: object) -> ServiceList:
    _raise_for_refusal(data)
    services: list[Service] = []
    skipped: list[SkippedItem] = []
    seen: set[str] = set()
    for key, item in _service_items(data):
        result = _parse_service(key, item)
        if isinstance(result, str):
            skipped.append(SkippedItem(raw=item, reason=result))
        elif result.service_id in seen:
            skipped.append(SkippedItem(raw=item, reason="duplicate service id"))
        else:
            seen.add(result.service_id)
            services.append(result)
    return ServiceList(services=services, skipped=skipped)


# ---------------------------------------------------------------- add / balance


def parse_add(data: object) -> str:
    """The provider's order ID. No ID and no error means we cannot know if it was placed."""
    data = _unwrap_single(data)
    if not isinstance(data, dict):
        raise Ambiguous(f"add answer has no order id ({_shape(data)})")
    order_id = parse_id(data.get("order"))
    message = error_message(data)
    if message is not None and order_id is None:
        raise ProviderRefused(message)
    if message is not None:
        raise Ambiguous("add answer carries both an order id and an error")
    if order_id is None:
        raise Ambiguous(f"add answer has no order id ({_shape(data)})")
    return order_id


def parse_balance(data: object) -> Balance:
    _raise_for_refusal(data)
    data = _unwrap_single(data)
    amount = parse_decimal(data.get("balance")) if isinstance(data, dict) else None
    if amount is None or not isinstance(data, dict):
        raise Ambiguous(f"balance answer has no parseable balance ({_shape(data)})")
    return Balance(amount=amount, currency=_text(data.get("currency")))


# ---------------------------------------------------------------- multi-ID answers


def _index_answer(
    data: object, ids: Sequence[str], id_keys: Sequence[str], single_keys: Sequence[str]
) -> dict[str, object]:
    """Map each ID in a multi answer to its item.

    Accepts an object keyed by ID (the seed's status shape), a list of objects naming their
    ID under one of ``id_keys`` (the seed's refill/cancel shape), and, when exactly one ID was
    asked for, the single-ID answer shape (an object with one of ``single_keys``).
    """
    if isinstance(data, dict):
        by_key = {str(key).strip(): value for key, value in data.items()}
        if len(ids) == 1 and ids[0] not in by_key and any(key in data for key in single_keys):
            return {ids[0]: data}
        return by_key
    if isinstance(data, list):
        indexed: dict[str, object] = {}
        for item in data:
            if not isinstance(item, dict):
                continue
            item_id = parse_id(_first_present(item, id_keys))
            if item_id is not None:
                indexed.setdefault(item_id, item)
            elif len(ids) == 1 and len(data) == 1:
                indexed[ids[0]] = item
        return indexed
    raise Ambiguous(f"multi-ID answer is neither an object nor a list ({_shape(data)})")


def _per_item(
    data: object,
    ids: Iterable[str],
    id_keys: Sequence[str],
    single_keys: Sequence[str],
    parse_item: Callable[[str, object], T | ItemError],
) -> dict[str, T | ItemError]:
    ids = list(dict.fromkeys(str(item_id).strip() for item_id in ids))
    _raise_for_refusal(data, id_keys)
    indexed = _index_answer(data, ids, id_keys, single_keys)
    return {
        item_id: parse_item(item_id, indexed[item_id])
        if item_id in indexed
        else ItemError(MISSING_FROM_ANSWER)
        for item_id in ids
    }


def _item_field(item: object, key: str, missing: str) -> object | ItemError:
    """The item's `key` value; a bare value (not an object) stands for it. An error item, a missing key or
    a nested object or list gives an ItemError."""
    value = item
    if isinstance(item, dict):
        message = error_message(item)
        if message is not None:
            return ItemError(message)
        if key not in item:
            return ItemError(missing)
        value = item[key]
    if isinstance(value, dict | list):
        return ItemError(error_message(value) or _UNEXPECTED_VALUE)
    return value


def _status_field(item: object) -> object | ItemError:
    """The item's "status" value, or an ItemError for an error item / nested error / no status."""
    if not isinstance(item, dict | str):  # a string: an object keyed by ID whose values are bare statuses
        return ItemError(_UNEXPECTED_ITEM)
    return _item_field(item, "status", _NO_STATUS)


def _order_status_item(order_id: str, item: object) -> OrderStatusInfo | ItemError:
    status = _status_field(item)
    if isinstance(status, ItemError):
        return status
    fields = item if isinstance(item, dict) else {}
    status_raw = _text(status)
    currency = _text(fields.get("currency")) or None
    return OrderStatusInfo(
        order_id=order_id,
        status=normalize_order_status(status_raw),
        status_raw=status_raw,
        charge=parse_decimal(fields.get("charge")),
        start_count=parse_count(fields.get("start_count")),
        remains=parse_count(fields.get("remains")),
        currency=currency,
        raw=fields if fields else {"status": status},
    )


def _refill_status_item(refill_id: str, item: object) -> RefillStatusInfo | ItemError:
    status = _status_field(item)
    if isinstance(status, ItemError):
        return status
    status_raw = _text(status)
    return RefillStatusInfo(
        refill_id=refill_id,
        status=normalize_refill_status(status_raw),
        status_raw=status_raw,
        raw=item if isinstance(item, dict) else {"status": status},
    )


def _refill_id_item(_order_id: str, item: object) -> str | ItemError:
    """The refill ID from ``{"order": 1, "refill": 1}``, ``{"refill": {"error": ...}}`` or a bare ID."""
    value = _item_field(item, "refill", _NO_REFILL)
    if isinstance(value, ItemError):
        return value
    refill_id = parse_id(value)
    return refill_id if refill_id is not None else ItemError(_NO_REFILL)


_CANCEL_ACCEPTED_WORDS = frozenset({"1", "true", "yes", "ok", "success", "accepted"})
_CANCEL_DECLINED_WORDS = frozenset({"0", "false", "no"})


def _cancel_item(_order_id: str, item: object) -> bool | ItemError:
    """Whether the provider accepted the cancel request: ``"cancel": 1``/``true``, or an ItemError."""
    value = _item_field(item, "cancel", _NO_CANCEL)
    if isinstance(value, ItemError):
        return value
    if isinstance(value, bool | int | float):
        return parse_bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _CANCEL_ACCEPTED_WORDS or (parse_int(word) or 0) > 0:
            return True
        if word in _CANCEL_DECLINED_WORDS:
            return False
        # Any other text is most likely the provider explaining why not.
        return ItemError(value.strip() or "empty cancel value")
    return ItemError(_NO_CANCEL)


_ORDER_ID_KEYS = ("order", "id", "order_id")
_REFILL_ID_KEYS = ("refill", "id", "refill_id")


def parse_statuses(data: object, order_ids: Iterable[str]) -> dict[str, OrderStatusInfo | ItemError]:
    return _per_item(data, order_ids, _ORDER_ID_KEYS, ("status", "charge", "remains"), _order_status_item)


def parse_refills(data: object, order_ids: Iterable[str]) -> dict[str, str | ItemError]:
    # In a refill-create list "refill" is the answer, not the item's ID: index by order only.
    return _per_item(data, order_ids, ("order", "order_id"), ("refill",), _refill_id_item)


def parse_refill_statuses(data: object, refill_ids: Iterable[str]) -> dict[str, RefillStatusInfo | ItemError]:
    return _per_item(data, refill_ids, _REFILL_ID_KEYS, ("status",), _refill_status_item)


def parse_cancels(data: object, order_ids: Iterable[str]) -> dict[str, bool | ItemError]:
    return _per_item(data, order_ids, _ORDER_ID_KEYS, ("cancel",), _cancel_item)


# ---------------------------------------------------------------- single-ID answers


def _single(result: dict[str, T | ItemError], item_id: str, action: str) -> T:
    """The one result of a single-ID call; an item error becomes a refusal, a missing item Ambiguous."""
    value = result[item_id]
    if isinstance(value, ItemError):
        if value.message in _OWN_ITEM_MESSAGES:
            raise Ambiguous(f"{action} answer not understood: {value.message}")
        raise ProviderRefused(value.message)
    return value


def parse_status(data: object, order_id: str) -> OrderStatusInfo:
    return _single(parse_statuses(data, [order_id]), order_id, "status")


def parse_refill(data: object, order_id: str) -> str:
    """The refill ID for a single-order refill request (``{"refill": "1"}``)."""
    return _single(parse_refills(data, [order_id]), order_id, "refill")


def parse_refill_status(data: object, refill_id: str) -> RefillStatusInfo:
    return _single(parse_refill_statuses(data, [refill_id]), refill_id, "refill_status")
