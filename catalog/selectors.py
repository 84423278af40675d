"""Reads of the catalog."""

import functools
import statistics
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from django.db.models import Count, OuterRef, Q, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce

from core.text import as_id

from .models import Category, CustomerRate, Provider, ProviderService, Service, SyncRun
from .pricing import CustomerPrices, cost_rate


def providers_with_counts():
    return list(
        Provider.objects.annotate(
            service_count=Count("upstream_services", filter=Q(upstream_services__gone_since__isnull=True))
        ).order_by("name")
    )


def provider_health_text(provider: Provider) -> str:
    if provider.last_success_at is None and provider.last_error_at is None:
        return "never contacted"
    if provider.is_healthy:
        return f"ok since {provider.last_success_at:%Y-%m-%d %H:%M}"
    return f"failing since {provider.last_error_at:%Y-%m-%d %H:%M}: {provider.last_error}"


def services_for_sale(*, search: str = ""):
    """Enabled services, in category then service order, with their category loaded (one query)."""
    services = Service.objects.filter(enabled=True).select_related("category")
    search = search.strip()
    if search:
        match = Q(name__icontains=search) | Q(category__name__icontains=search)
        if (typed_id := as_id(search)) is not None:
            match |= Q(pk=typed_id)
        services = services.filter(match)
    return services.order_by("category__sort_order", "category__name", "sort_order", "id")


# ---------------------------------------------------------------- staff back office
# Reads behind the staff pages. Each list is a fixed number of queries whatever its length.


def _count_of(queryset, **filters):
    """A correlated COUNT subquery: several counts on one row without multiplying joins."""
    return Coalesce(
        Subquery(
            queryset.filter(**filters).order_by().values(*filters.keys()).annotate(n=Count("pk")).values("n")[:1]
        ),
        0,
    )


def providers_for_staff():
    """Every provider with its live upstream and panel service counts and its latest sync run, one query."""
    runs = SyncRun.objects.filter(provider=OuterRef("pk")).order_by("-started_at", "-id")
    return list(
        Provider.objects.annotate(
            live_upstream_count=_count_of(
                ProviderService.objects.filter(gone_since__isnull=True), provider=OuterRef("pk")
            ),
            service_count=_count_of(Service.objects.all(), provider_service__provider=OuterRef("pk")),
            enabled_service_count=_count_of(
                Service.objects.filter(enabled=True), provider_service__provider=OuterRef("pk")
            ),
            last_run_at=Subquery(runs.values("started_at")[:1]),
            last_run_ok=Subquery(runs.values("ok")[:1]),
            last_run_error=Subquery(runs.values("error")[:1]),
        ).order_by("name")
    )


def provider_host(provider: Provider) -> str:
    return urlsplit(provider.api_url).hostname or provider.api_url


def provider_sync_runs(*, provider: Provider, limit: int = 100) -> list[SyncRun]:
    return list(SyncRun.objects.filter(provider=provider).order_by("-started_at", "-id")[:limit])


def services_for_staff(
    *, provider_id: int | None = None, category_id: int | None = None, enabled: bool | None = None,
    search: str = "", waiting_review: bool = False,
):
    """Every service (on sale or not) with its category, mirror and provider joined in, filtered."""
    services = Service.objects.select_related("category", "provider_service__provider")
    if provider_id is not None:
        services = services.filter(provider_service__provider_id=provider_id)
    if category_id is not None:
        services = services.filter(category_id=category_id)
    if enabled is not None:
        services = services.filter(enabled=enabled)
    if waiting_review:
        services = services.filter(enabled=False, disabled_reason=Service.Disabled.NEW)
    search = search.strip()
    if search:
        match = Q(name__icontains=search) | Q(provider_service__external_id=search)
        if (typed_id := as_id(search)) is not None:
            match |= Q(pk=typed_id)
        services = services.filter(match)
    return services.order_by("category__sort_order", "category__name", "sort_order", "id")


def service_cost(service: Service) -> Decimal:
    """What 1000 units of the service cost the panel; needs provider_service__provider loaded."""
    mirror = service.provider_service
    return cost_rate(provider_rate=mirror.rate, exchange_rate=mirror.provider.exchange_rate)


def service_price_rule(service: Service) -> str:
    if service.price_mode == Service.PriceMode.FIXED:
        return "fixed"
    if service.markup_percent is None:
        return f"derived +{service.provider_service.provider.markup_percent.normalize():f}% (provider's)"
    return f"derived +{service.markup_percent.normalize():f}%"


def categories_with_counts() -> list[Category]:
    return list(
        Category.objects.annotate(
            service_count=_count_of(Service.objects.all(), category=OuterRef("pk")),
            enabled_service_count=_count_of(Service.objects.filter(enabled=True), category=OuterRef("pk")),
        ).order_by("sort_order", "name", "pk")
    )


# ---------------------------------------------------------------- end of staff back office


def categories_for_sale() -> list[Category]:
    """Categories with at least one service on sale."""
    return list(Category.objects.filter(services__enabled=True).distinct().order_by("sort_order", "name"))


def services_for_order_form(*, category_id: int | None = None, user=None) -> list[Service]:
    """The services on sale (in a category), priced for `user`."""
    services = services_for_sale()
    if category_id is not None:
        services = services.filter(category_id=category_id)
    services = list(services)
    apply_customer_prices(services, user)
    return services


def service_for_order(service_id, user=None) -> Service | None:
    """The service a customer named, on sale or not (order_quote refuses the ones that are not), priced for
    `user`."""
    text = str(service_id or "").strip().lstrip("#")
    if not text.isascii() or not text.isdigit() or len(text) > 18:  # 19 digits may not fit a BIGINT
        return None
    service = Service.objects.select_related("category", "provider_service__provider").filter(pk=int(text)).first()
    if service is not None:
        apply_customer_prices([service], user)
    return service


# ---------------------------------------------------------------- prices per customer


def customer_prices(user) -> CustomerPrices | None:
    """The customer's discount and own rates; None for list prices (anonymous, staff, or neither set), which
    costs no query. One query for the own rates, only when the customer has some."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    discount, has_rates = user.discount_percent, user.has_custom_rates
    if not discount and not has_rates:
        return None
    rates = {}
    if has_rates:
        rates = {service_id: (rate, confirmed) for service_id, rate, confirmed in
                 CustomerRate.objects.filter(user_id=user.pk).values_list("service_id", "rate", "below_cost_confirmed")}
    return CustomerPrices(discount_percent=discount, discount_below_cost=user.discount_below_cost, rates=rates)


def apply_customer_prices(services, user) -> None:
    """Set each service's `rate` to what this customer pays, keeping the list price as `list_rate`; what a
    page shows and what order_place charges then agree. Safe to apply twice. The services are not to be
    saved afterwards."""
    services = list(services)
    prices = customer_prices(user)
    if prices is not None:
        prefetch_related_objects([s for s in services if not _cost_loaded(s)], "provider_service__provider")
    for service in services:
        list_rate = getattr(service, "list_rate", service.rate)
        service.list_rate = list_rate
        service.rate = list_rate if prices is None else prices.rate_of(
            service.pk, list_rate, functools.partial(service_cost, service))


def _cost_loaded(service: Service) -> bool:
    return "provider_service" in service._state.fields_cache and \
        "provider" in service.provider_service._state.fields_cache


def customer_rates_for_staff(*, customer) -> list[CustomerRate]:
    """A customer's own rates, with each service's list price and cost (one query)."""
    rates = list(CustomerRate.objects.filter(user=customer).select_related("service__provider_service__provider")
                 .order_by("service_id"))
    for custom in rates:
        custom.cost = service_cost(custom.service)
    return rates


# ---------------------------------------------------------------- how providers' calls go


@dataclass(frozen=True)
class CallStats:
    calls: int
    failed: int
    median_ms: int | None

    @property
    def error_rate(self) -> float:
        return self.failed / self.calls if self.calls else 0.0


def provider_call_stats(*, last: int = 100) -> dict[int, CallStats]:
    """Each provider's last `last` calls: how many failed, and their median time. One query (a window)."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    from .models import ProviderCall

    rows = (ProviderCall.objects.annotate(n=Window(RowNumber(), partition_by=[F("provider_id")], order_by=F("at").desc()))
            .filter(n__lte=last).values_list("provider_id", "answered", "ms"))
    grouped: dict[int, list[tuple[bool, int]]] = {}
    for provider_id, answered, ms in rows:
        grouped.setdefault(provider_id, []).append((answered, ms))
    return {provider_id: CallStats(calls=len(calls), failed=sum(not ok for ok, _ in calls),
                                   median_ms=int(statistics.median(ms for _, ms in calls)))
            for provider_id, calls in grouped.items()}
