from django.shortcuts import render

from . import selectors


def services_page(request):
    """The public price list, like real panels: grouped by category, searchable."""
    search = request.GET.get("q", "")[:100]
    services = list(selectors.services_for_sale(search=search))
    selectors.apply_customer_prices(services, request.user)
    return render(request, "catalog/services.html", {"services": services, "search": search})
