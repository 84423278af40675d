"""Two-factor authentication in front of every page (after django-otp's OTPMiddleware).

- A user who has it on and logged in with a password only is sent to the code page before anything else
  opens (the session carries accounts.twofactor.PENDING from the login until a code is accepted).
- Staff where it is required reach the back office and the admin only from a verified session: those without
  a device are sent to set one up first.
Machine endpoints (the API, webhooks, health) and static files are not pages and pass untouched; so do the
code, set-up and logout pages themselves."""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from . import twofactor

PASSING = ("/accounts/2fa/", "/accounts/logout/", "/static/", "/api/", "/payments/webhook/", "/healthz",
           "/sandbox/")
STAFF_AREAS = ("/staff/", "/admin/")


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        path = request.path
        if user is not None and user.is_authenticated and not path.startswith(PASSING):
            if request.session.get(twofactor.PENDING) and not user.is_verified():
                return _to("two_factor_verify", request)
            if path.startswith(STAFF_AREAS) and twofactor.required_for(user) and not user.is_verified():
                if twofactor.has_two_factor(user):
                    request.session[twofactor.PENDING] = True
                    return _to("two_factor_verify", request)
                return _to("two_factor_setup", request)
        return self.get_response(request)


def _to(name: str, request):
    return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
