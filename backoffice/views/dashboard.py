"""The back office's front page: what needs a person, whether polling runs, the providers."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog import selectors as catalog_selectors
from orders import selectors as order_selectors
from panel import selectors as panel_selectors
from panel import services as panel_services
from panel.decorators import staff_required

from .catalog import with_hosts


@staff_required
def dashboard(request):
    return render(request, "staff/dashboard.html", {
        "notices": panel_selectors.staff_notices_unresolved(),
        "providers": with_hosts(catalog_selectors.providers_for_staff()),
        "polling": order_selectors.polling_overview(),
    })


@staff_required(perm="act_on_orders")
@require_POST
def notice_resolve(request, pk):
    if panel_services.staff_notice_resolve(notice_id=pk, actor=request.user):
        messages.success(request, "Notice marked resolved.")
    else:
        messages.info(request, "That notice was already resolved.")
    return redirect("staff_catalog:dashboard")
