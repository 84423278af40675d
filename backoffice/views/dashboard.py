"""The back office's front page: is the business making money, what needs a person, are the providers and
the background processes well. It refreshes itself; a fixed number of queries whatever the business's size."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog import selectors as catalog_selectors
from core import selectors as core_selectors
from core import services as core_services
from core.decorators import staff_required
from orders import selectors as order_selectors

from .. import dashboard as figures
from .catalog import with_hosts


@staff_required
def dashboard(request):
    periods = figures.Periods.now()
    providers = with_hosts(catalog_selectors.providers_for_staff())
    calls, polled = catalog_selectors.provider_call_stats(), order_selectors.providers_last_polled()
    for provider in providers:
        provider.low_balance = figures.low_balance(provider)
        provider.call_stats = calls.get(provider.pk)
        provider.last_polled_at = polled.get(provider.pk)
    context = {
        "notices": core_selectors.staff_notices_unresolved(),
        "providers": providers,
        "polling": order_selectors.polling_overview(),
        "business": figures.business(periods),
        "deposits": figures.deposits(periods),
        "by_status": figures.orders_by_status(periods),
        "attention": figures.attention(periods),
        "processes": figures.processes(),
        "refresh_seconds": figures.refresh_seconds(),
    }
    template = "staff/_dashboard_live.html" if request.GET.get("live") == "1" else "staff/dashboard.html"
    return render(request, template, context)


@staff_required(perm="act_on_orders")
@require_POST
def notice_resolve(request, pk):
    if core_services.staff_notice_resolve(notice_id=pk, actor=request.user):
        messages.success(request, "Notice marked resolved.")
    else:
        messages.info(request, "That notice was already resolved.")
    return redirect("staff_catalog:dashboard")
