"""Orders and their timeline. DESIGN.md's state machine: queued → sending → placed | rejected | queued | failed."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.money import ZERO, money_field


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "Pending", "Pending"
        IN_PROGRESS = "In progress", "In progress"
        PROCESSING = "Processing", "Processing"
        COMPLETED = "Completed", "Completed"
        PARTIAL = "Partial", "Partial"
        CANCELED = "Canceled", "Canceled"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued (charged, not yet sent)"
        SENDING = "sending", "Sending to the provider"
        PLACED = "placed", "Placed with the provider"
        REJECTED = "rejected", "Rejected by the provider"
        FAILED = "failed", "Outcome unknown: staff decide"
        CANCELED = "canceled", "Canceled before it was sent"

    class Cancel(models.TextChoices):
        NONE = "", "—"
        REQUESTED = "requested", "Cancel requested"
        ACCEPTED = "accepted", "Cancel accepted by the provider"
        REFUSED = "refused", "Cancel refused by the provider"

    FINAL_STATUSES = (Status.COMPLETED, Status.PARTIAL, Status.CANCELED)

    # Every index is written again whenever an order's status changes, so there are no spare ones: the user's
    # and the provider's orders are found through the composite indexes below, which start with them.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders",
                             db_index=False)
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="orders")
    # What the order was placed against, kept even if staff later re-point the service.
    provider = models.ForeignKey("catalog.Provider", on_delete=models.PROTECT, related_name="orders",
                                 db_index=False)
    provider_service = models.ForeignKey("catalog.ProviderService", on_delete=models.PROTECT, related_name="orders",
                                         db_index=False)  # never looked up by; mirrors are disabled, not deleted

    link = models.CharField(max_length=2000)
    quantity = models.PositiveBigIntegerField(help_text="Per run for drip-feed; the line count for comments.")
    runs = models.PositiveIntegerField(null=True, blank=True)
    interval = models.PositiveIntegerField(null=True, blank=True, help_text="Minutes between runs.")
    comments = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True, help_text="The other fields the service's type takes.")
    units = models.PositiveBigIntegerField(help_text="Units ordered in all: quantity × runs, or the lines.")

    rate = money_field(help_text="Price per 1000 when ordered.")
    charge = money_field()
    refunded = money_field(default=ZERO)
    cost = money_field(null=True, blank=True, help_text="What the provider charged us.")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    external_id = models.CharField(max_length=100, blank=True)  # indexed below, for equality only
    start_count = models.BigIntegerField(null=True, blank=True)
    remains = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was rejected or parked, shown to the customer.")

    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    # The stamp a status poll's claim replaced, put back if the provider's call then fails.
    previous_polled_at = models.DateTimeField(null=True, blank=True)
    poll_errors = models.PositiveIntegerField(default=0)
    # A poller owns the order while poll_claim_until is in the future; the token says which poller.
    # Not indexed: claims look rows up by primary key, and an unindexed claim can be a HOT update.
    poll_token = models.CharField(max_length=32, blank=True)
    poll_claim_until = models.DateTimeField(null=True, blank=True)
    needs_attention = models.BooleanField(default=False)

    cancel_state = models.CharField(max_length=10, choices=Cancel.choices, blank=True, default="")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_error = models.CharField(max_length=255, blank=True)

    # An API client's own ID for the request that placed it: a retried `add` returns this order again.
    request_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 - NULL: no ID, unique when set
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="order_user_recent"),
            models.Index(fields=["user", "status", "-id"], name="order_user_status"),
            models.Index(fields=["state", "next_attempt_at"], name="order_dispatch"),
            # Not last_polled_at: polling rewrites it on every order each cycle, and an UPDATE that changes no
            # indexed column can be a HOT update on PostgreSQL (no index writes at all).
            models.Index(fields=["provider", "state"], name="order_polling"),
            models.Index(fields=["external_id"], name="order_external_id"),  # staff search by the provider's ID
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "request_id"], condition=Q(request_id__isnull=False),
                                    name="order_one_per_request_id"),
            models.CheckConstraint(condition=Q(refunded__gte=0) & Q(refunded__lte=models.F("charge")),
                                   name="order_refund_within_charge"),
            models.CheckConstraint(condition=Q(charge__gte=0), name="order_charge_not_negative"),
        ]

    def __str__(self):
        return f"Order #{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def delivered(self) -> int | None:
        if self.remains is None:
            return None
        return max(self.units - self.remains, 0)


class Refill(models.Model):
    """A refill of a delivered order: requested by the customer, sent upstream in batches, then polled."""

    class Status(models.TextChoices):
        QUEUED = "Queued", "Queued"  # not yet sent upstream
        PENDING = "Pending", "Pending"
        IN_PROGRESS = "In progress", "In progress"
        COMPLETED = "Completed", "Completed"
        REJECTED = "Rejected", "Rejected"

    OPEN_STATUSES = (Status.QUEUED, Status.PENDING, Status.IN_PROGRESS)

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refills")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    external_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=255, blank=True, help_text="The provider's per-item error, shown.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A request for it may have reached the provider without the answer reaching us (a timeout, a dropped
    # connection): it is sent again, and a refusal then ("already requested") is put before staff.
    answer_lost_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    poll_errors = models.PositiveIntegerField(default=0)
    # Not indexed: claims look rows up by primary key, and an unindexed claim can be a HOT update.
    poll_token = models.CharField(max_length=32, blank=True)
    poll_claim_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "last_polled_at"], name="refill_polling")]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(status__in=["Queued", "Pending", "In progress"]),
                name="refill_one_open_per_order",
            ),
        ]

    def __str__(self):
        return f"Refill #{self.pk} of order #{self.order_id}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class OrderEvent(models.Model):
    """One line of an order's timeline, written in the transaction that made the change."""

    # Indexed by orderevent_order_time, which starts with it.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20)
    message = models.TextField()
    staff_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="orderevent_order_time")]

    def __str__(self):
        return f"{self.order_id} {self.kind}: {self.message}"
