"""The simulated provider's own tables: its customers (accounts), catalog, orders, refills and test faults.

Nothing here is shared with the panel's apps: the sandbox plays a remote provider, so the panel must reach it
only over HTTP, through smmapi, exactly as it reaches a real one.
"""

import secrets
from decimal import Decimal

from django.db import models

import smmapi


def new_api_key() -> str:
    return secrets.token_hex(16)


def money_field(**kwargs) -> models.DecimalField:
    # 5 places, as API v2 shows money ("0.27819").
    return models.DecimalField(max_digits=16, decimal_places=5, **kwargs)


# The exact spellings a v2 provider lists in `services` (the type decides which `add` fields apply): the
# protocol's own vocabulary from smmapi, less its "Other" for spellings nobody knows.
ServiceType = models.TextChoices(  # type: ignore[call-overload]  # the functional API; the stubs take no pairs
    "ServiceType", [(kind.name, kind.value) for kind in smmapi.ServiceType if kind is not smmapi.ServiceType.OTHER]
)


class OrderStatus(models.TextChoices):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"


class RefillStatus(models.TextChoices):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    REJECTED = "Rejected"


class SandboxAccount(models.Model):
    """A customer of the simulated provider: the panel holds one of these keys per sandbox provider."""

    name = models.CharField(max_length=100)
    api_key = models.CharField(max_length=64, unique=True, default=new_api_key)
    balance = money_field(default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")

    def __str__(self) -> str:
        return self.name


class SandboxService(models.Model):
    # The primary key is the service ID the API shows, so the catalog seed can pin it.
    id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=40, choices=ServiceType.choices, default=ServiceType.DEFAULT)
    category = models.CharField(max_length=100)
    rate = money_field(help_text="Price per 1000 units (per package for package types).")
    min = models.PositiveIntegerField()
    max = models.PositiveIntegerField()
    refill = models.BooleanField(default=False)
    cancel = models.BooleanField(default=False)
    dripfeed = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class SandboxOrder(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="orders")
    service = models.ForeignKey(SandboxService, on_delete=models.PROTECT, related_name="orders")
    link = models.TextField(blank=True)
    quantity = models.PositiveIntegerField(help_text="Total units (per-run quantity x runs for drip-feed).")
    runs = models.PositiveIntegerField(null=True, blank=True)
    interval = models.PositiveIntegerField(null=True, blank=True, help_text="Minutes between runs.")
    params = models.JSONField(default=dict, blank=True, help_text="The type's other fields, as sent.")
    charge = money_field()
    start_count = models.PositiveIntegerField(default=0)
    # Set explicitly by services (not auto_now_add) so tests can freeze time by patching timezone.now.
    created_at = models.DateTimeField()
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # Empty until the order settles; then its final status, remains and refund, written exactly once.
    final_status = models.CharField(max_length=20, blank=True, choices=OrderStatus.choices)
    final_remains = models.PositiveIntegerField(null=True, blank=True)
    refunded = money_field(default=Decimal("0"))
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"order {self.pk}"


class SandboxRefill(models.Model):
    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="refills")
    created_at = models.DateTimeField()
    # Decided when the refill is created (from the order's link); shown once the refill's time is up.
    outcome = models.CharField(max_length=20, choices=RefillStatus.choices)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"refill {self.pk}"


class FaultKind(models.TextChoices):
    HTML_500 = "html_500"
    HTML_502 = "html_502"
    BROKEN_JSON = "broken_json"
    SLOW = "slow"
    DROP = "drop"
    REFUSE = "refuse"


class SandboxFault(models.Model):
    """A misbehaviour queued by a test: the next `times` API requests matching `action` suffer it."""

    kind = models.CharField(max_length=20, choices=FaultKind.choices)
    action = models.CharField(max_length=40, default="*", help_text='An API action, or "*" for any.')
    times = models.PositiveIntegerField(default=1, help_text="Requests still to be hit.")
    message = models.CharField(max_length=200, blank=True)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.action} x{self.times}"


class CheckoutStatus(models.TextChoices):
    OPEN = "open"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"


def new_checkout_id() -> str:
    return "cs_sandbox_" + secrets.token_hex(12)


class SandboxCheckout(models.Model):
    """A payment at the simulated gateway: a hosted page with Pay / Fail / Abandon, and signed notifications
    sent to the merchant's notify URL. Like the provider, it knows the panel only through HTTP."""

    id = models.CharField(primary_key=True, max_length=40, default=new_checkout_id)
    amount = money_field()
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=100, help_text="The merchant's own ID of the payment.")
    description = models.CharField(max_length=255, blank=True)
    notify_url = models.URLField(max_length=2000)
    success_url = models.URLField(max_length=2000)
    cancel_url = models.URLField(max_length=2000)
    status = models.CharField(max_length=10, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN)
    refunded = money_field(default=Decimal("0"))
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} ({self.status})"
