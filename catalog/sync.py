"""Mirror a provider's catalog into ProviderService rows and keep the panel's Services priced.

The whole listing is fetched before anything is written, and applied in one transaction: a provider that
fails, or a bug half-way, leaves the catalog exactly as it was. Reads are three queries whatever the size of
the catalog; writes are bulk and only for rows that changed, so a re-sync of an unchanged catalog writes
nothing but its SyncRun.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

import smmapi
from accounts.money import to_money
from core.models import SiteSettings, StaffNotice
from core.services import notice_once, staff_notice_create
from core.text import neutralise

from . import health
from .models import Category, Provider, ProviderService, Service, SyncRun
from .pricing import cost_rate, derived_rate

log = logging.getLogger(__name__)

BULK_BATCH = 500
MAX_SKIPPED_KEPT = 50
# ProviderService fields that mirror the upstream item; a difference in any of them is a change.
MIRRORED = (
    "name", "type", "type_raw", "category", "rate", "min_quantity", "max_quantity",
    "refill", "cancel", "dripfeed", "description", "raw",
)
# Service fields that sync may move.
REPRICED = ("rate", "type", "min_quantity", "max_quantity", "refill", "cancel", "dripfeed", "enabled", "disabled_reason")


@dataclass
class _Plan:
    """What one sync will write, gathered before writing."""

    new: list[ProviderService] = field(default_factory=list)
    # Rows to update, grouped by the fields that changed, so each bulk UPDATE carries only those.
    mirrors: dict[tuple[str, ...], list[ProviderService]] = field(default_factory=lambda: defaultdict(list))
    services: dict[tuple[str, ...], list[Service]] = field(default_factory=lambda: defaultdict(list))
    below_cost: list[Service] = field(default_factory=list)

    def update_mirror(self, mirror: ProviderService, fields) -> None:
        self.mirrors[tuple(sorted(fields))].append(mirror)

    def update_service(self, service: Service, fields) -> None:
        self.services[tuple(sorted(fields))].append(service)


class EmptyListing(Exception):
    """The provider listed no service at all while we mirror some: a glitch far likelier than a closed shop."""


def _refuse_empty_listing(provider: Provider, listing) -> None:
    if not listing.services and ProviderService.objects.filter(provider=provider, gone_since__isnull=True).exists():
        raise EmptyListing("the provider listed no services at all; catalog left as it was")


def sync_catalog(provider: Provider, *, client=None) -> SyncRun:
    """Fetch the provider's services and apply them. Always leaves a SyncRun; never raises for the provider."""
    run = SyncRun(provider=provider, started_at=timezone.now())
    try:
        listing = (client or provider.client()).services()
    except smmapi.SmmApiError as exc:
        run.error = str(exc)
        health.record_failure(provider, exc)
    else:
        try:
            _refuse_empty_listing(provider, listing)
            _apply(provider, listing, run)
            run.ok = True
        except EmptyListing as exc:
            run.error = str(exc)
        except Exception as exc:  # a bug must not leave half a catalog; the transaction rolled back
            log.exception("catalog sync of %s failed while applying", provider.name)
            run.error = f"internal error while applying the catalog: {exc.__class__.__name__}"
        health.record_success(provider)
    run.finished_at = timezone.now()
    run.save()
    return run


@transaction.atomic
def _apply(provider: Provider, listing, run: SyncRun) -> None:
    now = timezone.now()
    existing = {ps.external_id: ps for ps in ProviderService.objects.filter(provider=provider)}
    services_by_ps = defaultdict(list)
    for service in Service.objects.filter(provider_service__provider=provider):
        services_by_ps[service.provider_service_id].append(service)

    plan = _Plan()
    seen: set[str] = set()
    for item in listing.services:
        if item.service_id in seen:
            _skip(run, item.raw, "duplicate service ID in the listing")
            continue
        seen.add(item.service_id)
        mirror = existing.get(item.service_id)
        if mirror is None:
            plan.new.append(_new_mirror(provider, item, now))
            run.new += 1
        else:
            _update_mirror(provider, mirror, item, now, run, plan, services_by_ps[mirror.pk])
    for external_id, mirror in existing.items():
        if external_id not in seen and mirror.gone_since is None:
            _mark_gone(mirror, now, run, plan, services_by_ps[mirror.pk])
    for skipped in listing.skipped:
        _skip(run, skipped.raw, skipped.reason)

    _write(provider, plan, now)
    run.below_cost = len(plan.below_cost)
    _tell_staff_about_margins(provider, plan.below_cost)
    Provider.objects.filter(pk=provider.pk).update(catalog_synced_at=now)


def _mirror_values(item) -> dict:
    # A provider's text is shown on every page: control and bidi-override characters neutralised here,
    # and everything escaped where it is shown.
    return {
        "name": neutralise(item.name)[:500],
        "type": item.type.value,
        "type_raw": (item.type_raw or "")[:100],
        "category": neutralise(item.category or "")[:255],
        "rate": to_money(item.rate),
        "min_quantity": item.min,
        "max_quantity": item.max,
        "refill": item.refill,
        "cancel": item.cancel,
        "dripfeed": item.dripfeed,
        "description": neutralise(item.description or "", keep_lines=True),
        "raw": item.raw,
    }


def _new_mirror(provider: Provider, item, now: datetime) -> ProviderService:
    return ProviderService(
        provider=provider, external_id=item.service_id, first_seen_at=now, last_seen_at=now,
        **_mirror_values(item),
    )


def _update_mirror(provider, mirror, item, now, run, plan, services) -> None:
    values = _mirror_values(item)
    before = {name: getattr(mirror, name) for name in MIRRORED}
    diff = {name for name in MIRRORED if before[name] != values[name]}
    returned = mirror.gone_since is not None
    if not diff and not returned:
        return
    for name in diff:
        setattr(mirror, name, values[name])
    mirror.last_seen_at = now
    mirror.gone_since = None
    plan.update_mirror(mirror, {*diff, "last_seen_at", "gone_since"})
    if diff:
        run.changed += 1
    if returned:
        run.returned += 1
    if "rate" in diff:
        if values["rate"] > before["rate"]:
            run.price_up += 1
        else:
            run.price_down += 1
    for service in services:
        _reprice(provider, service, mirror, before, plan)


def _mark_gone(mirror, now, run, plan, services) -> None:
    mirror.gone_since = now
    mirror.last_seen_at = now
    plan.update_mirror(mirror, {"gone_since", "last_seen_at"})
    run.gone += 1
    for service in services:
        if service.enabled:
            service.enabled = False
            service.disabled_reason = Service.Disabled.GONE
            plan.update_service(service, {"enabled", "disabled_reason"})


def _follow(current, old_upstream, new_upstream):
    """A service setting that equalled the provider's follows the provider; a staff choice stays."""
    return new_upstream if current == old_upstream else current


def _reprice(provider: Provider, service: Service, mirror: ProviderService, before: dict, plan: _Plan) -> None:
    """Bring one service in line with its changed mirror. Collects it in the plan when anything moved."""
    old = {name: getattr(service, name) for name in REPRICED}
    service.type = mirror.type
    service.min_quantity = _follow(service.min_quantity, before["min_quantity"], mirror.min_quantity)
    service.max_quantity = _follow(service.max_quantity, before["max_quantity"], mirror.max_quantity)
    service.min_quantity = min(max(service.min_quantity, mirror.min_quantity), mirror.max_quantity)
    service.max_quantity = max(min(service.max_quantity, mirror.max_quantity), service.min_quantity)
    service.refill = mirror.refill and _follow(service.refill, before["refill"], mirror.refill)
    service.cancel = mirror.cancel and _follow(service.cancel, before["cancel"], mirror.cancel)
    service.dripfeed = mirror.dripfeed
    _price(provider, service, mirror)
    if service.disabled_reason == Service.Disabled.GONE and mirror.gone_since is None:
        service.enabled, service.disabled_reason = True, ""
    _guard_margin(provider, service, mirror, plan)
    moved = {name for name in REPRICED if getattr(service, name) != old[name]}
    if moved:
        plan.update_service(service, moved)


def _price(provider: Provider, service: Service, mirror: ProviderService) -> None:
    if service.price_mode == Service.PriceMode.FIXED:
        service.rate = service.fixed_rate
    else:
        markup = provider.markup_percent if service.markup_percent is None else service.markup_percent
        service.rate = derived_rate(
            provider_rate=mirror.rate, exchange_rate=provider.exchange_rate, markup_percent=markup
        )


def _guard_margin(provider: Provider, service: Service, mirror: ProviderService, plan: _Plan) -> None:
    """A fixed price below cost is disabled (and staff told); back at or above cost it comes back."""
    cost = cost_rate(provider_rate=mirror.rate, exchange_rate=provider.exchange_rate)
    below = service.rate < cost
    if below and service.enabled:
        service.enabled, service.disabled_reason = False, Service.Disabled.BELOW_COST
        plan.below_cost.append(service)
    elif not below and service.disabled_reason == Service.Disabled.BELOW_COST and mirror.gone_since is None:
        service.enabled, service.disabled_reason = True, ""


def _write(provider: Provider, plan: _Plan, now: datetime) -> None:
    for fields, mirrors in plan.mirrors.items():
        ProviderService.objects.bulk_update(mirrors, fields, batch_size=BULK_BATCH)
    for fields, services in plan.services.items():
        Service.objects.bulk_update(services, fields, batch_size=BULK_BATCH)
    if plan.new:
        _publish_new(provider, plan)


def _publish_new(provider: Provider, plan: _Plan) -> None:
    """New upstream services go on sale at the provider's markup, in a category of the same name; or, when
    the operator chose so (SiteSettings.new_services_on_sale off), wait disabled for staff to review them: a
    provider's new service may be mispriced, or hostile."""
    on_sale = SiteSettings.current().new_services_on_sale
    mirrors = ProviderService.objects.bulk_create(plan.new, batch_size=BULK_BATCH)
    categories = _categories_named({mirror.category or "Other" for mirror in mirrors})
    services = []
    for mirror in mirrors:
        service = Service(
            name=mirror.name, description=mirror.description, category=categories[mirror.category or "Other"],
            type=mirror.type, provider_service=mirror, min_quantity=mirror.min_quantity,
            max_quantity=mirror.max_quantity, refill=mirror.refill, cancel=mirror.cancel, dripfeed=mirror.dripfeed,
        )
        _price(provider, service, mirror)
        if not on_sale and service.enabled:
            service.enabled, service.disabled_reason = False, Service.Disabled.NEW
        services.append(service)
    Service.objects.bulk_create(services, batch_size=BULK_BATCH)
    if not on_sale:
        notice_once(f"{provider.name}: new services wait for review",
                    f"{len(services)} new service(s) came with the last sync. They are not on sale until staff "
                    "enable them (Services, filter “New: waiting for review”).", level=StaffNotice.Level.INFO)


def _categories_named(names: set[str]) -> dict[str, Category]:
    known = {c.name: c for c in Category.objects.filter(name__in=names)}
    missing = sorted(names - known.keys())
    if missing:
        last = Category.objects.order_by("-sort_order").values_list("sort_order", flat=True).first() or 0
        Category.objects.bulk_create(
            [Category(name=name, sort_order=last + 10 * (i + 1)) for i, name in enumerate(missing)],
            ignore_conflicts=True,
        )
        known = {c.name: c for c in Category.objects.filter(name__in=names)}
    return known


def _skip(run: SyncRun, raw, reason: str) -> None:
    run.skipped += 1
    if len(run.skipped_items) < MAX_SKIPPED_KEPT:
        run.skipped_items.append({"reason": reason, "item": repr(raw)[:300]})


def _tell_staff_about_margins(provider: Provider, services: list[Service]) -> None:
    if not services:
        return
    lines = "\n".join(f"#{s.pk} {s.name}: fixed {s.fixed_rate} per 1000" for s in services)
    staff_notice_create(
        subject=f"{len(services)} service(s) of {provider.name} disabled: fixed price below cost",
        body=f"The provider's rate rose above these fixed prices; they are disabled until repriced.\n{lines}",
    )


def sync_catalogs(*, provider_name: str | None = None) -> list[SyncRun]:
    providers = Provider.objects.filter(is_active=True)
    if provider_name:
        providers = Provider.objects.filter(name=provider_name)
    return [sync_catalog(provider) for provider in providers]


