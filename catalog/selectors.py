"""Reads of the catalog."""

from django.db.models import Count, Q

from .models import Provider, Service


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
        if search.lstrip("#").isdigit():
            match |= Q(pk=int(search.lstrip("#")))
        services = services.filter(match)
    return services.order_by("category__sort_order", "category__name", "sort_order", "id")
