"""Account pages: sign up, the customer's dashboard and wallet. Thin: forms check, services write."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from orders.selectors import orders_for_customer

from . import selectors
from .forms import SignupForm
from .services import customer_create

TRANSACTIONS_PER_PAGE = 25
RECENT_ORDERS = 5


def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = customer_create(username=form.cleaned_data["username"], email=form.cleaned_data["email"],
                                   password=form.cleaned_data["password1"])
        except ValueError:  # taken between the form's check and the insert
            form.add_error("username", "That username is taken. Choose another one.")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            return redirect("dashboard")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def dashboard(request):
    recent = orders_for_customer(user=request.user)[:RECENT_ORDERS]
    return render(request, "accounts/dashboard.html", {"recent_orders": recent})


@login_required
def transactions(request):
    page = Paginator(selectors.ledger_for_user(user=request.user), TRANSACTIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/transactions.html", {"page": page})
