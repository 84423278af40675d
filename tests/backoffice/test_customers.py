"""The back office's customer pages: the list and its search, one customer's page, and what staff do to an
account (funds by hand, disable and enable, a new API key, clearing a flag), each with its audit row."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry, User
from accounts.services import (
    CustomerRefused,
    api_key_rotate,
    customer_api_key_revoke,
    customer_disable,
    customer_enable,
    customer_flag,
    customer_flag_clear,
    customer_funds_adjust,
    wallet_charge_order,
    wallet_deposit,
    wallet_refund_order,
)
from core.models import AuditEntry
from resellerapi.errors import INVALID_KEY
from tests.factories import OrderFactory, UserFactory
from tests.pages import rendered

pytestmark = pytest.mark.django_db

API = "/api/v2"
LIST = reverse("backoffice:customers")


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    """The API counts calls per user ID in the process-wide cache; IDs repeat between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


def page_of(pk):
    return reverse("backoffice:customer", args=[pk])


def action(name, pk):
    return reverse(f"backoffice:customer_{name}", args=[pk])


def row(html: str, element_id: str) -> str:
    """The text of one table row, by its id."""
    found = re.search(rf'<tr id="{element_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row {element_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def cell(html: str, element_id: str, label: str) -> str:
    """The text of one cell of a table row, by the row's id and the cell's label."""
    found = re.search(rf'<tr id="{element_id}"[^>]*>.*?<td[^>]*data-label="{label}"[^>]*>(.*?)</td>', html, re.S)
    assert found, f"no cell {label} in row {element_id}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace("&#x27;", "'")


def charged_order(user, charge: str, refunded: str = "0"):
    """An order charged from the balance (and partly refunded), its ledger rows as placement and polling write."""
    with transaction.atomic():
        order = OrderFactory(user=user, charge=Decimal(charge), refunded=Decimal(refunded))
        wallet_charge_order(order=order)
        if Decimal(refunded):
            wallet_refund_order(order=order, amount=Decimal(refunded), note=f"Order #{order.pk} partial")
    return order


def api_balance(key: str) -> dict:
    response = Client().post(API, {"key": key, "action": "balance"})
    assert response.status_code == 200
    return response.json()


def balance_of(user) -> Decimal:
    user.refresh_from_db(fields=["balance"])
    return user.balance


def ledger_ok():
    call_command("check_ledger")  # raises CommandError on any mismatch


# --- The list --------------------------------------------------------------------------------------------


def test_the_list_shows_each_customers_balance_spent_orders_and_last_seen(staff, funded, bob):
    charged_order(funded, "2.00")
    charged_order(funded, "3.00", refunded="1.00")
    logged_in, called = timezone.now() - timedelta(days=2), timezone.now() - timedelta(hours=3)
    User.objects.filter(pk=funded.pk).update(last_login=logged_in, api_last_used_at=called)

    html = staff.get(LIST).content.decode()

    alice = f"customer-{funded.pk}"
    assert (cell(html, alice, "Customer"), cell(html, alice, "Email")) == ("alice", "alice@example.com")
    assert cell(html, alice, "Balance") == "6.00000"  # 10 - 2 - 3 + 1
    assert cell(html, alice, "Spent") == "4.00000"  # the charges less the refund
    assert cell(html, alice, "Orders") == "2"
    assert cell(html, alice, "Last seen") == timezone.localtime(called).strftime("%Y-%m-%d %H:%M")  # the later
    bob_row = f"customer-{bob.pk}"
    assert [cell(html, bob_row, label) for label in ("Balance", "Spent", "Orders", "Last seen")] == [
        "0.00000", "0.00000", "0", "never"]


def test_last_seen_is_the_last_login_when_the_api_was_never_used(staff, alice):
    logged_in = timezone.now() - timedelta(days=1)
    User.objects.filter(pk=alice.pk).update(last_login=logged_in)
    html = staff.get(LIST).content.decode()
    assert cell(html, f"customer-{alice.pk}", "Last seen") == timezone.localtime(logged_in).strftime("%Y-%m-%d %H:%M")


def test_a_negative_balance_shows_in_red(staff, alice, bob):
    User.objects.filter(pk=alice.pk).update(balance=Decimal("-1.50"))  # as a gateway's take-back leaves it
    html = staff.get(LIST).content.decode()
    assert re.search(rf'<tr id="customer-{alice.pk}".*?below-zero">-1.50000<', html, re.S)
    assert "below-zero" not in re.search(rf'<tr id="customer-{bob.pk}".*?</tr>', html, re.S).group(0)


def test_staff_are_never_listed_nor_shown_as_customers(staff, alice, carol, dave):
    listed = staff.get(LIST).context["page"].object_list
    assert list(listed) == [alice]
    assert list(staff.get(LIST, {"q": "example.com"}).context["page"].object_list) == [alice]
    assert staff.get(page_of(dave.pk)).status_code == 404
    assert staff.post(action("funds", dave.pk), {"direction": "add", "amount": "5", "reason": "x"}).status_code == 404


@pytest.mark.parametrize("search", ["ALI", "lic", "Alice@Example", "alice@example.com"])
def test_search_finds_a_customer_by_part_of_the_username_or_email_in_any_case(staff, alice, bob, search):
    assert list(staff.get(LIST, {"q": search}).context["page"].object_list) == [alice]


def test_search_finds_a_customer_by_the_last_characters_of_their_api_key_or_the_whole_key(staff, alice, bob):
    key = api_key_rotate(user=alice)
    api_key_rotate(user=bob)
    assert list(staff.get(LIST, {"q": key[-4:]}).context["page"].object_list) == [alice]
    assert list(staff.get(LIST, {"q": key[-4:].upper()}).context["page"].object_list) == [alice]
    assert list(staff.get(LIST, {"q": key}).context["page"].object_list) == [alice]
    assert list(staff.get(LIST, {"q": key[:8]}).context["page"].object_list) == []  # the end, not any part
    assert list(staff.get(LIST, {"q": key[:-1] + "x"}).context["page"].object_list) == []  # the exact key


def test_fewer_than_4_characters_of_a_key_match_no_key(staff, alice):
    key = api_key_rotate(user=alice)
    assert list(staff.get(LIST, {"q": key[-3:]}).context["page"].object_list) == []


def test_a_search_that_matches_nobody_says_so(staff, alice):
    response = staff.get(LIST, {"q": "nobody-like-this"})
    assert "No customer matches" in text(response)


def make_customers(count: int):
    for _ in range(count):
        customer = UserFactory()
        wallet_deposit(user=customer, amount=Decimal("5"))
        charged_order(customer, "1.00", refunded="0.50")
        api_key_rotate(user=customer)


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_takes_the_same_few_queries_however_many_customers(staff, count, django_assert_max_num_queries):
    make_customers(count)
    # The session, the staff member, their permissions (two), the pager's count, the page's customers with
    # their sums: none per customer.
    with django_assert_max_num_queries(6):
        response = staff.get(LIST)
    assert len(response.context["page"].object_list) == count


def test_the_list_shows_50_customers_a_page(staff):
    User.objects.bulk_create([User(username=f"c{n:03}", email=f"c{n}@example.com") for n in range(51)])
    first, second = staff.get(LIST), staff.get(LIST, {"page": 2})
    assert len(first.context["page"].object_list) == 50 and len(second.context["page"].object_list) == 1


# --- One customer's page ---------------------------------------------------------------------------------


def test_a_customers_page_shows_their_orders_ledger_and_payments_and_nobody_elses(staff, funded, bob, make_method,
                                                                                 make_payment):
    wallet_deposit(user=bob, amount=Decimal("10"))
    theirs, others = charged_order(funded, "2.00"), charged_order(bob, "2.00")
    method = make_method()
    payment, other_payment = make_payment(funded, method, gateway_ref="a-1"), make_payment(bob, method, gateway_ref="b-1")

    html = staff.get(page_of(funded.pk)).content.decode()

    assert f'href="{reverse("orders:detail", args=[theirs.pk])}"' in html
    assert f'href="{reverse("orders:detail", args=[others.pk])}"' not in html
    assert f'href="{reverse("staff_payments:detail", args=[payment.pk])}"' in html
    assert f'href="{reverse("staff_payments:detail", args=[other_payment.pk])}"' not in html
    own_entries = LedgerEntry.objects.filter(user=funded)
    assert {f"entry-{entry.pk}" for entry in own_entries} <= set(re.findall(r'<tr id="(entry-\d+)"', html))
    assert not any(f'id="entry-{entry.pk}"' in html for entry in LedgerEntry.objects.filter(user=bob))
    assert "8.00000" in row(html, f"entry-{own_entries.get(kind='charge').pk}")  # the balance after the charge


@pytest.mark.parametrize("orders", [1, 15])
def test_a_customers_page_takes_the_same_queries_however_many_rows_it_shows(staff, carol, funded, orders, make_method,
                                                                           make_payment, django_assert_max_num_queries):
    method = make_method()
    for n in range(orders):
        charged_order(funded, "0.10")
        make_payment(funded, method, gateway_ref=f"ref-{n}")
    customer_funds_adjust(customer=funded, amount=Decimal("1"), reason="Goodwill", staff=carol)
    # The session, the staff member, their permissions (two), the customer, orders, ledger rows, payments,
    # own rates.
    with django_assert_max_num_queries(9):
        response = staff.get(page_of(funded.pk))
    assert len(response.context["orders"]) == orders and len(response.context["payments"]) == orders


def test_a_customers_page_shows_the_api_keys_last_4_characters_never_the_key(staff, alice):
    key = api_key_rotate(user=alice)
    html = staff.get(page_of(alice.pk)).content.decode()
    assert f"…{key[-4:]}" in html
    assert key not in html and key[-5:] not in html


def test_a_customers_page_says_when_there_is_no_key(staff, alice):
    assert "none yet" in re.search(r'id="api-key-tail">(.*?)</dd>', staff.get(page_of(alice.pk)).content.decode()).group(1)


def test_a_customers_page_shows_the_flag_with_its_reason_and_the_discount(staff, alice):
    customer_flag(user_id=alice.pk, reason="Payment #4 disputed at the gateway")
    User.objects.filter(pk=alice.pk).update(discount_percent=Decimal("7.50"))
    page = text(staff.get(page_of(alice.pk)))
    assert "Payment #4 disputed at the gateway" in page and "7.50%" in page


def test_a_missing_customer_is_not_found(staff):
    assert staff.get(page_of(999999)).status_code == 404


# --- Funds -----------------------------------------------------------------------------------------------


def test_adding_funds_writes_one_adjustment_made_by_the_staff_member_and_one_audit_row(staff, carol, funded):
    entries, audits = LedgerEntry.objects.count(), AuditEntry.objects.count()
    response = staff.post(action("funds", funded.pk), {"direction": "add", "amount": "5.50", "reason": "Goodwill"},
                          follow=True)

    assert balance_of(funded) == Decimal("15.50")
    assert LedgerEntry.objects.count() == entries + 1 and AuditEntry.objects.count() == audits + 1
    entry = LedgerEntry.objects.latest("id")
    assert (entry.user, entry.kind, entry.amount, entry.note, entry.created_by) == (
        funded, "adjustment", Decimal("5.50"), "Goodwill", carol)
    audit = AuditEntry.objects.latest("id")
    assert (audit.actor, audit.action, audit.target_type, audit.target_id, audit.note) == (
        carol, "customer.funds", "user", str(funded.pk), "Goodwill")
    assert (audit.before, audit.after) == ({"balance": "10.00000"}, {"balance": "15.50000"})
    assert "5.50000 added to alice's balance; it is now 15.50000" in text(response)
    assert "carol" in row(response.content.decode(), f"entry-{entry.pk}")  # who did it, on the page
    ledger_ok()


def test_deducting_funds_writes_a_negative_adjustment(staff, carol, funded):
    response = staff.post(action("funds", funded.pk), {"direction": "deduct", "amount": "4", "reason": "Chargeback"},
                          follow=True)
    assert balance_of(funded) == Decimal("6")
    entry = LedgerEntry.objects.latest("id")
    assert (entry.kind, entry.amount, entry.balance_after, entry.created_by) == (
        "adjustment", Decimal("-4"), Decimal("6"), carol)
    assert AuditEntry.objects.get(action="customer.funds").after == {"balance": "6.00000"}
    assert "4.00000 deducted from alice's balance" in text(response)
    ledger_ok()


def test_deducting_the_whole_balance_leaves_zero(staff, funded):
    staff.post(action("funds", funded.pk), {"direction": "deduct", "amount": "10", "reason": "Closing"})
    assert balance_of(funded) == 0
    ledger_ok()


def test_deducting_more_than_the_balance_is_refused_and_nothing_is_written(staff, funded):
    entries = LedgerEntry.objects.count()
    response = staff.post(action("funds", funded.pk), {"direction": "deduct", "amount": "10.01", "reason": "Oops"},
                          follow=True)
    assert response.status_code == 200
    assert "Nothing changed" in text(response) and "does not cover" in text(response)
    assert balance_of(funded) == Decimal("10")
    assert LedgerEntry.objects.count() == entries and not AuditEntry.objects.exists()
    ledger_ok()


@pytest.mark.parametrize(("fields", "why"), [
    ({"direction": "add", "amount": "5", "reason": ""}, "Say why"),
    ({"direction": "add", "amount": "5", "reason": "   "}, "Say why"),
    ({"direction": "add", "amount": "0", "reason": "Zero"}, "above zero"),
    ({"direction": "add", "amount": "-5", "reason": "Negative"}, "above zero"),
    ({"direction": "add", "amount": "five", "reason": "Words"}, "as a number"),
    ({"direction": "add", "amount": "", "reason": "Empty"}, "as a number"),
    ({"direction": "add", "amount": "NaN", "reason": "Not a number"}, "as a number"),
    ({"direction": "add", "amount": "Infinity", "reason": "Endless"}, "as a number"),
    ({"direction": "add", "amount": "1e400", "reason": "Huge"}, "as a number"),
    ({"direction": "add", "amount": "0.000001", "reason": "Too fine"}, "as a number"),
    ({"direction": "sideways", "amount": "5", "reason": "Which way"}, "add or to deduct"),
    ({"amount": "5", "reason": "No button"}, "add or to deduct"),
])
def test_bad_funds_input_is_refused_with_a_reason_and_changes_nothing(staff, funded, fields, why):
    entries = LedgerEntry.objects.count()
    response = staff.post(action("funds", funded.pk), fields, follow=True)
    assert response.status_code == 200
    assert "Nothing changed" in text(response) and why in text(response)
    assert balance_of(funded) == Decimal("10") and LedgerEntry.objects.count() == entries
    assert not AuditEntry.objects.exists()


def test_the_funds_service_refuses_zero_and_a_missing_reason(carol, funded):
    with pytest.raises(CustomerRefused):
        customer_funds_adjust(customer=funded, amount=Decimal("0"), reason="Zero", staff=carol)
    with pytest.raises(CustomerRefused):
        customer_funds_adjust(customer=funded, amount=Decimal("1"), reason=" ", staff=carol)
    assert balance_of(funded) == Decimal("10") and not AuditEntry.objects.exists()


# --- Who may do what -------------------------------------------------------------------------------------


def test_support_sees_the_customer_pages_without_the_action_forms(client, dave, alice):
    customer_flag(user_id=alice.pk, reason="Disputed")
    client.force_login(dave)
    rendered(client.get(LIST), "<h1>Customers</h1>")
    html = client.get(page_of(alice.pk)).content.decode()
    assert "Disputed" in html
    for name in ("funds", "disable", "revoke_key", "clear_flag"):
        assert action(name, alice.pk) not in html


def test_an_admin_sees_the_action_forms(staff, alice):
    customer_flag(user_id=alice.pk, reason="Disputed")
    api_key_rotate(user=alice)
    html = staff.get(page_of(alice.pk)).content.decode()
    for name in ("funds", "disable", "revoke_key", "clear_flag"):
        assert action(name, alice.pk) in html


def test_support_is_refused_funds_and_account_actions_and_nothing_changes(client, dave, funded):
    key = api_key_rotate(user=funded)
    customer_flag(user_id=funded.pk, reason="Disputed")
    client.force_login(dave)
    posts = {"funds": {"direction": "add", "amount": "5", "reason": "x"}, "disable": {"reason": "x"},
             "enable": {}, "revoke_key": {}, "clear_flag": {}}
    for name, fields in posts.items():
        assert client.post(action(name, funded.pk), fields).status_code == 403, name
    funded.refresh_from_db()
    assert (funded.balance, funded.is_active) == (Decimal("10"), True)
    assert "balance" in api_balance(key)
    assert funded.flagged_at is not None and not AuditEntry.objects.exists()


def test_account_actions_refuse_get(staff, alice):
    for name in ("funds", "disable", "enable", "revoke_key", "clear_flag"):
        assert staff.get(action(name, alice.pk)).status_code == 405


# --- Disable and enable ----------------------------------------------------------------------------------


@pytest.fixture
def alice_browsing(alice):
    """alice logged in on her own browser."""
    browser = Client()
    browser.force_login(alice)
    rendered(browser.get(reverse("dashboard")), "<h1>Hello, alice</h1>")
    return browser


def test_disabling_sends_the_customer_to_log_in_on_their_next_page_and_refuses_their_key(staff, carol, alice,
                                                                                        alice_browsing):
    key = api_key_rotate(user=alice)
    assert "balance" in api_balance(key)

    response = staff.post(action("disable", alice.pk), {"reason": "Fraud reported"}, follow=True)

    assert "account is disabled" in text(response)
    next_page = alice_browsing.get(reverse("dashboard"))
    assert next_page.status_code == 302 and next_page["Location"].startswith(reverse("login"))
    assert api_balance(key) == {"error": INVALID_KEY}
    audit = AuditEntry.objects.get()
    assert (audit.actor, audit.action, audit.note, audit.after) == (carol, "customer.disable", "Fraud reported",
                                                                    {"is_active": False})


def test_a_disabled_customer_cannot_log_in(staff, alice):
    staff.post(action("disable", alice.pk), {"reason": "Fraud reported"})
    browser = Client()
    page = browser.post(reverse("login"), {"username": "alice", "password": "alice-pass-123"})
    assert page.status_code == 200 and "_auth_user_id" not in browser.session


def test_disabling_needs_a_reason(staff, alice):
    response = staff.post(action("disable", alice.pk), {"reason": "  "}, follow=True)
    assert "Nothing changed" in text(response) and "Say why" in text(response)
    alice.refresh_from_db()
    assert alice.is_active and not AuditEntry.objects.exists()


def test_disabling_twice_says_it_is_already_disabled(staff, alice):
    staff.post(action("disable", alice.pk), {"reason": "Fraud"})
    response = staff.post(action("disable", alice.pk), {"reason": "Again"}, follow=True)
    assert "already disabled" in text(response) and AuditEntry.objects.count() == 1


def test_enabling_lets_the_customer_log_in_and_use_the_same_key_again(staff, carol, alice):
    key = api_key_rotate(user=alice)
    staff.post(action("disable", alice.pk), {"reason": "Fraud"})
    assert "disabled" in text(staff.get(page_of(alice.pk)))

    response = staff.post(action("enable", alice.pk), follow=True)

    assert "enabled again" in text(response)
    assert "balance" in api_balance(key)
    browser = Client()
    assert browser.post(reverse("login"), {"username": "alice", "password": "alice-pass-123"}).status_code == 302
    rendered(browser.get(reverse("dashboard")), "<h1>Hello, alice</h1>")
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "customer.disable", "customer.enable"]


def test_enabling_an_active_account_is_refused(staff, alice):
    response = staff.post(action("enable", alice.pk), follow=True)
    assert "not disabled" in text(response) and not AuditEntry.objects.exists()


# --- The API key -----------------------------------------------------------------------------------------


def test_revoking_the_key_stops_it_at_once_and_the_audit_row_holds_none_of_it(staff, carol, alice):
    old = api_key_rotate(user=alice)
    assert f"…{old[-4:]}" in staff.get(page_of(alice.pk)).content.decode()
    response = staff.post(action("revoke_key", alice.pk), follow=True)

    assert api_balance(old) == {"error": INVALID_KEY}
    assert "API key is revoked" in text(response)
    html = response.content.decode()
    assert old not in html and f"…{old[-4:]}" not in html and "none yet" in html
    assert action("revoke_key", alice.pk) not in html  # nothing left to revoke
    audit = AuditEntry.objects.get()
    assert (audit.actor, audit.action, audit.target_id) == (carol, "customer.revoke_key", str(alice.pk))
    recorded = json.dumps([audit.before, audit.after, audit.note, audit.target_repr])
    assert old not in recorded and old[-4:] not in recorded


def test_the_customer_makes_a_new_key_after_a_revocation_and_it_works(staff, client, alice):
    api_key_rotate(user=alice)
    staff.post(action("revoke_key", alice.pk))
    client.force_login(alice)
    new = client.post(reverse("resellerapi:key_new")).context["new_key"]
    assert "balance" in api_balance(new)


def test_revoking_when_there_is_no_key_is_refused_and_audits_nothing(staff, alice):
    response = staff.post(action("revoke_key", alice.pk), follow=True)
    assert "no API key to revoke" in text(response) and not AuditEntry.objects.exists()


# --- The flag --------------------------------------------------------------------------------------------


def test_clearing_a_flag_takes_the_customer_off_the_flagged_list_and_is_audited(staff, carol, alice):
    customer_flag(user_id=alice.pk, reason="Payment #4 disputed")
    flagged_at = User.objects.get(pk=alice.pk).flagged_at

    response = staff.post(action("clear_flag", alice.pk), follow=True)

    alice.refresh_from_db()
    assert (alice.flagged_at, alice.flag_reason) == (None, "")
    assert "flag cleared" in text(response)
    assert 'class="flagged"' not in staff.get(LIST).content.decode()
    audit = AuditEntry.objects.get()
    assert (audit.actor, audit.action) == (carol, "customer.clear_flag")
    assert audit.before["flag_reason"] == "Payment #4 disputed"
    assert audit.before["flagged_at"].startswith(flagged_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert audit.after == {"flagged_at": None, "flag_reason": ""}


def test_clearing_a_flag_that_is_not_there_is_refused(staff, alice):
    response = staff.post(action("clear_flag", alice.pk), follow=True)
    assert "not flagged" in text(response) and not AuditEntry.objects.exists()


# --- Staff accounts are not customers --------------------------------------------------------------------


def test_the_services_refuse_staff_accounts(carol, dave):
    dave_key = api_key_rotate(user=dave)
    customer_flag(user_id=dave.pk, reason="odd")
    refusals = [
        lambda: customer_funds_adjust(customer=dave, amount=Decimal("5"), reason="Bonus", staff=carol),
        lambda: customer_disable(customer=dave, staff=carol, reason="No"),
        lambda: customer_enable(customer=dave, staff=carol),
        lambda: customer_api_key_revoke(customer=dave, staff=carol),
        lambda: customer_flag_clear(customer=dave, staff=carol),
    ]
    for refused in refusals:
        with pytest.raises(CustomerRefused, match="staff account"):
            refused()
    dave.refresh_from_db()
    assert (dave.balance, dave.is_active) == (Decimal("0"), True) and "balance" in api_balance(dave_key)
    assert dave.flagged_at is not None and not AuditEntry.objects.exists()


# --- API use ---------------------------------------------------------------------------------------------


def test_an_api_call_stamps_when_the_key_was_last_used_and_the_page_shows_it(staff, alice):
    key = api_key_rotate(user=alice)
    before = timezone.now()
    assert "never" in re.search(r'id="api-last-used">(.*?)</dd>', staff.get(page_of(alice.pk)).content.decode()).group(1)

    api_balance(key)

    used = User.objects.get(pk=alice.pk).api_last_used_at
    assert used is not None and used >= before
    shown = re.search(r'id="api-last-used">(.*?)</dd>', staff.get(page_of(alice.pk)).content.decode()).group(1)
    assert timezone.localtime(used).strftime("%Y-%m-%d %H:%M") in shown


def test_the_key_use_is_written_at_most_once_a_minute(alice, django_assert_num_queries):
    key = api_key_rotate(user=alice)
    recently = timezone.now() - timedelta(seconds=30)
    User.objects.filter(pk=alice.pk).update(api_last_used_at=recently)
    with django_assert_num_queries(1):  # the key's lookup reads the stamp too: no write
        assert "balance" in api_balance(key)
    assert User.objects.get(pk=alice.pk).api_last_used_at == recently

    a_while_ago = timezone.now() - timedelta(seconds=61)
    User.objects.filter(pk=alice.pk).update(api_last_used_at=a_while_ago)
    with django_assert_num_queries(2):  # the lookup and one UPDATE
        assert "balance" in api_balance(key)
    assert User.objects.get(pk=alice.pk).api_last_used_at > a_while_ago


def test_a_refused_key_stamps_nothing(alice):
    key = api_key_rotate(user=alice)
    api_balance(key + "x")
    assert User.objects.get(pk=alice.pk).api_last_used_at is None
