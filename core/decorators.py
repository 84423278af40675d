from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

VIEW = "view_backoffice"


def staff_required(view=None, *, perm: str = VIEW):
    """Logged-in staff holding `perm` (a back-office permission, see backoffice.models) only: anonymous
    visitors go to the login page, customers and staff without it get 403. `@staff_required` asks for the
    right to see the back office; `@staff_required(perm="manage_money")` for that of an action."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not request.user.is_staff or not request.user.has_perm(f"backoffice.{perm}"):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.staff_permission = perm
        return wrapper

    return decorate(view) if view is not None else decorate
