"""Tickets (a customer's question and its thread of messages) and notifications (one message per event and
recipient, by email, Telegram or in the panel's bell)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class Ticket(models.Model):
    class Topic(models.TextChoices):
        ORDER = "order", "An order"
        PAYMENT = "payment", "A payment"
        REFILL = "refill", "A refill"
        CANCEL = "cancel", "A cancel"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        WAITING = "waiting", "Waiting on customer"
        CLOSED = "closed", "Closed"

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(max_length=200)
    topic = models.CharField(max_length=10, choices=Topic.choices, default=Topic.OTHER)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    orders = models.ManyToManyField("orders.Order", blank=True, related_name="tickets")
    payment = models.ForeignKey("payments.Payment", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="tickets")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="assigned_tickets")
    # Unread marks: the customer has not seen staff's last reply; staff have not seen the customer's last message.
    customer_unread = models.BooleanField(default=False)
    staff_unread = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    # Set by ticket_update, not a column: what it changed (field -> new value; empty when nothing did).
    changes: dict[str, Any]

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-last_message_at"], name="ticket_customer_recent"),
            models.Index(fields=["status", "-last_message_at"], name="ticket_status_recent"),
        ]

    def __str__(self):
        return f"Ticket #{self.pk}: {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ticket_messages")
    body = models.TextField()
    # A note staff keep for themselves: never shown to the customer, never sent.
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Message {self.pk} on ticket {self.ticket_id}"


class NotificationPreference(models.Model):
    """What a customer wants to be told by email (everything, unless switched off here)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference")
    ticket_reply = models.BooleanField(default=True, verbose_name="Replies to my tickets")
    order_finished = models.BooleanField(default=True, verbose_name="An order finished (and any refund)")
    payment_credited = models.BooleanField(default=True, verbose_name="A top-up credited")
    refill_finished = models.BooleanField(default=True, verbose_name="A refill finished")

    def __str__(self):
        return f"Notification preferences of {self.user_id}"


class Notification(models.Model):
    """One message about one event to one recipient on one channel. Written in the transaction of the event
    (an outbox); a task sends it after the commit and marks it sent. The unique key per channel and recipient
    makes a retried task, or the same event noticed twice, send once."""

    class Channel(models.TextChoices):
        INAPP = "inapp", "In the panel"
        EMAIL = "email", "Email"
        TELEGRAM = "telegram", "Telegram"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        HELD = "held", "Held for a digest"

    class Kind(models.TextChoices):
        # customers
        TICKET_REPLY = "ticket_reply", "Reply to a ticket"
        ORDER_FINISHED = "order_finished", "Order finished"
        PAYMENT_CREDITED = "payment_credited", "Top-up credited"
        REFILL_FINISHED = "refill_finished", "Refill finished"
        # staff
        NEW_TICKET = "new_ticket", "New ticket"
        TICKET_MESSAGE = "ticket_message", "Customer wrote on a ticket"
        ORDER_FAILED = "order_failed", "Order waiting for a decision"
        PROVIDER_LOW_BALANCE = "provider_low_balance", "Provider balance low"
        PROVIDER_FAILING = "provider_failing", "Provider failing"
        POLLING_STOPPED = "polling_stopped", "Polling stopped"
        PAYMENT_REVIEW = "payment_review", "Payment put before staff"
        DIGEST = "digest", "Digest"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="notifications")
    # Who it goes to, as the unique key sees it: "user:<id>", or "telegram" for the staff chat.
    recipient_key = models.CharField(max_length=50)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text="The event, e.g. order:123:finished.")
    subject = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="A path in the panel the message points to.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["channel", "recipient_key", "key"], name="notification_once")]
        indexes = [
            models.Index(fields=["recipient", "channel", "read_at"], name="notification_bell",
                         condition=Q(channel="inapp")),
            models.Index(fields=["status", "created_at"], name="notification_outbox"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.recipient_key} by {self.channel}"
