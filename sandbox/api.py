"""API v2 as the seed documents it: one function per action, answering in the seed's exact shapes.

`answer(fields)` takes the request's fields (strings) and returns what to serialise as JSON. Every refusal
is `{"error": ...}` (HTTP 200 is the view's business); multi-ID actions answer per item and never let one
bad ID spoil the others.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from . import errors, selectors, services
from .errors import ApiError
from .models import SandboxAccount, SandboxOrder
from .money import money_str, rate_str
from .progress import order_progress, refill_progress

logger = logging.getLogger(__name__)

MAX_IDS = 100
KEY_FIELDS = ("key", "api_key", "api")


def answer(fields: dict[str, str]) -> Any:
    try:
        account = selectors.account_for_key(api_key_of(fields))
        handler = ACTIONS.get(fields.get("action", "").strip())
        if handler is None:
            raise ApiError(errors.INCORRECT_REQUEST)
        return handler(account, fields)
    except ApiError as refusal:
        return {"error": refusal.message}


def api_key_of(fields: dict[str, str]) -> str:
    # Real providers name the key field differently; the panel's client has a per-provider option for it.
    return next((fields[name].strip() for name in KEY_FIELDS if fields.get(name)), "")


def parse_ids(text: str) -> list[str]:
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise ApiError(errors.INCORRECT_REQUEST)
    if len(ids) > MAX_IDS:
        raise ApiError(errors.TOO_MANY_IDS)
    return ids


def id_out(token: str) -> int | str:
    # IDs go back as numbers, as the seed shows them; a token that is not a number is echoed as sent.
    return int(token) if token.isdigit() and token.isascii() else token


def per_item(produce: Callable[[str], Any], token: str) -> Any:
    try:
        return produce(token)
    except ApiError as refusal:
        return {"error": refusal.message}


# --- actions --------------------------------------------------------------------------------------------


def services_list(account: SandboxAccount, fields: dict[str, str]) -> list[dict]:
    return [
        {
            "service": service.id,
            "name": service.name,
            "type": service.type,
            "category": service.category,
            "rate": rate_str(service.rate),
            "min": str(service.min),
            "max": str(service.max),
            "refill": service.refill,
            "cancel": service.cancel,
            # Beyond the seed, as many real providers send them: whether runs/interval apply, and a blurb.
            "dripfeed": service.dripfeed,
            "desc": service.description,
        }
        for service in selectors.active_services()
    ]


def add(account: SandboxAccount, fields: dict[str, str]) -> dict:
    order = services.order_add(account=account, fields=fields, now=timezone.now())
    return {"order": order.pk}


def status(account: SandboxAccount, fields: dict[str, str]) -> dict:
    now = timezone.now()
    if fields.get("orders"):
        ids = parse_ids(fields["orders"])
        found = selectors.orders_by_id(account=account, ids=ids)
        services.orders_settle_due(orders=list(found.values()), now=now)
        return {token: _status_item(found, token, now) for token in ids}
    if not fields.get("order"):
        raise ApiError(errors.INCORRECT_REQUEST)
    order = selectors.order_for(account=account, order_id=fields["order"])
    services.orders_settle_due(orders=[order], now=now)
    return order_status(order, now)


def _status_item(found: dict[int, SandboxOrder], token: str, now) -> dict:
    order = found.get(selectors.as_id(token))
    return order_status(order, now) if order else {"error": errors.INCORRECT_ORDER}


def order_status(order: SandboxOrder, now) -> dict:
    progress = order_progress(order, now=now)
    return {
        "charge": money_str(order.charge),
        "start_count": str(order.start_count),
        "status": str(progress.status),
        "remains": str(progress.remains),
        "currency": order.account.currency,
    }


def refill(account: SandboxAccount, fields: dict[str, str]) -> Any:
    now = timezone.now()

    def create(token: str) -> int:
        return services.refill_create(account=account, order_id=token, now=now).pk

    if fields.get("orders"):
        return [{"order": id_out(t), "refill": per_item(create, t)} for t in parse_ids(fields["orders"])]
    if not fields.get("order"):
        raise ApiError(errors.INCORRECT_REQUEST)
    # The seed shows the single answer's ID as a string ("1") and the multi answer's as numbers.
    return {"refill": str(create(fields["order"]))}


def refill_status(account: SandboxAccount, fields: dict[str, str]) -> Any:
    now = timezone.now()

    def look(token: str) -> str:
        return str(refill_progress(selectors.refill_for(account=account, refill_id=token), now=now))

    if fields.get("refills"):
        return [{"refill": id_out(t), "status": per_item(look, t)} for t in parse_ids(fields["refills"])]
    if not fields.get("refill"):
        raise ApiError(errors.INCORRECT_REQUEST)
    return {"status": look(fields["refill"])}


def cancel(account: SandboxAccount, fields: dict[str, str]) -> list[dict]:
    now = timezone.now()

    def request_cancel(token: str) -> int:
        services.order_cancel(account=account, order_id=token, now=now)
        return 1

    # The seed documents `orders` only; a lone `order` is accepted too and answered in the same list shape.
    ids = parse_ids(fields.get("orders") or fields.get("order") or "")
    return [{"order": id_out(t), "cancel": per_item(request_cancel, t)} for t in ids]


def balance(account: SandboxAccount, fields: dict[str, str]) -> dict:
    account.refresh_from_db(fields=["balance"])
    return {"balance": money_str(account.balance), "currency": account.currency}


ACTIONS: dict[str, Callable[[SandboxAccount, dict[str, str]], Any]] = {
    "services": services_list,
    "add": add,
    "status": status,
    "refill": refill,
    "refill_status": refill_status,
    "cancel": cancel,
    "balance": balance,
}
