"""The catalog's back office: providers, services, categories. Thin: forms check input, services write."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog import selectors, services
from catalog.models import Category, Provider, Service
from core.decorators import staff_required

from ..forms.catalog import (
    BulkServicesForm,
    CategoryMoveForm,
    CategoryRenameForm,
    ProviderForm,
    ServiceFilterForm,
    ServiceForm,
)

SERVICES_PER_PAGE = 50


def _first_error(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# ---------------------------------------------------------------- providers


def with_hosts(providers):
    for provider in providers:
        provider.host = selectors.provider_host(provider)
    return providers


@staff_required
def providers(request):
    return render(request, "staff/providers.html", {"providers": with_hosts(selectors.providers_for_staff())})


@staff_required(perm="manage_catalog")
def provider_add(request):
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.provider_add(actor=request.user, api_key=form.cleaned_data["api_key"], **form.provider_fields())
        except (services.ProviderError, ValidationError) as exc:
            form.add_error(None, str(exc) if isinstance(exc, services.ProviderError) else _first_error(exc))
        else:
            messages.success(request, f"Provider {provider.name} added. Test the connection, then sync its catalog.")
            return redirect("staff_catalog:providers")
    return render(request, "staff/provider_form.html", {"form": form, "provider": None})


@staff_required(perm="manage_catalog")
def provider_edit(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    # The form gets its own copy: validating writes the typed values onto its instance, and the page's
    # title and links must keep showing the provider as stored.
    form = ProviderForm(request.POST or None, instance=Provider.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.provider_update(
                provider=provider, actor=request.user, api_key=form.cleaned_data["api_key"], **form.provider_fields()
            )
        except ValidationError as exc:
            form.add_error(None, _first_error(exc))
        else:
            messages.success(request, f"Provider {provider.name} saved.")
            return redirect("staff_catalog:providers")
    return render(request, "staff/provider_form.html", {"form": form, "provider": provider})


@staff_required(perm="manage_catalog")
@require_POST
def provider_check(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    try:
        balance = services.provider_check(provider)
    except services.ProviderError as exc:
        messages.error(request, f"{provider.name}: connection failed: {exc}")
    else:
        messages.success(request, f"{provider.name}: connected, balance {balance.amount} {balance.currency}".rstrip())
    back_to_dashboard = request.POST.get("back") == "dashboard"
    return redirect("staff_catalog:dashboard" if back_to_dashboard else "staff_catalog:providers")


@staff_required(perm="manage_catalog")
@require_POST
def provider_sync(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    run = services.provider_sync_by_staff(provider=provider, actor=request.user)  # synchronous for now
    if run.ok:
        messages.success(request, (
            f"{provider.name}: catalog synced: {run.new} new, {run.changed} changed, {run.gone} gone, "
            f"{run.returned} returned, {run.skipped} skipped, {run.below_cost} disabled below cost."
        ))
    else:
        messages.error(request, f"{provider.name}: sync failed: {run.error}")
    return redirect("staff_catalog:provider_syncs", pk=provider.pk)


@staff_required
def provider_syncs(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    return render(request, "staff/provider_syncs.html", {
        "provider": provider, "runs": selectors.provider_sync_runs(provider=provider),
    })


# ---------------------------------------------------------------- services


@staff_required
def services_list(request):
    filters = ServiceFilterForm(request.GET or None)
    queryset = selectors.services_for_staff(**filters.filters())
    page = Paginator(queryset, SERVICES_PER_PAGE).get_page(request.GET.get("page"))
    for service in page:
        service.cost = selectors.service_cost(service)
        service.price_rule = selectors.service_price_rule(service)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "staff/services.html", {
        "filters": filters, "page": page, "query": query.urlencode(), "here": request.GET.urlencode(),
        "bulk_actions": BulkServicesForm.ACTIONS,
    })


def _back_to_list(request):
    """The list as the staff member left it: the filters and page travel in a hidden field, never a URL."""
    query = QueryDict(request.POST.get("query", "")).urlencode()  # re-encoded: only a query string gets through
    return redirect(reverse("staff_catalog:services") + (f"?{query}" if query else ""))


@staff_required(perm="manage_catalog")
@require_POST
def services_bulk(request):
    form = BulkServicesForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))  # an ErrorList gives its messages
        return _back_to_list(request)
    action, ids = form.cleaned_data["action"], form.cleaned_data["services"]
    if action == "enable":
        enabled, refused = services.services_bulk_enable(actor=request.user, service_ids=ids)
        messages.success(request, f"{len(enabled)} service(s) enabled.")
        for service, reason in refused:
            messages.error(request, f"#{service.pk} {service.name} not enabled: {reason}.")
    elif action == "disable":
        count = services.services_bulk_disable(actor=request.user, service_ids=ids)
        messages.success(request, f"{count} service(s) disabled.")
    else:
        markup = form.cleaned_data["markup_percent"]
        count = services.services_bulk_markup(actor=request.user, service_ids=ids, markup_percent=markup)
        messages.success(request, f"{count} service(s) now priced at cost + {markup.normalize():f}%.")
    return _back_to_list(request)


@staff_required(perm="manage_catalog")
def service_edit(request, pk):
    service = get_object_or_404(Service.objects.select_related("provider_service__provider", "category"), pk=pk)
    form = ServiceForm(
        request.POST or None, initial=ServiceForm.initial_for(service), mirror=service.provider_service
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.service_update(actor=request.user, service=service, **form.service_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Service #{service.pk} saved.")
            return redirect(reverse("staff_catalog:services") + "?" + urlencode({"q": service.pk}))
    return render(request, "staff/service_form.html", {
        "form": form, "service": service, "mirror": service.provider_service,
        "provider": service.provider_service.provider, "cost": selectors.service_cost(service),
    })


# ---------------------------------------------------------------- categories


@staff_required
def categories(request):
    return render(request, "staff/categories.html", {"categories": selectors.categories_with_counts()})


@staff_required(perm="manage_catalog")
@require_POST
def category_rename(request, pk):
    category = get_object_or_404(Category, pk=pk)
    form = CategoryRenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A category needs a name (at most 255 characters).")
        return redirect("staff_catalog:categories")
    old = category.name
    try:
        services.category_rename(actor=request.user, category=category, name=form.cleaned_data["name"])
    except ValidationError as exc:
        messages.error(request, f"“{old}” not renamed: {_first_error(exc)}")
    else:
        messages.success(request, f"“{old}” renamed to “{category.name}”.")
    return redirect("staff_catalog:categories")


@staff_required(perm="manage_catalog")
@require_POST
def category_move(request, pk):
    category = get_object_or_404(Category, pk=pk)
    form = CategoryMoveForm(request.POST)
    if form.is_valid():
        services.category_move(actor=request.user, category=category, direction=form.cleaned_data["direction"])
    return redirect(reverse("staff_catalog:categories") + f"#category-{category.pk}")
