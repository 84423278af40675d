from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import LedgerEntry
from orders import mass
from orders.models import Order
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

LINK = "https://instagram.com/alice"


def verdicts(batch):
    return [(line.number, line.charge if line.ok else line.error) for line in batch.lines]


def test_parsing_skips_blank_lines_and_keeps_a_bar_inside_the_link():
    lines = mass.parse_lines("\n 7 | https://x.com/a|b | 100 \r\n\n#8|https://x.com/c|5")
    assert [(ln.number, ln.service_id, ln.link, ln.quantity) for ln in lines] == [
        (2, 7, "https://x.com/a|b", "100"), (4, 8, "https://x.com/c", "5"),
    ]


@pytest.mark.parametrize("text", ["7 https://x.com 100", "7 | https://x.com", "seven | https://x.com | 100",
                                  " | https://x.com | 100"])
def test_a_line_without_the_three_parts_is_malformed(text):
    [line] = mass.parse_lines(text)
    assert line.error.startswith("Malformed line") and "service_id | link | quantity" in line.error


def test_the_preview_gives_every_line_its_verdict_and_the_total(funded, service):
    disabled = ServiceFactory(enabled=False, provider_service__external_id="disabled")
    comments = ServiceFactory(provider_service__type="Custom Comments", provider_service__external_id="comments")
    text = "\n".join([
        f"{service.pk} | {LINK} | 1000",
        f"{service.pk} | {LINK} | 500",
        "424242 | https://x.com/a | 100",
        f"{disabled.pk} | {LINK} | 100",
        f"{service.pk} | instagram.com/alice | 100",
        f"{service.pk} | {LINK} | 5",
        f"{service.pk} | {LINK} | 10001",
        f"{service.pk} | {LINK} | lots",
        f"{comments.pk} | {LINK} | 100",
        "just some words",
    ])
    batch = mass.mass_preview(user=funded, text=text)
    assert verdicts(batch) == [
        (1, Decimal("2.00000")),
        (2, Decimal("1.00000")),
        (3, "Service 424242 does not exist."),
        (4, f"Service {disabled.pk} is not on sale."),
        (5, "Enter a full link starting with https://"),
        (6, "Quantity less than minimal 10"),
        (7, "Quantity more than maximal 10000"),
        (8, "The quantity must be a whole number."),
        (9, f"Service {comments.pk} (Custom Comments) needs more than a link and a quantity: "
            "order this service from the New order page."),
        (10, "Malformed line: expected service_id | link | quantity."),
    ]
    assert batch.total == Decimal("3.00000") and batch.covered and batch.error == ""
    assert not Order.objects.exists()


@pytest.mark.parametrize("type_", ["Package", "Poll", "Web Traffic", "Subscriptions", "SEO", "Comment Likes"])
def test_types_that_need_more_than_a_quantity_are_sent_to_the_new_order_page(funded, type_):
    other = ServiceFactory(provider_service__type=type_)
    [line] = mass.mass_preview(user=funded, text=f"{other.pk} | {LINK} | 100").lines
    assert "order this service from the New order page" in line.error


def test_the_preview_says_when_the_balance_does_not_cover_the_total(funded, service):
    batch = mass.mass_preview(user=funded, text=f"{service.pk} | {LINK} | 6000")
    assert batch.total == Decimal("12.00000") and not batch.covered


def test_more_than_500_lines_are_refused_and_nothing_is_placed(funded, service, no_broker):
    text = "\n".join(f"{service.pk} | {LINK}/{n} | 10" for n in range(501))
    batch = mass.mass_place(user=funded, text=text)
    assert batch.error == "501 lines: a mass order takes at most 500. Split it up; nothing was placed."
    assert not Order.objects.exists()
    funded.refresh_from_db()
    assert funded.balance == Decimal("10")


def test_500_lines_are_accepted(funded, service):
    text = "\n".join(f"{service.pk} | {LINK}/{n} | 10" for n in range(500))
    batch = mass.mass_preview(user=funded, text=text)
    assert batch.error == "" and len(batch.ok_lines) == 500 and batch.total == Decimal("10.00000")


def test_placing_places_the_good_lines_and_skips_the_bad_ones(funded, service, no_broker):
    text = f"{service.pk} | {LINK}/1 | 1000\n999999 | {LINK} | 10\n{service.pk} | {LINK}/2 | 500"
    batch = mass.mass_place(user=funded, text=text)
    assert [line.order.link for line in batch.placed] == [f"{LINK}/1", f"{LINK}/2"]
    assert batch.lines[1].error == "Service 999999 does not exist."
    assert batch.balance == Decimal("7.00000")
    assert Order.objects.count() == 2 and LedgerEntry.objects.filter(kind="charge").count() == 2


def test_running_out_of_balance_half_way_keeps_the_orders_placed_before(funded, service, no_broker):
    text = "\n".join(f"{service.pk} | {LINK}/{n} | 2000" for n in range(4))  # 4.00 each against 10.00
    batch = mass.mass_place(user=funded, text=text)
    assert [line.order is not None for line in batch.lines] == [True, True, False, False]
    assert [line.error for line in batch.lines[2:]] == ["Not enough funds on balance."] * 2
    funded.refresh_from_db()
    assert funded.balance == Decimal("2.00000") == batch.balance and Order.objects.count() == 2


def test_placing_empty_text_places_nothing(funded, no_broker):
    batch = mass.mass_place(user=funded, text=" \n \n")
    assert batch.error.startswith("Enter at least one line") and not Order.objects.exists()


# ------------------------------------------------------------------ the page


@pytest.fixture
def customer(client, funded):
    client.force_login(funded)
    return funded


def test_the_preview_page_lists_the_verdicts_and_offers_to_place_the_good_lines(client, customer, service):
    text = f"{service.pk} | {LINK} | 1000\n{service.pk} | {LINK} | 5"
    response = client.post(reverse("orders:mass"), {"text": text, "action": "preview"})
    html = response.content.decode()
    assert "OK: 2.00000" in html and "Quantity less than minimal 10" in html
    assert "1 of 2 line(s) OK" in html and "total 2.00000" in html and "covers it" in html
    assert 'value="place">Place 1 order</button>' in html
    assert not Order.objects.exists()


def test_placing_from_the_page_revalidates_the_text_and_reports_every_line(client, customer, service, no_broker):
    text = f"{service.pk} | {LINK} | 1000\n{service.pk} | {LINK} | 5"
    response = client.post(reverse("orders:mass"), {"text": text, "action": "place"})
    order = Order.objects.get()
    html = response.content.decode()
    assert f'href="{reverse("orders:detail", args=[order.pk])}"' in html
    assert "Placed 1 order(s)." in html and "Quantity less than minimal 10" in html
    customer.refresh_from_db()
    assert customer.balance == Decimal("8.00000")


def test_the_page_refuses_more_than_500_lines(client, customer, service, no_broker):
    text = "\n".join(f"{service.pk} | {LINK} | 10" for _ in range(501))
    html = client.post(reverse("orders:mass"), {"text": text, "action": "place"}).content.decode()
    assert "a mass order takes at most 500" in html and not Order.objects.exists()


def test_the_mass_page_escapes_what_was_typed(client, customer):
    html = client.post(reverse("orders:mass"), {"text": "<script>alert(1)</script>", "action": "preview"}).content
    assert b"<script>alert(1)</script>" not in html and b"&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_mass_page_needs_a_login(client):
    assert client.get(reverse("orders:mass")).status_code == 302


def test_sending_the_confirmed_mass_order_twice_places_it_once(client, funded, service, no_broker):
    from accounts.models import LedgerEntry
    from orders.models import Order

    client.force_login(funded)
    text = f"{service.pk} | https://x.com/once | 100\n{service.pk} | https://x.com/twice | 100"
    form = {"text": text, "action": "place", "batch_id": "a" * 32}
    client.post("/orders/mass/", form)
    client.post("/orders/mass/", form)  # a refresh that re-sends the POST
    assert Order.objects.count() == 2 and LedgerEntry.objects.filter(kind="charge").count() == 2
