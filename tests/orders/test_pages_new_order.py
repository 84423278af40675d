import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import LedgerEntry
from orders.models import Order
from tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db

LINK = "https://instagram.com/alice"
EVERY_TYPE_FIELD = {
    "quantity", "runs", "interval", "comments", "usernames", "hashtags", "hashtag", "username", "media", "keywords",
    "country", "device", "type_of_traffic", "google_keyword", "referring_url", "answer_number", "min", "max",
    "posts", "old_posts", "delay", "expiry",
}
# Per type: the inputs the page must offer (besides link), and valid values for them.
TYPES = {
    "Default": {"quantity": "100"},
    "Package": {},
    "Custom Comments": {"comments": "nice\ngreat\nwow"},
    "Custom Comments Package": {"comments": "nice\ngreat"},
    "Web Traffic": {"quantity": "100", "country": "US", "device": "1", "type_of_traffic": "1",
                    "google_keyword": "shoes", "referring_url": ""},
    "Poll": {"quantity": "100", "answer_number": "2"},
    "Subscriptions": {"username": "alice", "min": "10", "max": "20", "posts": "3", "old_posts": "0", "delay": "0",
                      "expiry": "31/12/2030"},
    "Mentions": {"quantity": "100", "usernames": "bob\ncarol"},
    "Mentions with Hashtags": {"quantity": "100", "usernames": "bob", "hashtags": "#sun"},
    "Mentions Custom List": {"usernames": "bob\ncarol\ndave"},
    "Mentions Hashtag": {"quantity": "100", "hashtag": "#sun"},
    "Mentions User Followers": {"quantity": "100", "username": "bob"},
    "Mentions Media Likers": {"quantity": "100", "media": "https://instagram.com/p/1"},
    "SEO": {"quantity": "100", "keywords": "running shoes"},
    "Comment Likes": {"quantity": "100", "username": "bob"},
    "Comment Replies": {"username": "bob", "comments": "thanks\nagreed"},
}
TEXTAREAS = {"comments", "usernames", "hashtags", "keywords"}
SELECTS = {"device", "type_of_traffic", "delay"}


def make_service(type_="Default", **kwargs):
    return ServiceFactory(provider_service__type=type_, provider_service__min_quantity=1, **kwargs)


def field_block(html, name):
    """The markup of one input's block on the page: label, input, help and errors."""
    match = re.search(rf'<div class="field[^"]*" id="field-{name}">(.*?)</div>\s*</div>|'
                      rf'<div class="field[^"]*" id="field-{name}">(.*?)</ul>', html, re.S)
    assert match, f"no block for {name}"
    return match.group(0)


@pytest.fixture
def customer(client, funded):
    client.force_login(funded)
    return funded


@pytest.mark.parametrize("type_", TYPES)
def test_the_new_order_page_shows_exactly_the_inputs_of_the_services_type(client, customer, type_):
    service = make_service(type_)
    html = client.get(reverse("orders:new"), {"service": service.pk}).content.decode()
    wanted = set(TYPES[type_]) - ({"runs", "interval"} if type_ in ("Default", "Web Traffic") else set())
    assert 'name="link"' in html
    for name in wanted:
        tag = "textarea" if name in TEXTAREAS else "select" if name in SELECTS else "input"
        assert re.search(rf'<{tag}[^>]* name="{name}"', html), name
    for name in EVERY_TYPE_FIELD - wanted:
        assert f'name="{name}"' not in html, name


@pytest.mark.parametrize("type_", TYPES)
def test_every_service_type_can_be_ordered_from_the_page(client, customer, no_broker, type_):
    service = make_service(type_)
    response = client.post(reverse("orders:new"), {"service": service.pk, "link": LINK, **TYPES[type_]})
    assert response.status_code == 302, response.context["form"].errors
    order = Order.objects.get()
    assert response.url == reverse("orders:detail", args=[order.pk]) and order.service == service


def test_a_drip_feed_service_offers_runs_and_interval(client, customer):
    service = make_service(provider_service__dripfeed=True)
    html = client.get(reverse("orders:new"), {"service": service.pk}).content.decode()
    assert 'name="runs"' in html and 'name="interval"' in html


def test_the_service_select_lists_enabled_services_with_their_rate_and_preselects_the_asked_one(client, customer):
    shown = make_service(name="IG Followers")
    make_service(name="Hidden Likes", enabled=False)
    html = client.get(reverse("orders:new"), {"service": shown.pk}).content.decode()
    assert f'<option value="{shown.pk}" selected>#{shown.pk} IG Followers — 2.00000 per 1000</option>' in html
    assert "Hidden Likes" not in html


def test_asking_for_a_service_that_is_not_on_sale_says_so(client, customer):
    hidden = make_service(name="Hidden Likes", enabled=False)
    response = client.get(reverse("orders:new"), {"service": hidden.pk})
    assert "That service is not on sale" in response.content.decode() and response.context["service_id"] is None


def test_a_package_shows_its_price_per_package(client, customer):
    package = make_service("Package", name="Starter pack")
    html = client.get(reverse("orders:new")).content.decode()
    assert f"#{package.pk} Starter pack — 2.00000 per package" in html


def test_posting_a_valid_order_charges_the_balance_and_redirects_to_the_order(client, customer, no_broker):
    service = make_service()
    response = client.post(reverse("orders:new"), {"service": service.pk, "link": f"  {LINK}  ", "quantity": "1000"},
                           follow=True)
    order = Order.objects.get()
    assert response.redirect_chain == [(reverse("orders:detail", args=[order.pk]), 302)]
    assert (order.link, order.charge, order.user) == (LINK, Decimal("2.00000"), customer)
    customer.refresh_from_db()
    assert customer.balance == Decimal("8.00000")
    assert f"Order #{order.pk} placed" in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "Quantity less than minimal 10"),
        ({"quantity": "-5"}, "quantity", "Quantity less than minimal 10"),
        ({"quantity": "10001"}, "quantity", "Quantity more than maximal 10000"),
        ({"quantity": "ten"}, "quantity", "The quantity must be a whole number."),
        ({"quantity": ""}, "quantity", "Enter the quantity."),
        ({"link": ""}, "link", "Enter the link."),
        ({"link": "   "}, "link", "Enter the link."),
        ({"link": "https://x.com/" + "a" * 2000}, "link", "The link is longer than 2000 characters."),
        ({"link": "instagram.com/alice"}, "link", "Enter a full link starting with https://"),
    ],
)
def test_bad_input_re_renders_with_the_message_next_to_its_field_and_charges_nothing(
    client, customer, service, no_broker, fields, field, message
):
    posted = {"service": service.pk, "link": LINK, "quantity": "1000", **fields}
    response = client.post(reverse("orders:new"), posted)
    assert response.status_code == 200
    assert message in field_block(response.content.decode(), field)
    assert response.context["form"].errors[field] == [message]
    customer.refresh_from_db()
    assert customer.balance == Decimal("10") and not Order.objects.exists()
    assert not LedgerEntry.objects.filter(kind="charge").exists()


def test_values_are_kept_when_the_form_comes_back(client, customer, service, no_broker):
    html = client.post(reverse("orders:new"), {"service": service.pk, "link": LINK, "quantity": "5"}).content.decode()
    assert f'value="{LINK}"' in html and 'value="5"' in html
    assert f'<option value="{service.pk}" selected>' in html


@pytest.mark.parametrize("service_id", ["disabled", "999999", "abc", "", "99999999999999999999999"])
def test_a_service_that_is_not_on_sale_is_refused_next_to_the_service_select(client, customer, service, no_broker,
                                                                             service_id):
    if service_id == "disabled":
        service.enabled = False
        service.save()
        service_id = service.pk
    response = client.post(reverse("orders:new"), {"service": service_id, "link": LINK, "quantity": "1000"})
    assert response.status_code == 200
    assert response.context["form"].errors["service"] == ["Choose a service that is on sale."]
    html = response.content.decode()
    assert re.search(r'<select name="service".*?Choose a service that is on sale\.', html, re.S)
    assert not Order.objects.exists()


def test_an_order_above_the_balance_is_refused_above_the_form(client, customer, service, no_broker):
    response = client.post(reverse("orders:new"), {"service": service.pk, "link": LINK, "quantity": "6000"})
    assert response.context["form"].non_field_errors() == ["Not enough funds on balance."]
    assert "Not enough funds on balance." in response.content.decode() and not Order.objects.exists()


def test_without_javascript_the_choose_button_shows_the_services_fields_and_places_nothing(client, customer):
    comments = make_service("Custom Comments")
    response = client.post(reverse("orders:new"), {"service": comments.pk, "choose": "1", "link": LINK})
    html = response.content.decode()
    assert '<textarea name="comments"' in html and f'value="{LINK}"' in html and not Order.objects.exists()
    assert "Enter the" not in html  # choosing is not a failed order


def test_the_new_order_page_needs_a_login(client):
    response = client.get(reverse("orders:new"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# ------------------------------------------------------------------ HTMX fragments


def quote(client, **fields):
    response = client.post(reverse("orders:quote"), fields, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_the_live_charge_of_a_default_order(client, customer, service):
    html = quote(client, service=service.pk, link=LINK, quantity="1500")
    assert "3.00000" in html and "quote-problem" not in html


def test_the_live_charge_of_a_drip_feed_order_is_quantity_times_runs(client, customer):
    service = make_service(provider_service__dripfeed=True)
    html = quote(client, service=service.pk, link=LINK, quantity="1000", runs="3", interval="60")
    assert "6.00000" in html and "1000 × 3 runs = 3000" in html


def test_the_live_charge_of_custom_comments_counts_the_lines(client, customer):
    service = make_service("Custom Comments", rate=Decimal("1000"))
    html = quote(client, service=service.pk, link=LINK, comments="one\r\ntwo\n\n  \nthree\n")
    assert "3.00000" in html


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("5", "Quantity less than minimal 10"), ("ten", "The quantity must be a whole number."),
     ("", "Enter the quantity.")],
)
def test_the_live_charge_shows_the_problem_with_a_200(client, customer, service, quantity, message):
    html = quote(client, service=service.pk, link=LINK, quantity=quantity)
    assert f'<p class="quote-problem">{message}</p>' in html and "Charge:" not in html


def test_a_bad_link_is_named_beside_the_live_charge(client, customer, service):
    html = quote(client, service=service.pk, link="nope", quantity="100")
    assert "Enter a full link starting with https://" in html and "0.20000" in html


def test_the_live_charge_is_shown_before_the_link_is_typed(client, customer, service):
    html = quote(client, service=service.pk, link="", quantity="1000")
    assert "2.00000" in html and "Enter the link." in html


def test_a_live_problem_is_labelled_with_its_input_unless_the_message_names_it(client, customer):
    subscription = make_service("Subscriptions")
    fields = {"service": subscription.pk, "username": "bob", "min": "30", "max": "20", "posts": "1", "delay": "0"}
    assert "Max per post: Max must not be below min." in quote(client, **fields)
    html = quote(client, **{**fields, "max": "40", "delay": "7"})
    assert '<p class="quote-problem">Choose a valid delay.</p>' in html


def test_the_live_charge_says_when_the_balance_does_not_cover_it(client, customer, service):
    assert "does not cover it" in quote(client, service=service.pk, link=LINK, quantity="6000")


def test_the_live_charge_for_no_service_asks_for_one(client, customer):
    assert "Choose a service" in quote(client, service="12345", link=LINK, quantity="100")


def test_picking_a_category_returns_only_its_services_on_sale(client, customer):
    tiktok = CategoryFactory(name="TikTok")
    views = make_service(name="TT Views", category=tiktok)
    make_service(name="TT Hidden", category=tiktok, enabled=False)
    make_service(name="IG Followers")
    html = client.get(reverse("orders:service_options"), {"category": tiktok.pk}).content.decode()
    assert "TT Views" in html and f'value="{views.pk}"' in html
    assert "IG Followers" not in html and "TT Hidden" not in html
    assert 'id="order-fields" hx-swap-oob="innerHTML"' in html


def test_picking_a_service_returns_its_types_fields(client, customer):
    poll = make_service("Poll")
    html = client.get(reverse("orders:service_fields"), {"service": poll.pk}).content.decode()
    assert 'name="answer_number"' in html and 'name="quantity"' in html and 'id="quote"' in html
    assert "Min 1 · max 10000" in html


def test_the_fields_of_a_disabled_service_are_not_offered(client, customer):
    hidden = make_service("Poll", enabled=False)
    html = client.get(reverse("orders:service_fields"), {"service": hidden.pk}).content.decode()
    assert 'name="answer_number"' not in html and "Choose a service" in html


def test_a_script_in_a_service_name_is_shown_escaped(client, customer):
    make_service(name="<script>alert(1)</script>", description="<b>bold</b>")
    html = client.get(reverse("orders:new")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
