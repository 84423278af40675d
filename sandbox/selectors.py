"""Reads of the sandbox's tables, each raising the API's own error when the thing is not the caller's."""

from django.db.models import QuerySet

from . import errors
from .errors import ApiError
from .models import SandboxAccount, SandboxOrder, SandboxRefill, SandboxService

MAX_ID_DIGITS = 18


def account_for_key(key: str) -> SandboxAccount:
    account = SandboxAccount.objects.filter(api_key=key).first() if key else None
    if account is None:
        raise ApiError(errors.INVALID_KEY)
    return account


def active_services() -> QuerySet[SandboxService]:
    return SandboxService.objects.filter(active=True).order_by("id")


def active_service(service_id: str) -> SandboxService:
    service = active_services().filter(pk=as_id(service_id)).first()
    if service is None:
        raise ApiError(errors.INCORRECT_SERVICE)
    return service


def order_for(*, account: SandboxAccount, order_id: str) -> SandboxOrder:
    order = orders_by_id(account=account, ids=[order_id]).get(as_id(order_id))
    if order is None:
        raise ApiError(errors.INCORRECT_ORDER)
    return order


def orders_by_id(*, account: SandboxAccount, ids: list[str]) -> dict[int, SandboxOrder]:
    # Another account's order is simply not found: the API must not reveal that it exists.
    wanted = {as_id(i) for i in ids} - {0}
    orders = SandboxOrder.objects.filter(account=account, pk__in=wanted).select_related("service", "account")
    return {order.pk: order for order in orders}


def refill_for(*, account: SandboxAccount, refill_id: str) -> SandboxRefill:
    refill = SandboxRefill.objects.filter(order__account=account, pk=as_id(refill_id)).first()
    if refill is None:
        raise ApiError(errors.REFILL_NOT_FOUND)
    return refill


def as_id(value: str) -> int:
    """The integer an API ID stands for, or 0 (matches nothing) when it is not a plain positive number."""
    text = str(value).strip()
    if not text.isdigit() or not text.isascii() or len(text) > MAX_ID_DIGITS:
        return 0
    return int(text)
