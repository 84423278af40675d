"""Accounts against the usual attacks: guessed passwords (throttled by account and by address), a second factor
(TOTP, staff must, customers may), sign-up and password-reset floods, one account per e-mail address."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from accounts.models import User
from tests.pages import rendered

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.20"


def log_in(client, username, password, address=HOME, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return SESSION_KEY in client.session


# --- Login throttling ---------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_with_a_clear_message_even_for_the_right_one(client, alice):
    for _ in range(4):
        assert log_in(client, "alice", "wrong").status_code == 200
    locked = log_in(client, "alice", "wrong")
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    right = log_in(client, "alice", "alice-pass-123")
    assert right.status_code == 429 and "Wait 15 minutes" in right.content.decode()
    assert not logged_in(client)


def test_the_account_lock_holds_from_any_address(client, alice):
    for n in range(5):
        log_in(client, "alice", "wrong", address=f"192.0.2.{n + 1}")
    assert log_in(client, "alice", "alice-pass-123", address=ELSEWHERE).status_code == 429
    assert not logged_in(client)


def test_an_address_trying_many_accounts_is_locked_for_all_of_them(client, alice, bob):
    for name in ("alice", "bob", "carl", "dora", "erin"):
        log_in(client, name, "guess")
    assert log_in(client, "bob", "bob-pass-123").status_code == 429
    assert not logged_in(client)
    assert log_in(client, "bob", "bob-pass-123", address=ELSEWHERE).status_code == 302  # others are not held up
    assert logged_in(client)


def test_a_successful_login_clears_the_accounts_failures(client, alice):
    for _ in range(4):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", "alice-pass-123").status_code == 302
    client.logout()
    for _ in range(4):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", "alice-pass-123").status_code == 302


def test_the_lock_ends_after_the_cool_off(client, alice, settings):
    from axes.models import AccessAttempt

    for _ in range(5):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", "alice-pass-123").status_code == 429
    AccessAttempt.objects.all().delete()  # what axes' cool-off does once LOGIN_LOCKOUT_MINUTES have passed
    assert log_in(client, "alice", "alice-pass-123").status_code == 302


def test_the_lock_message_does_not_say_whether_the_account_exists(client, alice):
    for _ in range(5):
        log_in(client, "alice", "wrong", address="192.0.2.1")
        log_in(client, "nobody-here", "wrong", address="192.0.2.2")
    real = log_in(client, "alice", "x", address="192.0.2.1").content.decode()
    made_up = log_in(client, "nobody-here", "x", address="192.0.2.2").content.decode()
    message = "Too many failed logins for this account or from your address"
    assert message in real and message in made_up


def test_the_admin_login_is_throttled_too(client, carol):
    for _ in range(5):
        client.post("/admin/login/", {"username": "carol", "password": "wrong"}, REMOTE_ADDR=HOME)
    response = client.post("/admin/login/", {"username": "carol", "password": "carol-pass-123"}, REMOTE_ADDR=HOME)
    assert response.status_code == 429 and not logged_in(client)


# --- Two-factor authentication ------------------------------------------------------------------------------


def code_of(device: TOTPDevice, offset: int = 0) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def throttle(user, failures=4):
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_timestamp=timezone.now(),
                                               throttling_failure_count=failures)


def unthrottle(user):
    """What waiting out django-otp's pause after a wrong code does."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_timestamp=None, throttling_failure_count=0)


def set_up(client, user, password: str) -> list[str]:
    """Log in, set up the app from the setup page's own secret, and return the backup codes shown."""
    assert log_in(client, user.username, password).status_code == 302
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    shown = page.context["secret"].replace(" ", "")
    assert shown == twofactor.secret_of(device).replace(" ", "")
    done = client.post(reverse("two_factor_setup"), {"code": code_of(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and all(code in done.content.decode() for code in codes)
    return codes


def test_a_customer_turns_it_on_and_then_every_login_asks_for_the_code(client, alice):
    set_up(client, alice, "alice-pass-123")
    assert TOTPDevice.objects.get(user=alice).confirmed
    client.post(reverse("logout"))

    response = log_in(client, "alice", "alice-pass-123", next="/orders/")
    assert response.status_code == 302 and response.url == "/orders/"
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 302 and dashboard.url.startswith(reverse("two_factor_verify"))
    assert client.get("/orders/").status_code == 302
    wrong = client.post(reverse("two_factor_verify"), {"code": "000000"})
    assert wrong.status_code == 400 and "try again in 1 second" in wrong.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302

    device = TOTPDevice.objects.get(user=alice)
    throttle(alice)  # as after a few wrong codes in a row: not over before the next request, however slow
    right_too_soon = client.post(reverse("two_factor_verify"), {"code": code_of(device, offset=1)})
    assert right_too_soon.status_code == 400  # django-otp's pause after a wrong code: guesses cannot be fast
    unthrottle(alice)
    # A code of the step before: the last_t of the set-up code may be this step's, which cannot be used again.
    ok = client.post(reverse("two_factor_verify") + "?next=/orders/", {"code": code_of(device, offset=1)})
    assert ok.status_code == 302 and ok.url == "/orders/"
    rendered(client.get(reverse("dashboard")), "<h1>Hello,")


def test_a_code_is_refused_the_second_time(client, alice):
    set_up(client, alice, "alice-pass-123")
    client.post(reverse("logout"))
    device = TOTPDevice.objects.get(user=alice)
    code = code_of(device, offset=1)
    log_in(client, "alice", "alice-pass-123")
    assert client.post(reverse("two_factor_verify"), {"code": code}).status_code == 302
    client.post(reverse("logout"))
    log_in(client, "alice", "alice-pass-123")
    assert client.post(reverse("two_factor_verify"), {"code": code}).status_code == 400


def test_a_backup_code_logs_in_once(client, alice):
    codes = set_up(client, alice, "alice-pass-123")
    client.post(reverse("logout"))
    log_in(client, "alice", "alice-pass-123")
    assert client.post(reverse("two_factor_verify"), {"code": codes[0]}).status_code == 302
    rendered(client.get(reverse("dashboard")), "<h1>Hello,")
    client.post(reverse("logout"))
    log_in(client, "alice", "alice-pass-123")
    refused = client.post(reverse("two_factor_verify"), {"code": codes[0]})
    assert refused.status_code == 400 and "not accepted" in refused.content.decode()
    assert StaticToken.objects.filter(device__user=alice).count() == 9


def test_a_wrong_set_up_code_turns_nothing_on(client, alice):
    log_in(client, "alice", "alice-pass-123")
    client.get(reverse("two_factor_setup"))
    response = client.post(reverse("two_factor_setup"), {"code": "12"})
    assert response.status_code == 400 and "That code is not right" in response.content.decode()
    assert not twofactor.has_two_factor(alice)


def test_the_code_page_is_not_an_open_redirect(client, alice):
    set_up(client, alice, "alice-pass-123")
    client.post(reverse("logout"))
    log_in(client, "alice", "alice-pass-123")
    device = TOTPDevice.objects.get(user=alice)
    response = client.post(reverse("two_factor_verify") + "?next=https://evil.example/",
                           {"code": code_of(device, offset=1)})
    assert response.status_code == 302 and response.url == reverse("dashboard")


def test_a_customer_may_turn_it_off_with_a_code(client, alice):
    codes = set_up(client, alice, "alice-pass-123")
    refused = client.post(reverse("two_factor_off"), {"code": "999999"}, follow=True)
    assert "That code is not right" in refused.content.decode() and twofactor.has_two_factor(alice)
    done = client.post(reverse("two_factor_off"), {"code": codes[1]}, follow=True)
    assert "Two-factor authentication is off" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=alice).exists()
    client.post(reverse("logout"))
    log_in(client, "alice", "alice-pass-123")
    rendered(client.get(reverse("dashboard")), "<h1>Hello,")


def test_new_backup_codes_replace_the_old_ones(client, alice):
    old = set_up(client, alice, "alice-pass-123")
    response = client.post(reverse("two_factor_backup_codes"), {"code": old[0]})
    new = response.context["codes"]
    assert set(new).isdisjoint(old) and StaticToken.objects.filter(device__user=alice).count() == 10


@pytest.fixture
def required(settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True


def test_staff_must_set_it_up_before_the_back_office_or_the_admin_opens(client, carol, required):
    log_in(client, "carol", "carol-pass-123")
    for area in ("/staff/", "/admin/"):
        response = client.get(area)
        assert response.status_code == 302 and response.url.startswith(reverse("two_factor_setup")), area
    page = client.get(reverse("two_factor_setup"))
    assert "Staff accounts need two-factor authentication" in page.content.decode()
    device = TOTPDevice.objects.get(user=carol, confirmed=False)
    client.post(reverse("two_factor_setup"), {"code": code_of(device)})
    rendered(client.get("/staff/"), "<h1>Back office</h1>")


def test_staff_with_a_device_give_the_code_before_the_back_office(client, carol, required):
    set_up(client, carol, "carol-pass-123")
    client.post(reverse("logout"))
    log_in(client, "carol", "carol-pass-123")
    response = client.get("/staff/")
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_verify"))
    device = TOTPDevice.objects.get(user=carol)
    client.post(reverse("two_factor_verify"), {"code": code_of(device, offset=1)})
    rendered(client.get("/staff/"), "<h1>Back office</h1>")


def test_staff_cannot_turn_it_off_where_it_is_required(client, carol, required):
    codes = set_up(client, carol, "carol-pass-123")
    response = client.post(reverse("two_factor_off"), {"code": codes[0]}, follow=True)
    assert "Staff accounts must keep two-factor authentication on" in response.content.decode()
    assert twofactor.has_two_factor(carol)


def test_customers_are_never_forced(client, alice, required):
    log_in(client, "alice", "alice-pass-123")
    rendered(client.get(reverse("dashboard")), "<h1>Hello,")


def test_the_admin_never_shows_a_devices_secret(client, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = False
    admin = User.objects.create_superuser("root", "root@example.com", "root-pass-123")
    device = TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    client.force_login(admin)
    html = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    assert device.key not in html


def test_the_security_page_says_whether_it_is_on(client, alice):
    client.force_login(alice)
    assert "Off: logging in needs your password only" in client.get(reverse("security")).content.decode()


# --- Sign-up and password reset -----------------------------------------------------------------------------

SIGNUP = {"email": "x@example.com", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"}


def test_sign_up_refuses_an_email_address_already_used_whatever_its_case(client, alice):
    response = client.post(reverse("signup"), {**SIGNUP, "username": "alice2", "email": "ALICE@Example.com"})
    assert response.status_code == 200
    assert "An account with this e-mail already exists" in response.content.decode()
    assert User.objects.count() == 1 and not logged_in(client)


def test_sign_ups_from_one_address_are_limited_an_hour(client, settings):
    settings.SIGNUP_LIMIT_PER_HOUR = 2
    for n in range(2):
        client.post(reverse("signup"), {**SIGNUP, "username": f"user{n}", "email": f"u{n}@example.com"},
                    REMOTE_ADDR=HOME)
        client.post(reverse("logout"))
    refused = client.post(reverse("signup"), {**SIGNUP, "username": "user9", "email": "u9@example.com"},
                          REMOTE_ADDR=HOME)
    assert refused.status_code == 429 and "Too many accounts were made from your address" in refused.content.decode()
    assert not User.objects.filter(username="user9").exists()
    other = client.post(reverse("signup"), {**SIGNUP, "username": "user9", "email": "u9@example.com"},
                        REMOTE_ADDR=ELSEWHERE)
    assert other.status_code == 302 and User.objects.filter(username="user9").exists()


def test_password_reset_mails_an_address_a_few_times_an_hour_and_then_says_nothing_different(client, alice,
                                                                                             settings):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    pages = [client.post(reverse("password_reset"), {"email": "alice@example.com"}, REMOTE_ADDR=f"192.0.2.{n}")
             for n in range(1, 5)]
    assert [page.status_code for page in pages] == [302] * 4
    assert len({page.url for page in pages}) == 1  # the same answer, sent or not
    assert len(mail.outbox) == 2


def test_password_reset_requests_from_one_address_are_limited(client, alice, settings):
    settings.PASSWORD_RESET_LIMIT_PER_HOUR = 3
    for n in range(3):
        client.post(reverse("password_reset"), {"email": f"someone{n}@example.com"}, REMOTE_ADDR=HOME)
    refused = client.post(reverse("password_reset"), {"email": "alice@example.com"}, REMOTE_ADDR=HOME)
    assert refused.status_code == 429 and "Too many reset requests" in refused.content.decode()
    assert not mail.outbox


def test_a_reset_link_still_works_and_the_new_password_logs_in(client, alice):
    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "brand-new-phrase-1",
                                                   "new_password2": "brand-new-phrase-1"})
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    assert log_in(client, "alice", "brand-new-phrase-1").status_code == 302
