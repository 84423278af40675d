"""Sending one notification: email through Django's email backend, Telegram through the Bot API's
sendMessage. Either raises DeliveryError, whose text is safe to keep on the row and to log: it never holds
the bot token (which travels in the URL of every Bot API call, and so in every `requests` error about it),
the SMTP password or any other secret."""

import re

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse

from .models import Notification

TELEGRAM_MAX_TEXT = 4096
HIDDEN = "[hidden]"
# A bot token, wherever it shows (bot123456:AA...): hidden even when it is not the configured one.
TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")


class DeliveryError(Exception):
    """The message was not sent. Its text is safe: no secret in it."""


def deliver(notification: Notification) -> None:
    if notification.channel == Notification.Channel.EMAIL:
        send_email(notification)
    elif notification.channel == Notification.Channel.TELEGRAM:
        send_telegram(notification)
    else:
        raise DeliveryError(f"Nothing sends by {notification.channel!r}.")


def scrub(text: str) -> str:
    """The text with every secret the notifications know of replaced."""
    text = str(text)
    for secret in _secrets():
        text = text.replace(secret, HIDDEN)
    return TOKEN.sub(HIDDEN, text)


def _secrets() -> list[str]:
    names = ("TELEGRAM_BOT_TOKEN", "EMAIL_HOST_PASSWORD", "SECRET_KEY")
    return [value for value in (str(getattr(settings, name, "") or "") for name in names) if len(value) >= 4]


def link(notification: Notification) -> str:
    """The page the notification points to, as an absolute address (from SITE_URL, never a request)."""
    url = notification.url
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL.rstrip("/") + "/" + url.lstrip("/")


# --- Email ---------------------------------------------------------------------------------------------------

def send_email(notification: Notification) -> None:
    recipient = notification.recipient
    address = recipient.email if recipient is not None and recipient.is_active else ""
    if not address:
        raise DeliveryError("The recipient has no email address (or the account is disabled).")
    message = EmailMessage(subject=_subject(notification), body=email_body(notification),
                           from_email=settings.DEFAULT_FROM_EMAIL, to=[address])
    try:
        sent = message.send(fail_silently=False)
    except Exception as exc:  # SMTP refused, unreachable, timed out, a bad header: all the same to the row
        raise DeliveryError(f"Email not sent: {scrub(_described(exc))}") from None
    if not sent:
        raise DeliveryError("Email not sent: the email backend sent nothing.")


def _subject(notification: Notification) -> str:
    subject = " ".join(notification.subject.split())  # a header: no line breaks
    return f"[{settings.PANEL_NAME}] {subject}"[:250]


def email_body(notification: Notification) -> str:
    parts = [notification.body.strip() or notification.subject]
    address = link(notification)
    if address:
        parts.append(address)
    recipient = notification.recipient
    if recipient is not None and not recipient.is_staff:
        preferences = link(Notification(url=reverse("notifications:preferences")))
        parts.append(f"--\n{settings.PANEL_NAME}. Choose which emails you get: {preferences}")
    else:
        parts.append(f"--\n{settings.PANEL_NAME}")
    return "\n\n".join(parts) + "\n"


def _described(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# --- Telegram ------------------------------------------------------------------------------------------------

def send_telegram(notification: Notification) -> None:
    token = settings.TELEGRAM_BOT_TOKEN
    chat_id = settings.TELEGRAM_CHAT_ID
    if not (token and chat_id):
        raise DeliveryError("Telegram is not configured (TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID).")
    url = f"{settings.TELEGRAM_API_BASE.rstrip('/')}/bot{token}/sendMessage"
    payload = {"chat_id": chat_id, "text": telegram_text(notification), "disable_web_page_preview": True}
    try:
        response = requests.post(url, json=payload, timeout=(settings.TELEGRAM_CONNECT_TIMEOUT,
                                                             settings.TELEGRAM_READ_TIMEOUT))
    except requests.Timeout:
        # `from None`: the original exception (and so any traceback logged) names the URL, token and all.
        raise DeliveryError("Telegram did not answer in time.") from None
    except requests.RequestException as exc:
        raise DeliveryError(f"Telegram could not be reached ({type(exc).__name__}).") from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200 or not isinstance(answer, dict) or not answer.get("ok"):
        description = answer.get("description", "") if isinstance(answer, dict) else ""
        said = f": {scrub(str(description))[:200]}" if description else ""
        raise DeliveryError(f"Telegram answered HTTP {response.status_code}{said}")


def telegram_text(notification: Notification) -> str:
    parts = [notification.subject]
    body = notification.body.strip()
    if body and body != notification.subject:
        parts.append(body)
    address = link(notification)
    if address:
        parts.append(address)
    text = "\n\n".join(parts)
    return text if len(text) <= TELEGRAM_MAX_TEXT else text[:TELEGRAM_MAX_TEXT - 1] + "…"
