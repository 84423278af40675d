"""Reads of the catalog."""

from django.db.models import Count, Q

from .models import Provider


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
