"""Reads behind /api/v2. Each is one query, however many IDs it is given."""

import hmac
from decimal import Decimal
from typing import NamedTuple

from accounts.models import User
from catalog.models import Service
from catalog.selectors import services_for_sale
from orders.models import Order, Refill

MAX_KEY_LENGTH = 64  # User.api_key's column; anything longer cannot be a key


def user_for_key(key: str) -> User | None:
    """The active user whose API key this is, or None.

    Looked up through the unique index on api_key (one query, no scan of all keys), then compared with
    hmac.compare_digest, so whatever the database's collation makes of the lookup (case folding, trailing
    spaces), only an exact byte-for-byte match is accepted, in time that does not depend on where the two
    differ. The index lookup itself could in theory leak timing about stored keys; keys are 128 random bits
    compared inside the database, behind network jitter, and storing only a digest of each key (the full
    cure) needs a column in accounts. See the report that came with this app.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    user = User.objects.filter(api_key=key, is_active=True).only("pk", "api_key", "balance", "is_staff").first()
    if user is None or not hmac.compare_digest(user.api_key.encode(), key.encode()):
        return None
    return user


def services_for_api() -> list[Service]:
    """The services on sale, in the order the pages show them, categories joined in (one query)."""
    return list(services_for_sale())


def service_for_add(service_id: int) -> Service | None:
    """The service named in an `add`, on sale or not: order_place refuses the ones that are not."""
    # Just what order_place reads (a deferred field would load on access, still correct); order_by(): the
    # default ordering joins the category, for nothing when looking up one row.
    services = Service.objects.select_related("provider_service").only(*ADD_SERVICE_COLUMNS)
    return next(iter(services.filter(pk=service_id).order_by()[:1]), None)


ADD_SERVICE_COLUMNS = ("id", "enabled", "type", "rate", "min_quantity", "max_quantity", "dripfeed",
                       "provider_service__id", "provider_service__provider_id")


class OrderStatusRow(NamedTuple):
    """The columns a status answer shows. Plain rows: building a hundred model instances costs more
    than the query."""

    pk: int
    charge: Decimal
    refunded: Decimal
    start_count: int | None
    remains: int | None
    units: int
    status: str


def orders_by_id(*, user, ids: list[int]) -> dict[int, OrderStatusRow]:
    """The user's orders among `ids`, by ID, as status rows. One query."""
    if not ids:
        return {}
    rows = Order.objects.filter(user=user, pk__in=ids).order_by().values_list(*OrderStatusRow._fields)
    return {row[0]: OrderStatusRow(*row) for row in rows}


def refill_statuses_by_id(*, user, ids: list[int]) -> dict[int, str]:
    """The statuses of the user's refills among `ids`, by refill ID. One query."""
    if not ids:
        return {}
    return dict(Refill.objects.filter(order__user=user, pk__in=ids).order_by().values_list("pk", "status"))
