"""Two-factor authentication (TOTP through django-otp, with one-time backup codes): the use cases.

A user turns it on by scanning a secret into an authenticator app and typing one code it shows; from then on
each login asks for a code (or one of ten backup codes) before any page opens (accounts.middleware). Staff
must use it where TWO_FACTOR_REQUIRED_FOR_STAFF is on (the default in production): the back office and the
admin open only to a verified session. Codes are checked by django-otp, which throttles guesses per device
(each failure doubles the wait) and refuses a TOTP code used twice."""

import base64
from io import BytesIO

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User

APP_DEVICE = "Authenticator app"
BACKUP_DEVICE = "Backup codes"
BACKUP_CODES = 10
# The session waits for a code after the password (set at login for a user with a device).
PENDING = "two_factor_pending"


class TwoFactorRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


WRONG_CODE = "That code is not right (or was used already). Type the 6 digits your app shows now."


def has_two_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def required_for(user: User) -> bool:
    return bool(user.is_staff and settings.TWO_FACTOR_REQUIRED_FOR_STAFF)


def pending_device(user: User) -> TOTPDevice:
    """The device being set up (one unconfirmed at a time; a new visit keeps the same secret)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The secret as an app's "enter a key" field wants it: base32, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG (no image request, no third party sees the secret)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg"):]  # no XML declaration inside a page
    return svg.replace("<svg ", '<svg class="qr" role="img" aria-label="QR code of the secret" ', 1)


def _clean(token: str) -> str:
    return "".join(str(token or "").split()).lower()[:16]


@transaction.atomic
def turn_on(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the app with a code it shows; returns the backup codes (shown once). Raises TwoFactorRefused."""
    device = TOTPDevice.objects.select_for_update(no_key=True).filter(pk=device.pk, user=user, confirmed=False).first()
    if device is None:
        raise TwoFactorRefused("This set-up has expired: start again.")
    if not device.verify_token(_clean(token)):
        raise TwoFactorRefused(WRONG_CODE)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return _new_backup_codes(user)


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


def verify(*, user: User, token: str):
    """The device that accepts `token` (the app's code, or a backup code, used up), or None."""
    token = _clean(token)
    if not token:
        return None
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user, confirmed=True):
            with transaction.atomic():  # django-otp's throttling counts the failure in the same row
                locked = model.objects.select_for_update(no_key=True).get(pk=device.pk)
                if locked.verify_token(token):
                    return locked
    return None


def wait_seconds(user: User) -> int:
    """How long django-otp's throttling makes the user wait before a code can be checked again (each wrong
    code doubles it); 0 when some device would check one now."""
    from django.utils import timezone

    waits = []
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user, confirmed=True):
            allowed, data = device.verify_is_allowed()
            if allowed:
                return 0
            until = (data or {}).get("locked_until")
            waits.append(max(1, int((until - timezone.now()).total_seconds() + 0.999)) if until else 1)
    return min(waits) if waits else 0


def refusal(user: User) -> str:
    """What the page says when a code was not accepted."""
    wait = wait_seconds(user)
    if wait:
        return (f"That code was not accepted. After a wrong code the next one is checked only after a pause: "
                f"try again in {wait} second{'s' if wait != 1 else ''}.")
    return WRONG_CODE


def login_verified(request, device) -> None:
    django_otp.login(request, device)
    request.session.pop(PENDING, None)


@transaction.atomic
def turn_off(*, user: User, token: str) -> None:
    if required_for(user):
        raise TwoFactorRefused("Staff accounts must keep two-factor authentication on.")
    if verify(user=user, token=token) is None:
        raise TwoFactorRefused(WRONG_CODE)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def renew_backup_codes(*, user: User, token: str) -> list[str]:
    if not has_two_factor(user):
        raise TwoFactorRefused("Turn two-factor authentication on first.")
    if verify(user=user, token=token) is None:
        raise TwoFactorRefused(WRONG_CODE)
    return _new_backup_codes(user)


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def on_login(sender, request, user, **kwargs) -> None:
    """After a password login, a user with two-factor on must still give a code (user_logged_in receiver)."""
    if request is not None and hasattr(request, "session") and has_two_factor(user):
        if not getattr(user, "otp_device", None):
            request.session[PENDING] = True
