from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, Protocol, TypeVar, cast, overload

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

VIEW = "view_backoffice"

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase, covariant=True)


class StaffView(Protocol[P, R]):
    """A view behind `staff_required`: it says which permission it asks for."""

    staff_permission: str

    def __call__(self, request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R: ...


@overload
def staff_required(view: Callable[Concatenate[HttpRequest, P], R], *, perm: str = VIEW) -> StaffView[P, R]: ...


@overload
def staff_required(
    view: None = None, *, perm: str = VIEW
) -> Callable[[Callable[Concatenate[HttpRequest, P], R]], StaffView[P, R]]: ...


def staff_required(
    view: Callable[Concatenate[HttpRequest, P], R] | None = None, *, perm: str = VIEW
) -> StaffView[P, R] | Callable[[Callable[Concatenate[HttpRequest, P], R]], StaffView[P, R]]:
    """Logged-in staff holding `perm` (a back-office permission, see backoffice.models) only: anonymous
    visitors go to the login page, customers and staff without it get 403. `@staff_required` asks for the
    right to see the back office; `@staff_required(perm="manage_money")` for that of an action."""

    def decorate(view: Callable[Concatenate[HttpRequest, P], R]) -> StaffView[P, R]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> R:
            if not request.user.is_staff or not request.user.has_perm(f"backoffice.{perm}"):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        staff_view = cast(StaffView[P, R], wrapper)  # a function, given its attribute on the next line
        staff_view.staff_permission = perm
        return staff_view

    return decorate(view) if view is not None else decorate
