"""Notifications: who is told what, by which channel, once per event. (Filled in fully by the notifications
work; the ticket pages call these two functions.)"""

from .models import Notification


def notify_customer(*, user, kind: str, key: str, subject: str, body: str = "", url: str = "") -> None:
    """Tell a customer of an event: in the panel's bell, and by email unless they switched this kind off.
    Call inside the event's transaction; sending happens after the commit. Once per (kind's) key."""
    Notification.objects.get_or_create(channel=Notification.Channel.INAPP, recipient_key=f"user:{user.pk}", key=key,
                                       defaults={"recipient": user, "kind": kind, "subject": subject[:255],
                                                 "body": body, "url": url})


def notify_staff(*, kind: str, key: str, subject: str, body: str = "", url: str = "") -> None:
    """Tell staff of an event: every staff member's bell, email, and the Telegram chat when configured.
    Call inside the event's transaction; sending happens after the commit. Once per key."""
    from accounts.models import User

    for user in User.objects.filter(is_staff=True, is_active=True):
        Notification.objects.get_or_create(channel=Notification.Channel.INAPP, recipient_key=f"user:{user.pk}",
                                           key=key, defaults={"recipient": user, "kind": kind,
                                                              "subject": subject[:255], "body": body, "url": url})
