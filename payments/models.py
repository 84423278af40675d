"""Payment methods, payments (top-ups) and the gateways' notifications about them.

A payment's life: pending (sent to the gateway's hosted page) → paid | failed | expired, or → review (put before
staff: a manual transfer to check, an amount that does not match, a notification nobody can place). Paid may
later become refunded or disputed when the gateway takes the money back. Every move is a conditional UPDATE
from the state it leaves; the ledger rows it causes are written in the same transaction (payments.services).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.money import ZERO, money_field


class Gateway(models.TextChoices):
    STRIPE = "stripe", "Stripe Checkout (cards)"
    CRYPTOMUS = "cryptomus", "Cryptomus (crypto)"
    MANUAL = "manual", "Manual (bank transfer and the like)"
    SANDBOX = "sandbox", "Sandbox gateway (test money)"


def percent_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=6, decimal_places=2, default=ZERO, **kwargs)


class PaymentMethod(models.Model):
    """A way for customers to add funds, as staff set it up: a gateway, limits, a fee or a bonus."""

    name = models.CharField(max_length=100, help_text="What customers see, e.g. “Card” or “USDT (TRC-20)”.")
    gateway = models.CharField(max_length=20, choices=Gateway.choices)
    enabled = models.BooleanField(default=True)
    min_amount = money_field(default=ZERO, help_text="The least a customer may add at once.")
    max_amount = money_field(null=True, blank=True, help_text="The most a customer may add at once (empty: no limit).")
    fee_percent = percent_field(help_text="Added on top of the amount: the customer pays amount + fee.")
    bonus_percent = percent_field(help_text="Credited on top of the amount, as its own ledger row.")
    bonus_from = money_field(default=ZERO, help_text="The bonus applies from this amount upward.")
    instructions = models.TextField(blank=True, help_text="Shown to the customer (manual methods: where to send "
                                                          "the money and what to write as the reference).")
    display_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="method_min_not_negative"),
            models.CheckConstraint(condition=Q(max_amount__isnull=True) | Q(max_amount__gte=models.F("min_amount")),
                                   name="method_max_not_below_min"),
            models.CheckConstraint(condition=Q(fee_percent__gte=0, bonus_percent__gte=0), name="method_percents_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_manual(self) -> bool:
        return self.gateway == Gateway.MANUAL


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed"
        REVIEW = "review", "Under review"

    # Our own ID of the payment, given to the gateway (its order ID, client reference or metadata) and shown
    # in the return page's address: a number there would let a customer guess at other payments.
    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=20, choices=Gateway.choices)
    # The gateway's own ID of the payment (Stripe's Checkout Session, Cryptomus' invoice uuid), once it has one.
    gateway_ref = models.CharField(max_length=255, blank=True)
    # A second ID the gateway's later notifications name the payment by (Stripe's PaymentIntent, which its
    # refunds and disputes carry).
    gateway_charge_ref = models.CharField(max_length=255, blank=True, db_index=True)
    redirect_url = models.URLField(max_length=2000, blank=True)

    # What the panel asked: `amount` for the balance, `fee` on top, `total` = amount + fee asked of the
    # gateway, and `bonus` promised if the whole total arrives.
    amount = money_field()
    fee = money_field(default=ZERO)
    total = money_field()
    bonus = money_field(default=ZERO)
    currency = models.CharField(max_length=3)
    # What the ledger holds for it: credited (deposit row), bonus_credited (bonus row), taken_back (refund
    # and dispute rows, as a positive sum).
    credited = money_field(default=ZERO)
    bonus_credited = money_field(default=ZERO)
    taken_back = money_field(default=ZERO)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    customer_reference = models.CharField(max_length=255, blank=True,
                                          help_text="Manual methods: the transfer's reference, as the customer gave it.")
    review_reason = models.TextField(blank=True, help_text="Why it is (or was) before staff.")
    failure_reason = models.CharField(max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # When the gateway was last asked about it (the missed-webhook check): one asker at a time.
    checked_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="payments_reviewed")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="payment_user_recent"),
            models.Index(fields=["status", "created_at"], name="payment_status_age"),
        ]
        constraints = [
            # The gateway's ID names one payment: a second row for it would be a second credit waiting.
            models.UniqueConstraint(fields=["gateway", "gateway_ref"], condition=~Q(gateway_ref=""),
                                    name="payment_one_per_gateway_ref"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0, bonus__gte=0, credited__gte=0, bonus_credited__gte=0,
                                               taken_back__gte=0), name="payment_parts_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Payment #{self.pk} {self.total} {self.currency} ({self.status})"

    @property
    def is_settled(self) -> bool:
        return self.status != self.Status.PENDING

    @property
    def is_waiting(self) -> bool:
        """Still waiting for the gateway (or for staff), so its page keeps refreshing."""
        return self.status in (self.Status.PENDING, self.Status.REVIEW)


class GatewayEvent(models.Model):
    """One notification from a gateway (or one fetch of its state), kept as it came, secrets removed, before
    it is acted on. Unique per gateway and event ID: a replay is recognised and changes nothing."""

    gateway = models.CharField(max_length=20, choices=Gateway.choices)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=100, blank=True, help_text="The gateway's own name for what happened.")
    source = models.CharField(max_length=10, default="webhook", help_text="webhook, fetch or staff.")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    payload = models.JSONField(default=dict)
    outcome = models.CharField(max_length=500, blank=True, help_text="What the panel did with it.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="gateway_event_once")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.kind} {self.event_id}"
