"""A provider's health: when it last answered, when and how it last failed, its balance."""

from django.utils import timezone

from .models import Provider


def record_success(provider: Provider, *, balance=None, currency: str | None = None) -> None:
    fields = {"last_success_at": timezone.now()}
    if balance is not None:
        fields.update(balance=balance, balance_currency=currency or "")
    Provider.objects.filter(pk=provider.pk).update(**fields)
    for name, value in fields.items():
        setattr(provider, name, value)


def record_failure(provider: Provider, error: Exception) -> None:
    # smmapi errors never carry the key, so their text is safe to keep and show.
    fields = {"last_error_at": timezone.now(), "last_error": f"{error.__class__.__name__}: {error}"[:2000]}
    Provider.objects.filter(pk=provider.pk).update(**fields)
    for name, value in fields.items():
        setattr(provider, name, value)
