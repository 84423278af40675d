"""Reads behind /api/v2. Each is one query, however many IDs it is given (the key's lookup writes one more,
once a minute a customer at the most: when it was last used)."""

import functools
import hmac
from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connections, router
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from catalog.models import ProviderService, Service
from catalog.selectors import apply_customer_prices, services_for_sale
from orders.models import Order, Refill

MAX_KEY_LENGTH = 64  # User.api_key's column; anything longer cannot be a key
API_USE_RESOLUTION = timedelta(seconds=60)  # User.api_last_used_at is kept to the minute: one write a minute


def user_for_key(key: str) -> User | None:
    """The active user whose API key this is, or None.

    Looked up through the unique index on api_key (one query, no scan of all keys), then compared with
    hmac.compare_digest, so whatever the database's collation makes of the lookup (case folding, trailing
    spaces), only an exact byte-for-byte match is accepted, in time that does not depend on where the two
    differ. The index lookup itself could in theory leak timing about stored keys; keys are 128 random bits
    compared inside the database, behind network jitter, and storing only a digest of each key (the full
    cure) needs a column in accounts. See the report that came with this app.

    The same query reads when the key was last used; it is stamped again (one UPDATE) when that is unknown or
    older than a minute.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    alias = _alias(User)
    user = _first(User.objects.raw(_user_for_key_sql(alias), [key], using=alias))
    if user is None or not hmac.compare_digest(user.api_key.encode(), key.encode()):
        return None
    _note_api_use(user)
    return user


def _note_api_use(user: User) -> None:
    """Stamp the key's use for staff pages, at most once a minute: no write at all on most calls (the stamp
    came with the user's row), and the UPDATE's condition keeps concurrent calls from writing it twice."""
    now = timezone.now()
    last_used = user.api_last_used_at
    if last_used is not None and now - last_used < API_USE_RESOLUTION:
        return
    stale = Q(api_last_used_at__isnull=True) | Q(api_last_used_at__lt=now - API_USE_RESOLUTION)
    User.objects.filter(stale, pk=user.pk).update(api_last_used_at=now)
    user.api_last_used_at = now


def services_for_api(user=None) -> list[Service]:
    """The services on sale, in the order the pages show them, categories joined in (one query), priced for
    `user` (more queries only for a customer with a discount or own rates)."""
    services = list(services_for_sale())
    apply_customer_prices(services, user)
    return services


def service_for_add(service_id: int) -> Service | None:
    """The service named in an `add`, on sale or not (order_place refuses the ones that are not), with its
    provider service: just the columns order_place reads. Other fields are deferred: they load on access."""
    alias = _alias(Service)
    service = _first(Service.objects.raw(_service_for_add_sql(alias), [service_id], using=alias))
    if service is not None:
        service.provider_service = ProviderService.from_db(
            alias, ["id", "provider_id"], [service.provider_service_id, service.provider_service_provider_id])
    return service


# --- The two reads of every `add` -----------------------------------------------------------------------
# Plain SQL through Model.objects.raw(): the same rows, types and model instances as the querysets they
# replace (raw() applies the fields' converters), for a quarter of the CPU: building an ORM query costs more
# than running one, and these run on every request. Names come from the models' _meta.


def _alias(model) -> str:
    return router.db_for_read(model)


def _first(rows):
    return next(iter(rows), None)


# What a request reads of its user: the balance, whether the key was used lately, and the customer's prices
# (catalog.selectors.customer_prices), so that none of them is a deferred field loaded by a query of its own.
USER_COLUMNS = ("id", "api_key", "balance", "is_staff", "api_last_used_at", "discount_percent", "discount_below_cost",
                "has_custom_rates")


@functools.cache
def _user_for_key_sql(alias: str) -> str:
    q, meta = connections[alias].ops.quote_name, User._meta
    columns = ", ".join(q(meta.get_field(name).column) for name in USER_COLUMNS)
    # api_key is unique: at most one row.
    return (f"SELECT {columns} FROM {q(meta.db_table)} "
            f"WHERE {q(meta.get_field('api_key').column)} = %s AND {q(meta.get_field('is_active').column)}")


@functools.cache
def _service_for_add_sql(alias: str) -> str:
    q, service, mirror = connections[alias].ops.quote_name, Service._meta, ProviderService._meta
    columns = ", ".join(f"s.{q(service.get_field(name).column)}" for name in SERVICE_COLUMNS)
    return (f"SELECT {columns}, p.{q(mirror.get_field('provider').column)} AS provider_service_provider_id "
            f"FROM {q(service.db_table)} s INNER JOIN {q(mirror.db_table)} p "
            f"ON p.{q(mirror.pk.column)} = s.{q(service.get_field('provider_service').column)} "
            f"WHERE s.{q(service.pk.column)} = %s")


SERVICE_COLUMNS = ("id", "enabled", "type", "rate", "min_quantity", "max_quantity", "dripfeed", "provider_service")


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
