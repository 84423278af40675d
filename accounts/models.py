import hashlib

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .money import ZERO, money_field

API_KEY_HINT_LENGTH = 4  # the most of a key any page shows


def api_key_digest(key: str) -> str:
    """What is stored of an API key, and what a presented key is looked up by."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class User(AbstractUser):
    """The panel's user: a customer, or staff when `is_staff` is set. Holds the wallet balance.

    The balance only changes through accounts.services, together with a LedgerEntry in the same transaction.
    """

    # Below zero only when a payment gateway takes money back (a refund or a dispute after the money was spent);
    # every other change is refused when it would take the balance below zero (accounts.services).
    balance = money_field(default=ZERO)
    # The API key itself is never stored: only its SHA-256 (hex), looked up through the unique index, and its
    # last characters for people to tell keys apart. A key is 128 random bits (accounts.services), so no salt
    # and no slow hash are needed: nothing is gained by guessing digests rather than keys, and 2**128 keys
    # cannot be tried, fast hash or not. Null when the user has no key.
    api_key_digest = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    api_key_hint = models.CharField(max_length=API_KEY_HINT_LENGTH, blank=True, editable=False)
    api_key_created_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The addresses and networks that may use the key (canonical text, e.g. "203.0.113.7", "2001:db8::/48");
    # empty: any address. Read with the key's lookup, so an empty list costs the API nothing.
    api_allowed_networks = models.JSONField(default=list, blank=True, editable=False)
    # While the list is set: the last few addresses the key was used from, refused ones too, as
    # {address: unix time}, written at most once a minute per address (resellerapi.selectors).
    api_recent_addresses = models.JSONField(default=dict, blank=True, editable=False)
    # Set when something about the customer needs a person (a payment refunded or disputed at the gateway).
    flagged_at = models.DateTimeField(null=True, blank=True)
    flag_reason = models.CharField(max_length=255, blank=True)
    # When the API key was last used (kept to the minute: one write a minute at the most).
    api_last_used_at = models.DateTimeField(null=True, blank=True)
    # A discount off every price the customer sees and pays (custom rates per service come first). Never below
    # the provider's cost unless staff confirmed it (`discount_below_cost`).
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    discount_below_cost = models.BooleanField(default=False)
    # Whether the customer has own rates of some services (catalog.CustomerRate): spares the lookup otherwise.
    has_custom_rates = models.BooleanField(default=False)

    @property
    def is_customer(self) -> bool:
        return not self.is_staff


class LedgerEntry(models.Model):
    """One change of one balance. Append-only: never updated, never deleted."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        BONUS = "bonus", "Deposit bonus"
        CHARGE = "charge", "Order charge"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Staff adjustment"
        PAYMENT_REFUND = "payment_refund", "Payment refunded"
        DISPUTE = "dispute", "Payment disputed"

    # Indexed by ledger_user_recent, which starts with it.
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="ledger", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = money_field()
    balance_after = money_field()
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries_made"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["user", "-created_at"], name="ledger_user_recent")]
        constraints = [
            # An order is charged once and refunded at most once: a constraint, not a hope.
            models.UniqueConstraint(fields=["order"], condition=Q(kind="charge"), name="ledger_one_charge_per_order"),
            models.UniqueConstraint(fields=["order"], condition=Q(kind="refund"), name="ledger_one_refund_per_order"),
            # A payment is credited once, its bonus once, and a dispute takes it back once.
            models.UniqueConstraint(fields=["payment"], condition=Q(kind="deposit"), name="ledger_one_deposit_per_payment"),
            models.UniqueConstraint(fields=["payment"], condition=Q(kind="bonus"), name="ledger_one_bonus_per_payment"),
            models.UniqueConstraint(fields=["payment"], condition=Q(kind="dispute"), name="ledger_one_dispute_per_payment"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} for {self.user_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Ledger entries are append-only.")
