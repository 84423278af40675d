"""Providers, the mirror of what they sell, and what the panel sells on top of it."""

import functools
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.money import money_field


def default_poll_concurrency() -> int:
    return settings.POLL_CONCURRENCY


# Told of every provider call (catalog.health.record_call, set by catalog.apps when the app is ready: the
# models must not import the module that reads and writes them).
CALL_OBSERVER: Callable[[int, str, bool, float], None] | None = None


def _record_call(provider_id: int, action: str, answered: bool, seconds: float) -> None:
    if CALL_OBSERVER is not None:
        CALL_OBSERVER(provider_id, action, answered, seconds)


class Provider(models.Model):
    class Method(models.TextChoices):
        POST = "POST", "POST"
        GET = "GET", "GET"

    class Body(models.TextChoices):
        FORM = "form", "Form fields"
        JSON = "json", "JSON body"

    name = models.CharField(max_length=100, unique=True)
    api_url = models.URLField(max_length=500)
    # Write-only: forms never render it back, admin and pages show only whether it is set.
    api_key = models.CharField(max_length=255)
    currency = models.CharField(max_length=8, default="USD")
    exchange_rate = models.DecimalField(
        max_digits=20, decimal_places=8, default=Decimal("1"),
        help_text="Panel currency per unit of the provider's currency.",
    )
    markup_percent = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("50"))
    is_active = models.BooleanField(default=True)

    http_method = models.CharField(max_length=4, choices=Method.choices, default=Method.POST)
    body_format = models.CharField(max_length=4, choices=Body.choices, default=Body.FORM)
    key_field = models.CharField(max_length=20, default="key")

    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    balance = models.DecimalField(max_digits=24, decimal_places=5, null=True, blank=True)
    balance_currency = models.CharField(max_length=8, blank=True)
    catalog_synced_at = models.DateTimeField(null=True, blank=True)
    # Polling backs off a provider whose calls fail, longer after each failure in a row.
    poll_failures = models.PositiveIntegerField(default=0)
    poll_backoff_until = models.DateTimeField(null=True, blank=True)
    # Calls of this provider in flight at once while polling (providers rate-limit).
    poll_concurrency = models.PositiveSmallIntegerField(
        default=default_poll_concurrency, help_text="Calls in flight at once while polling (providers rate-limit).")
    # The dashboard warns when the provider's balance (in its currency) is below this.
    low_balance_warning = models.DecimalField(max_digits=24, decimal_places=5, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def __repr__(self):
        return f"<Provider {self.pk} {self.name!r}>"

    def client(self, *, url: str | None = None, **overrides):
        """The smmapi client for this provider, with its transport options and the panel's timeouts."""
        import smmapi

        options = {
            "transport": smmapi.Transport(method=self.http_method, body=self.body_format, key_field=self.key_field),
            "connect_timeout": settings.PROVIDER_CONNECT_TIMEOUT,
            "read_timeout": settings.PROVIDER_READ_TIMEOUT,
            "observer": functools.partial(_record_call, self.pk) if self.pk else None,
        }
        options.update(overrides)
        return smmapi.Client(url or self.api_url, self.api_key, **options)

    @property
    def polling_paused_until(self):
        """When polling this provider resumes, if its calls kept failing and it is backed off now."""
        if self.poll_backoff_until is not None and self.poll_backoff_until > timezone.now():
            return self.poll_backoff_until
        return None

    @property
    def is_healthy(self) -> bool:
        if self.last_success_at is None:
            return False
        return self.last_error_at is None or self.last_success_at >= self.last_error_at


class ProviderService(models.Model):
    """One upstream service as the provider last described it. Never deleted: orders point at it."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="upstream_services")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=500)
    type = models.CharField(max_length=64)
    type_raw = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=255, blank=True)
    rate = models.DecimalField(max_digits=24, decimal_places=5)
    min_quantity = models.PositiveBigIntegerField()
    max_quantity = models.PositiveBigIntegerField()
    refill = models.BooleanField(default=False)
    cancel = models.BooleanField(default=False)
    dripfeed = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    raw = models.JSONField(default=dict)
    first_seen_at = models.DateTimeField()
    # Written only when the row changes; while not gone, the mirror is current as of catalog_synced_at.
    last_seen_at = models.DateTimeField()
    gone_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "external_id"], name="providerservice_unique_per_provider"),
        ]
        ordering = ["provider", "external_id"]

    def __str__(self):
        return f"{self.provider} #{self.external_id} {self.name}"

    @property
    def is_gone(self) -> bool:
        return self.gone_since is not None


class Category(models.Model):
    name = models.CharField(max_length=255, unique=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Service(models.Model):
    """What the panel sells. Its ID is the panel's own and stays the same across syncs."""

    class PriceMode(models.TextChoices):
        DERIVED = "derived", "Provider rate × exchange rate × (1 + markup)"
        FIXED = "fixed", "Fixed by staff"

    class Disabled(models.TextChoices):
        NONE = "", "—"
        STAFF = "staff", "Disabled by staff"
        GONE = "gone", "Gone upstream"
        BELOW_COST = "below_cost", "Price below cost"
        NEW = "new", "New: waiting for review"

    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="services")
    type = models.CharField(max_length=64)
    provider_service = models.ForeignKey(ProviderService, on_delete=models.PROTECT, related_name="services")
    price_mode = models.CharField(max_length=10, choices=PriceMode.choices, default=PriceMode.DERIVED)
    markup_percent = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True,
        help_text="Empty: the provider's markup.",
    )
    fixed_rate = money_field(null=True, blank=True)
    # The price per 1000 customers pay, kept current by sync and by staff edits.
    rate = money_field()
    min_quantity = models.PositiveBigIntegerField()
    max_quantity = models.PositiveBigIntegerField()
    refill = models.BooleanField(default=False)
    cancel = models.BooleanField(default=False)
    dripfeed = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=20, choices=Disabled.choices, blank=True, default="")
    sort_order = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__sort_order", "category__name", "sort_order", "id"]
        indexes = [models.Index(fields=["enabled", "category"], name="service_enabled_category")]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_quantity__lte=models.F("max_quantity")), name="service_min_not_above_max"
            ),
            models.CheckConstraint(
                condition=~Q(price_mode="fixed") | Q(fixed_rate__isnull=False), name="service_fixed_price_is_set"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.name}"


class SyncRun(models.Model):
    """One catalog sync of one provider: what it found and what went wrong."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="sync_runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    new = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    price_up = models.PositiveIntegerField(default=0)
    price_down = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    below_cost = models.PositiveIntegerField(default=0)
    skipped_items = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"sync {self.provider} {self.started_at:%Y-%m-%d %H:%M}"


class CustomerRate(models.Model):
    """A customer's own price of one service (per 1000, or per package), set by staff. It wins over the
    customer's discount. Below the provider's cost only when staff confirmed it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="custom_rates")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="custom_rates")
    rate = money_field()
    below_cost_confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Set by customer_rates_for_staff, not a column: what 1000 units of the service cost the panel.
    cost: Decimal

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="one_custom_rate_per_customer_and_service"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="custom_rate_positive"),
        ]

    def __str__(self):
        return f"{self.service_id} at {self.rate} for {self.user_id}"


class ProviderCall(models.Model):
    """One call to a provider: whether it answered, and how fast. Kept for a week; the dashboard reads a
    provider's last calls for its error rate and median latency. Written in batches (catalog.health)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="calls", db_index=False)
    at = models.DateTimeField()
    action = models.CharField(max_length=20)
    answered = models.BooleanField()
    ms = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["provider", "-at"], name="provider_call_recent"),
                   models.Index(fields=["at"], name="provider_call_age")]

    def __str__(self):
        return f"{self.action} to {self.provider_id} at {self.at}"
