"""An `add` request as the sandbox sees it: the shared per-type rules of smmapi.orders, with refusals as the
API's `{"error": ...}` answers. The sandbox stores the units ordered in all as its order's quantity."""

from smmapi import normalize_service_type
from smmapi.orders import InvalidOrder, OrderInput, Terms
from smmapi.orders import parse_order as parse_by_type

from .errors import ApiError
from .models import SandboxService


def parse_order(service: SandboxService, fields: dict[str, str]) -> OrderInput:
    terms = Terms(type=normalize_service_type(service.type), rate=service.rate, min=service.min,
                  max=service.max, dripfeed=service.dripfeed)
    try:
        return parse_by_type(terms, fields)
    except InvalidOrder as refusal:
        raise ApiError(refusal.api_message) from None
