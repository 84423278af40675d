"""The site's own pages: the home page, and the customer's dashboard (their wallet and their latest orders,
so it sits above both accounts and orders)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from orders.selectors import orders_for_customer

RECENT_ORDERS = 5


def home(request):
    return render(request, "panel/home.html")


@login_required
def dashboard(request):
    recent = orders_for_customer(user=request.user)[:RECENT_ORDERS]
    return render(request, "accounts/dashboard.html", {"recent_orders": recent})
