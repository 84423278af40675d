"""Reads behind /api/v2. Each is one query, however many IDs it is given (the key's lookup writes one more,
once a minute a customer at the most: when it was last used, and from where while they keep an allow-list)."""

import functools
import hmac
import ipaddress
import time
from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connections, router
from django.db.models import Q
from django.utils import timezone

from accounts.models import User, api_key_digest
from catalog.models import ProviderService, Service
from catalog.selectors import apply_customer_prices, services_for_sale
from core.bulk import concrete_field
from orders.models import Order, Refill

MAX_KEY_LENGTH = 64  # keys are 32 characters; anything much longer is no key and is not even hashed
API_USE_RESOLUTION = timedelta(seconds=60)  # User.api_last_used_at is kept to the minute: one write a minute
RECENT_ADDRESSES = 5  # User.api_recent_addresses keeps this many, the latest


def user_for_key(key: str, address: str = "") -> User | None:
    """The active user whose API key this is, or None. `address` is the caller's (core.net.client_ip).

    Only a key's SHA-256 is stored: the presented key is hashed and its digest looked up through the unique
    index on api_key_digest (one query, no scan of all keys), then the digests compared with
    hmac.compare_digest, so whatever the database's collation makes of the lookup, only the exact digest of
    the exact bytes is accepted. Timing can at most tell something about stored digests, which do not lead
    back to keys: there is no byte-by-byte comparison of keys anywhere to time.

    The same query reads when the key was last used and the user's allowed addresses; it is stamped again
    (one UPDATE) when that is unknown or older than a minute, or when the user keeps an allow-list and this
    address was not seen in the last minute. Whether the address may use the key is address_allowed's to say.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    digest = api_key_digest(key)
    alias = _alias(User)
    user = _first(User.objects.raw(_user_for_key_sql(alias), [digest], using=alias))
    if user is None or not hmac.compare_digest(user.api_key_digest, digest):
        return None
    _note_api_use(user, address)
    return user


def address_allowed(user: User, address: str) -> bool:
    """Whether `address` may use the user's key: any address when the user keeps no allow-list; otherwise one
    inside a listed network (an IPv4 address mapped into IPv6 counts as the IPv4 address). An address that is
    no address (none known) is refused. No query: the list came with the user's row."""
    if not user.api_allowed_networks:
        return True
    parsed = _parse_address(address)
    if parsed is None:
        return False
    return any(parsed in network for network in _networks(tuple(user.api_allowed_networks))
               if network.version == parsed.version)


def _parse_address(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


@functools.lru_cache(maxsize=4096)
def _networks(listed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    # Stored canonical by resellerapi.forms; a hand-edited entry that is no network is skipped, not a 500.
    networks = []
    for entry in listed:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except (TypeError, ValueError):
            continue
    return tuple(networks)


def _note_api_use(user: User, address: str) -> None:
    """Stamp the key's use for staff pages, at most once a minute: no write at all on most calls (the stamp
    came with the user's row), and the UPDATE's condition keeps concurrent calls from writing it twice.

    While the user keeps an allow-list, the address is noted too (refused or not: a refused one is what the
    customer may want to add), at most once a minute per address and in the same UPDATE."""
    now = timezone.now()
    fields: dict[str, object] = {}
    last_used = user.api_last_used_at
    if last_used is None or now - last_used >= API_USE_RESOLUTION:
        fields["api_last_used_at"] = now
    if user.api_allowed_networks:
        recent = _recent_with(user.api_recent_addresses, address, int(time.time()))
        if recent is not None:
            fields["api_recent_addresses"] = recent
    if not fields:
        return
    rows = User.objects.filter(pk=user.pk)
    if list(fields) == ["api_last_used_at"]:
        rows = rows.filter(Q(api_last_used_at__isnull=True) | Q(api_last_used_at__lt=now - API_USE_RESOLUTION))
    rows.update(**fields)
    for name, value in fields.items():
        setattr(user, name, value)


def _recent_with(recent, address: str, now: int) -> dict[str, int] | None:
    """The latest addresses with `address` stamped `now`, or None when it was stamped under a minute ago."""
    parsed = _parse_address(address)
    if parsed is None:
        return None
    address = str(parsed)
    recent = recent if isinstance(recent, dict) else {}
    seen = recent.get(address)
    if isinstance(seen, int) and now - seen < API_USE_RESOLUTION.total_seconds():
        return None
    stamped = {**recent, address: now}
    latest = sorted(stamped.items(), key=lambda item: item[1] if isinstance(item[1], int) else 0, reverse=True)
    return dict(latest[:RECENT_ADDRESSES])


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
USER_COLUMNS = ("id", "api_key_digest", "balance", "is_staff", "api_last_used_at", "discount_percent",
                "discount_below_cost", "has_custom_rates", "api_allowed_networks", "api_recent_addresses")


@functools.cache
def _user_for_key_sql(alias: str) -> str:
    q, meta = connections[alias].ops.quote_name, User._meta
    columns = ", ".join(q(concrete_field(meta, name).column) for name in USER_COLUMNS)
    # api_key_digest is unique: at most one row.
    return (f"SELECT {columns} FROM {q(meta.db_table)} "
            f"WHERE {q(meta.get_field('api_key_digest').column)} = %s AND {q(meta.get_field('is_active').column)}")


@functools.cache
def _service_for_add_sql(alias: str) -> str:
    q, service, mirror = connections[alias].ops.quote_name, Service._meta, ProviderService._meta
    columns = ", ".join(f"s.{q(concrete_field(service, name).column)}" for name in SERVICE_COLUMNS)
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
