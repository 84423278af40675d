"""Writes on accounts. Each function is one use case in one transaction."""

from django.db import transaction

from .models import User


@transaction.atomic
def user_ensure(*, username: str, password: str, is_staff: bool = False, email: str = "") -> User:
    """Create the user, or bring an existing one back to the given password and role (demo data)."""
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.is_staff = is_staff
    user.is_superuser = is_staff
    user.is_active = True
    if email:
        user.email = email
    user.set_password(password)
    user.save()
    return user
