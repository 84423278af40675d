from decimal import Decimal

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from accounts.services import wallet_deposit

pytestmark = pytest.mark.django_db

GOOD_SIGNUP = {"username": "dave", "email": "dave@example.com", "password1": "a-long-pass-phrase",
               "password2": "a-long-pass-phrase"}


def test_sign_up_creates_a_customer_and_logs_them_in(client):
    response = client.post(reverse("signup"), GOOD_SIGNUP)
    assert response.status_code == 302 and response.url == reverse("dashboard")
    dave = User.objects.get(username="dave")
    assert (dave.email, dave.is_staff, dave.balance) == ("dave@example.com", False, Decimal("0"))
    assert dave.check_password("a-long-pass-phrase")
    assert client.session[SESSION_KEY] == str(dave.pk)


def test_sign_up_refuses_a_taken_username_whatever_its_case(client, alice):
    response = client.post(reverse("signup"), {**GOOD_SIGNUP, "username": "Alice"})
    assert response.status_code == 200
    assert "That username is taken" in response.context["form"].errors["username"][0]
    assert User.objects.count() == 1 and SESSION_KEY not in client.session


def test_sign_up_refuses_two_different_passwords(client):
    response = client.post(reverse("signup"), {**GOOD_SIGNUP, "password2": "another-long-phrase"})
    assert response.context["form"].errors["password2"] == ["The two passwords differ."]
    assert not User.objects.exists()


def test_sign_up_refuses_a_too_short_password_and_keeps_the_other_values(client):
    response = client.post(reverse("signup"), {**GOOD_SIGNUP, "password1": "short", "password2": "short"})
    assert "too short" in " ".join(response.context["form"].errors["password1"])
    assert 'value="dave@example.com"' in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_needs_an_email_address(client):
    response = client.post(reverse("signup"), {**GOOD_SIGNUP, "email": "not-an-address"})
    assert "email" in response.context["form"].errors and not User.objects.exists()


def test_login_lands_on_the_dashboard_showing_the_balance_and_quick_links(client, alice):
    wallet_deposit(user=alice, amount=Decimal("12.5"))
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-pass-123"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    html = response.content.decode()
    assert "12.50000" in html and f'href="{reverse("payments:add")}"' in html
    for name in ("orders:new", "orders:mass", "orders:list", "transactions"):
        assert f'href="{reverse(name)}"' in html


def test_login_with_a_wrong_password_is_refused(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200 and SESSION_KEY not in client.session
    assert "correct username and password" in response.content.decode()


def test_logout_ends_the_session(client, alice):
    client.force_login(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and SESSION_KEY not in client.session


def test_the_dashboard_needs_a_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_staff_see_the_back_office_link_and_customers_do_not(client, alice, carol):
    back_office = reverse("staff_catalog:dashboard")
    client.force_login(alice)
    assert back_office not in client.get(reverse("dashboard")).content.decode()
    client.force_login(carol)
    assert back_office in client.get(reverse("dashboard")).content.decode()


def test_password_change_takes_the_old_password_and_sets_the_new_one(client, alice):
    client.force_login(alice)
    response = client.post(reverse("password_change"), {
        "old_password": "alice-pass-123", "new_password1": "brand-new-phrase-9", "new_password2": "brand-new-phrase-9",
    })
    assert response.status_code == 302 and response.url == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password("brand-new-phrase-9")


def test_password_change_with_a_wrong_old_password_changes_nothing(client, alice):
    client.force_login(alice)
    response = client.post(reverse("password_change"), {
        "old_password": "nope", "new_password1": "brand-new-phrase-9", "new_password2": "brand-new-phrase-9",
    })
    assert "old_password" in response.context["form"].errors
    alice.refresh_from_db()
    assert alice.check_password("alice-pass-123")


def test_password_reset_sends_an_email_with_a_link_that_sets_a_new_password(client, alice, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["alice@example.com"]
    link = next(word for word in mailoutbox[0].body.split() if "/accounts/password/reset/" in word)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": "reset-phrase-77",
                                                         "new_password2": "reset-phrase-77"})
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password("reset-phrase-77")


def test_password_reset_for_an_unknown_address_sends_nothing_but_says_the_same(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and mailoutbox == []
