"""Account pages: sign up, the customer's dashboard and wallet. Thin: forms check, services write."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core import ratelimit
from core.net import client_ip

from . import selectors, twofactor
from .forms import CodeForm, SignupForm
from .services import AccountTaken, customer_create

TRANSACTIONS_PER_PAGE = 25


def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and not ratelimit.allow("signup", client_ip(request),
                                                        limit=settings.SIGNUP_LIMIT_PER_HOUR, window=3600):
        form.is_valid()
        form.add_error(None, "Too many accounts were made from your address in the last hour. Try again later.")
        return render(request, "registration/signup.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            user = customer_create(username=form.cleaned_data["username"], email=form.cleaned_data["email"],
                                   password=form.cleaned_data["password1"])
        except AccountTaken as taken:  # taken between the form's check and the insert
            form.add_error(taken.field, "That username is taken. Choose another one." if taken.field == "username"
                           else "An account with this e-mail already exists. Log in, or reset its password.")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            return redirect("dashboard")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def transactions(request):
    page = Paginator(selectors.ledger_for_user(user=request.user), TRANSACTIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/transactions.html", {"page": page})


# --- Logging in: throttled (django-axes), then a second factor when the user has one ----------------------

LOCKED_OUT = ("Too many failed logins for this account or from your address. Wait {minutes} minutes and try "
              "again, or reset your password.")


def login_locked_out(request, response=None, credentials=None):
    """django-axes' answer once an account or an address is locked: the login page with the reason (429)."""
    from django.contrib.auth.forms import AuthenticationForm

    form = AuthenticationForm(request, data=request.POST or None)
    form.errors.clear()
    form.add_error(None, LOCKED_OUT.format(minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)))
    return render(request, "registration/login.html", {"form": form, "next": _next(request, "")}, status=429)


def _next(request, default="dashboard"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


@never_cache
@login_required
def two_factor_verify(request):
    if request.user.is_verified() or not twofactor.has_two_factor(request.user):
        request.session.pop(twofactor.PENDING, None)
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(user=request.user, token=form.cleaned_data["code"])
        if device is not None:
            twofactor.login_verified(request, device)
            return redirect(_next(request))
        form.add_error("code", twofactor.refusal(request.user))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next(request, "")},
                  status=200 if not form.errors else 400)


@never_cache
@login_required
def two_factor_setup(request):
    if twofactor.has_two_factor(request.user):
        return redirect("security")
    device = twofactor.pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.turn_on(user=request.user, device=device, token=form.cleaned_data["code"])
        except twofactor.TwoFactorRefused as refused:
            form.add_error("code", refused.message)
        else:
            device.refresh_from_db()
            twofactor.login_verified(request, device)
            return render(request, "accounts/backup_codes.html", {"codes": codes, "next": _next(request, "")})
    return render(request, "accounts/two_factor_setup.html", {
        "form": form, "secret": twofactor.secret_of(device), "qr": twofactor.qr_svg(device),
        "required": twofactor.required_for(request.user), "next": _next(request, ""),
    }, status=200 if not form.errors else 400)


@never_cache
@login_required
def security(request):
    return render(request, "accounts/security.html", {
        "on": twofactor.has_two_factor(request.user), "required": twofactor.required_for(request.user),
        "codes_left": twofactor.backup_codes_left(request.user),
    })


@require_POST
@login_required
def two_factor_off(request):
    form = CodeForm(request.POST)
    try:
        if not form.is_valid():
            raise twofactor.TwoFactorRefused(twofactor.WRONG_CODE)
        twofactor.turn_off(user=request.user, token=form.cleaned_data["code"])
    except twofactor.TwoFactorRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, "Two-factor authentication is off. Logging in needs your password only.")
    return redirect("security")


@require_POST
@login_required
def backup_codes_renew(request):
    form = CodeForm(request.POST)
    try:
        if not form.is_valid():
            raise twofactor.TwoFactorRefused(twofactor.WRONG_CODE)
        codes = twofactor.renew_backup_codes(user=request.user, token=form.cleaned_data["code"])
    except twofactor.TwoFactorRefused as refused:
        messages.error(request, refused.message)
        return redirect("security")
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": ""})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, counted: a few requests an hour per address and per e-mail. Over the address's limit
    the page says so; over the e-mail's the page looks the same but nothing is sent (it must not tell
    whether an account exists, nor let anyone flood a mailbox)."""

    def post(self, request, *args, **kwargs):
        if not ratelimit.allow("reset-ip", client_ip(request), limit=settings.PASSWORD_RESET_LIMIT_PER_HOUR,
                               window=3600):
            form = self.get_form()
            form.is_valid()
            form.add_error(None, "Too many reset requests from your address in the last hour. Try again later.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if not ratelimit.allow("reset-email", form.cleaned_data["email"],
                               limit=settings.PASSWORD_RESET_LIMIT_PER_EMAIL, window=3600):
            return redirect(self.get_success_url())
        return super().form_valid(form)
