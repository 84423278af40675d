"""Writes on the catalog: providers and the panel's services. Each function is one transaction."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import smmapi
from core.services import audit, changed, snapshot, staff_notice_create

from . import health
from .models import Category, Provider, Service
from .pricing import cost_rate, derived_rate


class ProviderError(Exception):
    """A provider operation failed; the message is safe to show (it never holds the key)."""


@transaction.atomic
def provider_create(
    *, name: str, api_url: str, api_key: str, markup_percent: Decimal | None = None, currency: str = "USD",
    exchange_rate: Decimal = Decimal("1"), http_method: str = "POST", body_format: str = "form",
    key_field: str = "key", low_balance_warning: Decimal | None = None, poll_concurrency: int | None = None,
) -> Provider:
    if Provider.objects.filter(name=name).exists():
        raise ProviderError(f"A provider named {name!r} already exists.")
    provider = Provider(
        name=name, api_url=api_url, api_key=api_key, currency=currency, exchange_rate=exchange_rate,
        http_method=http_method, body_format=body_format, key_field=key_field,
        low_balance_warning=low_balance_warning,
    )
    if poll_concurrency is not None:
        provider.poll_concurrency = poll_concurrency
    if markup_percent is not None:
        provider.markup_percent = markup_percent
    provider.full_clean()
    provider.save()
    return provider


def provider_check(provider: Provider) -> smmapi.Balance:
    """Ask the provider for its balance and record the provider's health either way."""
    try:
        balance = provider.client().balance()
    except smmapi.SmmApiError as exc:
        health.record_failure(provider, exc)
        raise ProviderError(str(exc)) from None
    finally:
        health.flush_calls()
    health.record_success(provider, balance=balance.amount, currency=balance.currency)
    return balance


# ---------------------------------------------------------------- staff back office
# Writes behind the staff pages (backoffice/views/catalog.py). Rules live here, not in the forms, so every caller
# gets them; a broken rule raises ValidationError keyed by the form field it is about.

PROVIDER_FIELDS = (
    "name", "api_url", "currency", "exchange_rate", "markup_percent", "is_active", "http_method", "body_format",
    "key_field", "low_balance_warning", "poll_concurrency",
)


@transaction.atomic
def provider_add(*, is_active: bool = True, actor=None, **fields) -> Provider:
    """provider_create, plus the fields it does not take (is_active), in one transaction."""
    provider = provider_create(**fields)
    if not is_active:
        provider.is_active = False
        provider.save(update_fields=["is_active"])
    audit(actor=actor, action="provider.add", target=provider, after=snapshot(provider, PROVIDER_FIELDS))
    return provider


@transaction.atomic
def provider_update(*, provider: Provider, api_key: str = "", actor=None, **fields) -> Provider:
    """Change a provider's settings. An empty api_key keeps the stored one (the key is write-only).

    A new markup or exchange rate reprices the provider's services at once rather than at the next sync.
    """
    unknown = set(fields) - set(PROVIDER_FIELDS)
    if unknown:
        raise TypeError(f"unknown provider fields: {sorted(unknown)}")
    provider = Provider.objects.select_for_update(no_key=True).get(pk=provider.pk)
    before = snapshot(provider, PROVIDER_FIELDS)
    old_prices = (provider.markup_percent, provider.exchange_rate)
    for name, value in fields.items():
        setattr(provider, name, value)
    if api_key:
        provider.api_key = api_key
    provider.full_clean()
    provider.save()
    was, now = changed(before, snapshot(provider, PROVIDER_FIELDS))
    if api_key:  # that it changed, never what it is
        was["api_key"], now["api_key"] = "(hidden)", "(changed)"
    audit(actor=actor, action="provider.update", target=provider, before=was, after=now)
    if (provider.markup_percent, provider.exchange_rate) != old_prices:
        _tell_staff_about_margins(provider, _reprice_services_of(provider))
    return provider


def provider_sync_by_staff(*, provider: Provider, actor):
    """A sync staff asked for, and its audit row (written after it: a sync is many transactions)."""
    from .sync import sync_catalog

    run = sync_catalog(provider)
    health.flush_calls()
    with transaction.atomic():
        audit(actor=actor, action="provider.sync", target=provider, after={
            "ok": run.ok, "new": run.new, "changed": run.changed, "gone": run.gone, "error": run.error or ""})
    return run


def _reprice_services_of(provider: Provider) -> list[Service]:
    """Reprice every service of the provider; returns those that this took off sale (below cost)."""
    services = list(Service.objects.filter(provider_service__provider=provider).select_related("provider_service"))
    newly_below_cost = []
    for service in services:
        service.provider_service.provider = provider
        was_enabled = service.enabled
        _price_service(service)
        _settle_margin(service)
        if was_enabled and not service.enabled:
            newly_below_cost.append(service)
    Service.objects.bulk_update(services, ["rate", "enabled", "disabled_reason"], batch_size=500)
    return newly_below_cost


def _tell_staff_about_margins(provider: Provider, services: list[Service]) -> None:
    if services:
        lines = "\n".join(f"#{s.pk} {s.name}: fixed {s.fixed_rate} per 1000" for s in services)
        staff_notice_create(
            subject=f"{len(services)} service(s) of {provider.name} disabled: fixed price below cost",
            body=f"A new exchange rate put these fixed prices below cost; they are disabled until repriced.\n{lines}",
        )


def _cost(service: Service) -> Decimal:
    mirror = service.provider_service
    return cost_rate(provider_rate=mirror.rate, exchange_rate=mirror.provider.exchange_rate)


def _price_service(service: Service) -> None:
    """Set service.rate from its price mode; needs provider_service and its provider loaded."""
    if service.price_mode == Service.PriceMode.FIXED:
        service.rate = service.fixed_rate
        return
    provider = service.provider_service.provider
    markup = provider.markup_percent if service.markup_percent is None else service.markup_percent
    service.rate = derived_rate(
        provider_rate=service.provider_service.rate, exchange_rate=provider.exchange_rate, markup_percent=markup
    )


def _settle_margin(service: Service) -> None:
    """Same promise as sync: below cost goes off sale; repriced at or above cost, it comes back."""
    below = service.rate < _cost(service)
    if below and service.enabled:
        service.enabled, service.disabled_reason = False, Service.Disabled.BELOW_COST
    elif (not below and service.disabled_reason == Service.Disabled.BELOW_COST
          and not service.provider_service.is_gone):
        service.enabled, service.disabled_reason = True, ""


def service_problems(
    *, service: Service, price_mode: str, markup_percent: Decimal | None, fixed_rate: Decimal | None,
    min_quantity: int, max_quantity: int, refill: bool, cancel: bool,
) -> dict[str, str]:
    """What is wrong with these settings for this service, by field name. Empty when they are fine."""
    mirror = service.provider_service
    problems = {}
    if markup_percent is not None and markup_percent < 0:
        problems["markup_percent"] = "The markup cannot be negative."
    if price_mode == Service.PriceMode.FIXED:
        cost = _cost(service)
        if fixed_rate is None:
            problems["fixed_rate"] = "A fixed price needs an amount."
        elif fixed_rate < cost:
            problems["fixed_rate"] = f"This price is below cost ({cost:f} per 1000)."
    if min_quantity < mirror.min_quantity:
        problems["min_quantity"] = f"The provider's minimum is {mirror.min_quantity}."
    if max_quantity > mirror.max_quantity:
        problems["max_quantity"] = f"The provider's maximum is {mirror.max_quantity}."
    if min_quantity > max_quantity:
        problems.setdefault("max_quantity", "The maximum cannot be below the minimum.")
    if refill and not mirror.refill:
        problems["refill"] = "The provider does not offer refills for this service."
    if cancel and not mirror.cancel:
        problems["cancel"] = "The provider does not offer cancellation for this service."
    return problems


@transaction.atomic
def service_update(
    *, service: Service, name: str, description: str, category: Category, price_mode: str,
    markup_percent: Decimal | None, fixed_rate: Decimal | None, min_quantity: int, max_quantity: int,
    refill: bool, cancel: bool, actor=None,
) -> Service:
    """Staff's edit of one service: checks the rules, then saves it with its rate recomputed."""
    service = Service.objects.select_for_update(of=("self",), no_key=True).select_related("provider_service__provider").get(pk=service.pk)
    before = snapshot(service, SERVICE_AUDIT_FIELDS)
    problems = service_problems(
        service=service, price_mode=price_mode, markup_percent=markup_percent, fixed_rate=fixed_rate,
        min_quantity=min_quantity, max_quantity=max_quantity, refill=refill, cancel=cancel,
    )
    if problems:
        raise ValidationError(problems)
    service.name, service.description, service.category = name, description, category
    service.price_mode, service.markup_percent = price_mode, markup_percent
    # A derived service keeps no stale fixed price that could come back by surprise.
    service.fixed_rate = fixed_rate if price_mode == Service.PriceMode.FIXED else None
    service.min_quantity, service.max_quantity = min_quantity, max_quantity
    service.refill, service.cancel = refill, cancel
    _price_service(service)
    _settle_margin(service)
    service.save()
    was, now = changed(before, snapshot(service, SERVICE_AUDIT_FIELDS))
    audit(actor=actor, action="service.update", target=service, before=was, after=now)
    return service


def _selected(service_ids) -> list[Service]:
    ids = [int(pk) for pk in service_ids]
    if not ids:
        raise ValidationError("Select at least one service.")
    return list(
        Service.objects.select_for_update(of=("self",), no_key=True).filter(pk__in=ids).select_related("provider_service__provider")
        .order_by("pk")
    )


def _why_not_on_sale(service: Service) -> str:
    if service.provider_service.is_gone:
        return "the provider no longer offers it"
    cost = _cost(service)
    if service.rate < cost:
        return f"its price {service.rate:f} is below cost ({cost:f})"
    return ""


@transaction.atomic
def services_bulk_enable(*, service_ids, actor=None) -> tuple[list[Service], list[tuple[Service, str]]]:
    """Put services on sale. Those that cannot be sold (gone upstream, below cost) stay off, with the reason."""
    enabled, refused = [], []
    for service in _selected(service_ids):
        reason = _why_not_on_sale(service)
        if reason:
            refused.append((service, reason))
        elif not service.enabled:
            service.enabled, service.disabled_reason = True, ""
            enabled.append(service)
    Service.objects.bulk_update(enabled, ["enabled", "disabled_reason"])
    _audit_bulk(actor, "service.bulk_enable", enabled, {"enabled": True})
    return enabled, refused


@transaction.atomic
def services_bulk_disable(*, service_ids, actor=None) -> int:
    """Take services off sale as staff's choice: a later sync will not bring them back."""
    services = _selected(service_ids)
    _audit_bulk(actor, "service.bulk_disable", services, {"enabled": False})
    return Service.objects.filter(pk__in=[s.pk for s in services]).update(
        enabled=False, disabled_reason=Service.Disabled.STAFF, updated_at=timezone.now()
    )


@transaction.atomic
def services_bulk_markup(*, service_ids, markup_percent: Decimal, actor=None) -> int:
    """Switch services to derived pricing with this markup and recompute their rates."""
    if markup_percent is None or markup_percent < 0:
        raise ValidationError({"markup_percent": "The markup cannot be negative."})
    services = _selected(service_ids)
    _audit_bulk(actor, "service.bulk_markup", services, {"markup_percent": markup_percent})
    for service in services:
        service.price_mode, service.markup_percent, service.fixed_rate = (
            Service.PriceMode.DERIVED, markup_percent, None
        )
        _price_service(service)
        _settle_margin(service)
        service.updated_at = timezone.now()
    return Service.objects.bulk_update(
        services, ["price_mode", "markup_percent", "fixed_rate", "rate", "enabled", "disabled_reason", "updated_at"]
    )


@transaction.atomic
def category_rename(*, category: Category, name: str, actor=None) -> Category:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A category needs a name."})
    if Category.objects.filter(name__iexact=name).exclude(pk=category.pk).exists():
        raise ValidationError({"name": f"A category named “{name}” already exists."})
    audit(actor=actor, action="category.rename", target=category, before={"name": category.name},
          after={"name": name})
    Category.objects.filter(pk=category.pk).update(name=name)
    category.name = name
    return category


@transaction.atomic
def category_move(*, category: Category, direction: str, actor=None) -> None:
    """Swap a category with its neighbour above or below, renumbering all so ties cannot stall the move."""
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be up or down, not {direction!r}")
    ordered = list(Category.objects.select_for_update(no_key=True).order_by("sort_order", "name", "pk"))
    index = next(i for i, c in enumerate(ordered) if c.pk == category.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    audit(actor=actor, action="category.move", target=category, after={"direction": direction})
    changed = []
    for position, item in enumerate(ordered, start=1):
        if item.sort_order != position * 10:
            item.sort_order = position * 10
            changed.append(item)
    Category.objects.bulk_update(changed, ["sort_order"])


SERVICE_AUDIT_FIELDS = ("name", "description", "category_id", "price_mode", "markup_percent", "fixed_rate", "rate",
                        "min_quantity", "max_quantity", "refill", "cancel", "enabled")


def _audit_bulk(actor, action: str, services: list[Service], after: dict) -> None:
    """One audit row for a bulk action, naming every service it touched."""
    if services:
        audit(actor=actor, action=action, target=("service", "", f"{len(services)} service(s)"),
              before={"services": [s.pk for s in services]}, after=after)


# ---------------------------------------------------------------- end of staff back office


# ---------------------------------------------------------------- prices per customer


@transaction.atomic
def customer_discount_set(*, customer, percent: Decimal, below_cost: bool, actor):
    """A discount off every price the customer sees and pays. Unless `below_cost`, a discounted price never
    goes below the provider's cost (it stops at cost)."""
    from accounts.models import User

    if customer.is_staff:
        raise ValidationError("Staff accounts are not customers: they have no prices.")
    if percent is None or not 0 <= percent < 100:
        raise ValidationError({"percent": "A discount is from 0 to 99.99 percent."})
    row = User.objects.select_for_update(no_key=True).get(pk=customer.pk)
    before = {"discount_percent": row.discount_percent, "discount_below_cost": row.discount_below_cost}
    after = {"discount_percent": percent, "discount_below_cost": bool(below_cost and percent)}
    User.objects.filter(pk=customer.pk).update(**after)
    customer.discount_percent, customer.discount_below_cost = after["discount_percent"], after["discount_below_cost"]
    audit(actor=actor, action="customer.discount", target=row, before=before, after=after)


@transaction.atomic
def customer_rate_set(*, customer, service: Service, rate: Decimal, below_cost_confirmed: bool, actor):
    """The customer's own rate of one service. Below the provider's cost only with `below_cost_confirmed`."""
    from accounts.models import User

    from .models import CustomerRate
    from .selectors import service_cost

    if customer.is_staff:
        raise ValidationError("Staff accounts are not customers: they have no prices.")
    if rate is None or rate <= 0:
        raise ValidationError({"rate": "A rate is above zero."})
    cost = service_cost(service)
    if rate < cost and not below_cost_confirmed:
        raise ValidationError({"rate": f"{rate:f} is below the provider's cost ({cost:f}): tick “below cost” "
                                       "to confirm it."})
    existing = CustomerRate.objects.filter(user=customer, service=service).first()
    before = {"rate": existing.rate, "below_cost_confirmed": existing.below_cost_confirmed} if existing else {}
    custom, _ = CustomerRate.objects.update_or_create(
        user=customer, service=service, defaults={"rate": rate, "below_cost_confirmed": bool(below_cost_confirmed)})
    User.objects.filter(pk=customer.pk).update(has_custom_rates=True)
    customer.has_custom_rates = True
    audit(actor=actor, action="customer.rate", target=("customer", customer.pk, f"{customer.username}: service "
                                                                                f"#{service.pk}"),
          before=before, after={"service": service.pk, "rate": rate, "below_cost_confirmed": bool(below_cost_confirmed)})
    return custom


@transaction.atomic
def customer_rate_delete(*, customer, rate_id: int, actor) -> bool:
    """Back to the list price (less any discount) for that service."""
    from accounts.models import User

    from .models import CustomerRate

    custom = CustomerRate.objects.filter(pk=rate_id, user=customer).first()
    if custom is None:
        return False
    audit(actor=actor, action="customer.rate_delete", target=("customer", customer.pk, customer.username),
          before={"service": custom.service_id, "rate": custom.rate})
    custom.delete()
    if not CustomerRate.objects.filter(user=customer).exists():
        User.objects.filter(pk=customer.pk).update(has_custom_rates=False)
        customer.has_custom_rates = False
    return True
