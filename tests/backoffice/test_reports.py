"""Reports (per day and per service, category, provider, customer), their SVG charts and the CSV exports."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.query import QuerySet
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry, User
from accounts.services import wallet_adjust, wallet_deposit
from backoffice import charts, exports, reports
from backoffice.reports import Row
from orders.models import Order
from payments.models import Payment
from tests.catalog.staff_fixtures import make_provider, make_service
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

D = Decimal
MARCH_1, MARCH_7 = date(2025, 3, 1), date(2025, 3, 7)
WEEK = {"date_from": "2025-03-01", "date_to": "2025-03-07"}


@pytest.fixture(autouse=True)
def _utc(settings):
    settings.TIME_ZONE = "UTC"
    settings.PANEL_CURRENCY = "USD"


@pytest.fixture
def staff(client, carol):
    client.force_login(carol)
    return client


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=UTC)


def order(when: datetime, **fields) -> Order:
    placed = OrderFactory(**fields)
    Order.objects.filter(pk=placed.pk).update(created_at=when)
    placed.refresh_from_db()
    return placed


@pytest.fixture
def shop(alice, bob):
    """Two providers, two categories, three services; seven orders from 1 to 5 March (none on the 2nd, 4th,
    6th or 7th), some refunded in part or in full, two without a known cost; two more just outside the week."""
    alpha, beta = make_provider("Alpha"), make_provider("Beta")
    followers = make_service(alpha, name="IG Followers", category="Instagram")
    likes = make_service(beta, name="IG Likes", category="Instagram")
    views = make_service(beta, name="TT Views", category="TikTok")
    o = {
        "a1": order(at(1, 9), user=alice, service=followers, charge=D("10"), cost=D("6"), status="Completed"),
        "b1": order(at(1, 23, 59, 59), user=bob, service=likes, charge=D("4.5"), cost=None),
        "a3": order(at(3, 0, 0, 0), user=alice, service=views, charge=D("3"), refunded=D("3"), cost=None,
                    status="Canceled", state="canceled"),
        "b3": order(at(3, 15), user=bob, service=followers, charge=D("8"), refunded=D("2"), cost=D("4.8"),
                    status="Partial"),
        "b5": order(at(5, 8), user=bob, service=views, charge=D("0.00003"), cost=D("0.00001")),
        "a5": order(at(5, 10), user=alice, service=likes, charge=D("1.23456"), refunded=D("0.23456"),
                    cost=D("1.5"), status="Completed"),
        "a5b": order(at(5, 23, 59, 59), user=alice, service=followers, charge=D("2"), cost=D("1")),
        # Outside 1–7 March by a second either way.
        "before": order(at(28, 23, 59, 59, month=2), user=alice, service=followers, charge=D("100"), cost=D("1")),
        "after": order(at(8, 0, 0, 0), user=bob, service=followers, charge=D("100"), cost=D("1")),
    }
    return {"orders": o, "services": (followers, likes, views), "providers": (alpha, beta)}


def figures(row: Row) -> tuple:
    return (row.orders, row.revenue, row.cost, row.profit, row.no_cost)


# --- The figures -------------------------------------------------------------------------------------------

def test_per_day_figures_with_empty_days_filled_with_zeros(shop):
    result = reports.report(date_from=MARCH_1, date_to=MARCH_7, group="day")
    assert [row.key for row in result.rows] == [date(2025, 3, day) for day in range(1, 8)]
    assert [figures(row) for row in result.rows] == [
        (2, D("14.50000"), D("6.00000"), D("8.50000"), 1),
        (0, D("0"), D("0"), D("0"), 0),
        (2, D("6.00000"), D("4.80000"), D("1.20000"), 1),  # the canceled order counts, with zero revenue
        (0, D("0"), D("0"), D("0"), 0),
        (3, D("3.00003"), D("2.50001"), D("0.50002"), 0),  # exact to the last of 5 places
        (0, D("0"), D("0"), D("0"), 0),
        (0, D("0"), D("0"), D("0"), 0),
    ]
    assert all(isinstance(value, Decimal) for row in result.rows for value in figures(row)[1:4])
    assert result.more is False


def test_totals_of_the_range(shop):
    totals = reports.report(date_from=MARCH_1, date_to=MARCH_7).totals
    assert (totals.orders, totals.charged, totals.refunded) == (7, D("28.73459"), D("5.23456"))
    assert figures(totals) == (7, D("23.50003"), D("13.30001"), D("10.20002"), 2)


@pytest.mark.parametrize(("group", "expected"), [
    ("service", [("IG Followers", 3, D("18.00000"), D("11.80000"), D("6.20000"), 0),
                 ("IG Likes", 2, D("5.50000"), D("1.50000"), D("4.00000"), 1),
                 ("TT Views", 2, D("0.00003"), D("0.00001"), D("0.00002"), 1)]),
    ("category", [("Instagram", 5, D("23.50000"), D("13.30000"), D("10.20000"), 1),
                  ("TikTok", 2, D("0.00003"), D("0.00001"), D("0.00002"), 1)]),
    ("provider", [("Alpha", 3, D("18.00000"), D("11.80000"), D("6.20000"), 0),
                  ("Beta", 4, D("5.50003"), D("1.50001"), D("4.00002"), 2)]),
    ("customer", [("alice", 4, D("13.00000"), D("8.50000"), D("4.50000"), 1),
                  ("bob", 3, D("10.50003"), D("4.80001"), D("5.70002"), 1)]),
])
def test_figures_by_grouping_ordered_by_revenue(shop, group, expected):
    result = reports.report(date_from=MARCH_1, date_to=MARCH_7, group=group)
    assert [(row.label, *figures(row)) for row in result.rows] == expected
    assert figures(result.totals) == (7, D("23.50003"), D("13.30001"), D("10.20002"), 2)  # same whatever the group


def test_the_provider_is_the_one_the_order_was_placed_with(shop):
    followers = shop["services"][0]
    beta = shop["providers"][1]
    order(at(6), user=User.objects.get(username="alice"), service=followers, provider=beta, charge=D("1"), cost=None)
    rows = reports.report(date_from=MARCH_1, date_to=MARCH_7, group="provider").rows
    assert [(row.label, row.orders, row.revenue) for row in rows] == [("Alpha", 3, D("18.00000")),
                                                                      ("Beta", 5, D("6.50003"))]


def test_only_the_top_100_groups_are_listed(alice):
    provider = make_provider("Many")
    services = [make_service(provider, name=f"S{n:03}", category="Many") for n in range(101)]
    for n, service in enumerate(services):
        order(at(2), user=alice, service=service, charge=D(n + 1), cost=None)
    result = reports.report(date_from=MARCH_1, date_to=MARCH_7, group="service")
    assert len(result.rows) == 100 and result.more is True
    assert (result.rows[0].label, result.rows[0].revenue) == ("S100", D("101.00000"))
    assert result.rows[-1].label == "S001"  # S000 (revenue 1) is the 101st
    assert result.totals.orders == 101 and result.totals.revenue == D("5151.00000")


def test_days_are_the_panels_time_zone(settings, alice):
    settings.TIME_ZONE = "Asia/Tokyo"  # UTC+9 all year
    service = make_service(make_provider("Alpha"))
    order(at(1, 15, 30), user=alice, service=service, charge=D("5"), cost=D("1"))  # 2 March, 00:30 in Tokyo
    days = reports.report(date_from=MARCH_1, date_to=date(2025, 3, 2)).rows
    assert [(row.key, row.orders, row.revenue) for row in days] == [(MARCH_1, 0, D("0")),
                                                                    (date(2025, 3, 2), 1, D("5.00000"))]
    assert reports.report(date_from=MARCH_1, date_to=MARCH_1).totals.orders == 0


@pytest.fixture
def five_of_each(db):
    """Five services (in two categories) of one provider, and five customers, without orders yet."""
    provider = make_provider("Alpha")
    services = [make_service(provider, name=f"Service {n}", category=f"Category {n % 2}") for n in range(5)]
    users = [User.objects.create_user(f"customer{n}", password="x") for n in range(5)]
    return services, users


def add_orders(five_of_each, count: int) -> None:
    services, users = five_of_each
    for n in range(count):
        order(at(1 + n % 7, 10), user=users[n % 5], service=services[(n // 5) % 5], charge=D("1.5"),
              cost=None if n % 3 else D("1"))


@pytest.mark.parametrize("count", [5, 50])
@pytest.mark.parametrize("group", [name for name, _ in reports.GROUPINGS])
def test_a_report_takes_two_queries_whatever_the_number_of_orders(django_assert_max_num_queries, five_of_each,
                                                                   count, group):
    add_orders(five_of_each, count)
    with django_assert_max_num_queries(2):
        result = reports.report(date_from=MARCH_1, date_to=MARCH_7, group=group)
    assert result.totals.orders == count and result.totals.revenue == D("1.5") * count


@pytest.mark.parametrize("group", [name for name, _ in reports.GROUPINGS])
def test_the_page_takes_as_many_queries_for_50_orders_as_for_5(staff, five_of_each, group):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get(reverse("backoffice:reports"), {**WEEK, "group": group}).status_code == 200
        return len(ctx)

    add_orders(five_of_each, 5)
    few = queries()
    add_orders(five_of_each, 45)
    assert Order.objects.count() == 50 and queries() == few


# --- The page ----------------------------------------------------------------------------------------------

def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def test_the_page_shows_totals_definitions_chart_and_rows(staff, shop):
    response = staff.get(reverse("backoffice:reports"), WEEK)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reports 2025-03-01 to 2025-03-07" in html
    assert "charge − refunded" in html and "revenue − cost" in html and "counts as 0" in html
    assert "2 of the 7 orders have no known cost" in html
    totals = re.search(r'id="report-totals".*?</section>', html, flags=re.S).group(0)
    for figure in ("23.50003", "13.30001", "10.20002", "28.73459", "5.23456"):
        assert figure in totals
    revenue_chart, profit_chart = _svgs(html)
    for day in range(1, 8):
        assert f"2025-03-0{day}: " in revenue_chart and f"2025-03-0{day}: " in profit_chart
    assert "<title>2025-03-05: 3.00003 USD</title>" in revenue_chart
    assert "<title>2025-03-02: 0.00000 USD</title>" in revenue_chart
    assert 'role="img"' in revenue_chart and 'viewBox="0 0 ' in revenue_chart and "<desc " in revenue_chart
    table = re.search(r'id="report-table".*?</table>', html, flags=re.S).group(0)
    assert table.count("<tr>") == 1 + 7  # the head and one row per day


def test_the_page_links_the_exports_of_the_same_range(staff, shop):
    html = staff.get(reverse("backoffice:reports"), WEEK).content.decode()
    for kind in ("orders", "ledger", "payments"):
        assert f'href="/staff/exports/{kind}.csv?date_from=2025-03-01&amp;date_to=2025-03-07"' in html


def test_a_grouped_page_lists_rows_and_ranks_them_in_a_chart(staff, shop):
    html = staff.get(reverse("backoffice:reports"), {**WEEK, "group": "provider"}).content.decode()
    table = re.search(r'id="report-table".*?</table>', html, flags=re.S).group(0)
    assert table.index("Alpha") < table.index("Beta") and "5.50003" in table and "4.00002" in table
    (ranking,) = _svgs(html)
    assert "<title>Alpha: 18.00000 USD</title>" in ranking and "<title>Beta: 5.50003 USD</title>" in ranking


def test_the_default_range_is_the_last_30_days(staff):
    response = staff.get(reverse("backoffice:reports"))
    assert response.status_code == 200
    rows = response.context["report"].rows
    today = timezone.localdate()
    assert len(rows) == 30 and rows[-1].key == today and rows[0].key == today - timedelta(days=29)
    html = response.content.decode()  # the form shows the days in effect
    assert f'value="{today - timedelta(days=29):%Y-%m-%d}"' in html and f'value="{today:%Y-%m-%d}"' in html


def test_a_service_name_holding_html_is_escaped_in_the_chart_and_the_table(staff, alice):
    service = make_service(make_provider("Alpha"), name="<script>alert(1)</script>")
    order(at(2), user=alice, service=service, charge=D("1"), cost=None)
    html = staff.get(reverse("backoffice:reports"), {**WEEK, "group": "service"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    (ranking,) = _svgs(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ranking


@pytest.mark.parametrize(("query", "message"), [
    ({"date_from": "2025-03-08", "date_to": "2025-03-01"}, "The first day (2025-03-08) is after the last day (2025-03-01)."),
    ({"date_from": "yesterday"}, "From: Enter the first day as a date, e.g. 2025-01-31."),
    ({"date_to": "2025-02-30"}, "To: Enter the last day as a date, e.g. 2025-01-31."),
    ({"date_from": "2023-01-01", "date_to": "2025-01-01"}, "Pick at most 366 days at a time."),
    ({"group": "planet"}, "Group by: Select a valid choice."),
])
def test_a_bad_range_is_refused_with_a_message(staff, query, message):
    response = staff.get(reverse("backoffice:reports"), query)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "report" not in response.context
    assert "<svg" not in html


def test_support_sees_reports_and_may_export_orders_but_not_money(client, dave, shop):
    client.force_login(dave)
    page = client.get(reverse("backoffice:reports"), WEEK)
    assert page.status_code == 200
    html = page.content.decode()
    assert "/staff/exports/orders.csv" in html and "/staff/exports/ledger.csv" not in html
    assert client.get(reverse("backoffice:export", args=["orders"]), WEEK).status_code == 200
    assert client.get(reverse("backoffice:export", args=["ledger"]), WEEK).status_code == 403
    assert client.get(reverse("backoffice:export", args=["payments"]), WEEK).status_code == 403


def test_an_unknown_export_is_not_found(staff):
    assert staff.get(reverse("backoffice:export", args=["users"])).status_code == 404
    assert staff.get("/staff/exports/orders.txt").status_code == 404


def test_customers_get_no_report_nor_export(client, alice):
    client.force_login(alice)
    assert client.get(reverse("backoffice:reports")).status_code == 403
    assert client.get(reverse("backoffice:export", args=["orders"])).status_code == 403


# --- The charts --------------------------------------------------------------------------------------------

def test_a_day_chart_has_every_day_and_escapes_its_text():
    days = [(date(2025, 1, 1) + timedelta(days=n), D(n) - D("2.5")) for n in range(40)]
    svg = charts.day_chart(days, kind="bar", chart_id="c1", title="<script>alert(1)</script>",
                           description="a & b", unit="USD")
    assert "<script>" not in svg and "<title id=\"c1-title\">&lt;script&gt;alert(1)&lt;/script&gt;</title>" in svg
    assert "<desc id=\"c1-desc\">a &amp; b</desc>" in svg
    for day, value in days:
        assert f"<title>{day.isoformat()}: {value.quantize(D('0.00001'))} USD</title>" in svg
    assert svg.count("<rect ") == 40
    assert 'fill="#c0392b"' in svg  # the days below zero
    line = charts.day_chart(days, kind="line", chart_id="c2", title="t", description="d")
    assert line.count("<circle ") == 40 and "<polyline " in line


def test_chart_axes_are_round_figures_written_from_decimals():
    assert charts.nice_step(D("14.5")) == D("5")
    assert charts.nice_step(D("0.00003")) == D("0.00001")
    assert charts.value_axis([D("14.5"), D("-3")]) == (D("-5"), D("15"), D("5"))
    assert charts.value_axis([]) == (D("0"), D("1"), D("0.5"))
    assert charts.tick_text(D("1500")) == "1,500" and charts.tick_text(D("0.00001")) == "0.00001"
    svg = charts.day_chart([(MARCH_1, D("0.00003"))], title="t", description="d", chart_id="c")
    assert not re.search(r"\d[eE][+-]?\d", svg)  # no exponent anywhere, as a float or a Decimal would write
    assert ">0.00003<" in svg


def test_a_ranking_chart_shortens_long_names_but_keeps_them_whole_in_the_title():
    name = "A very long service name that goes on & on <b>"
    svg = charts.ranking_chart([(name, D("3")), ("Short", D("1"))], title="t", description="d", chart_id="r")
    assert ">A very long service name th…</text>" in svg
    assert "<title>A very long service name that goes on &amp; on &lt;b&gt;: 3.00000</title>" in svg


# --- The exports -------------------------------------------------------------------------------------------

def _csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_orders_export_header_and_rows_exact(staff, alice):
    service = make_service(make_provider("Alpha"), name="IG Followers")
    first = order(at(1, 9, 30), user=alice, service=service, charge=D("2"), cost=None, external_id="X-1",
                  link='=HYPERLINK("https://evil.example","click")', quantity=1000)
    second = order(at(7, 23, 59, 59), user=alice, service=service, charge=D("1.23456"), refunded=D("0.5"),
                   cost=D("0.1"), status="Partial", link="-1", external_id="@SUM(A1)")
    order(at(8), user=alice, service=service, charge=D("9"))  # the day after the range
    response = staff.get(reverse("backoffice:export", args=["orders"]), WEEK)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="orders_2025-03-01_2025-03-07.csv"'
    assert _csv(response) == [
        ["id", "created_at", "username", "service", "provider", "link", "quantity", "charge", "refunded", "cost",
         "status", "state", "provider_order_id"],
        [str(first.pk), "2025-03-01T09:30:00+00:00", "alice", "IG Followers", "Alpha",
         '\'=HYPERLINK("https://evil.example","click")', "1000", "2.00000", "0.00000", "", "Pending", "placed", "X-1"],
        [str(second.pk), "2025-03-07T23:59:59+00:00", "alice", "IG Followers", "Alpha", "-1", "1000", "1.23456",
         "0.50000", "0.10000", "Partial", "placed", "'@SUM(A1)"],
    ]


def test_export_times_are_in_the_panels_time_zone(settings, staff, alice):
    settings.TIME_ZONE = "Asia/Tokyo"
    service = make_service(make_provider("Alpha"))
    placed = order(at(1, 15, 30), user=alice, service=service)  # 2 March 00:30 in Tokyo
    rows = _csv(staff.get(reverse("backoffice:export", args=["orders"]), {"date_from": "2025-03-02",
                                                                          "date_to": "2025-03-02"}))
    assert [row[:2] for row in rows[1:]] == [[str(placed.pk), "2025-03-02T00:30:00+09:00"]]


def test_ledger_export_header_and_rows_exact(staff, alice, carol):
    deposit = wallet_deposit(user=alice, amount=D("10"), note="=cmd|' /C calc'!A0")
    adjust = wallet_adjust(user=alice, amount=D("-2.5"), note="-2.5 taken, see ticket", created_by=carol)
    LedgerEntry.objects.filter(pk=deposit.pk).update(created_at=at(2))
    LedgerEntry.objects.filter(pk=adjust.pk).update(created_at=at(3))
    response = staff.get(reverse("backoffice:export", args=["ledger"]), WEEK)
    assert response["Content-Disposition"] == 'attachment; filename="ledger_2025-03-01_2025-03-07.csv"'
    assert _csv(response) == [
        ["id", "created_at", "username", "kind", "amount", "balance_after", "order_id", "payment_id", "note"],
        [str(deposit.pk), "2025-03-02T12:00:00+00:00", "alice", "deposit", "10.00000", "10.00000", "", "",
         "'=cmd|' /C calc'!A0"],
        [str(adjust.pk), "2025-03-03T12:00:00+00:00", "alice", "adjustment", "-2.50000", "7.50000", "", "",
         "'-2.5 taken, see ticket"],
    ]


def test_payments_export_header_and_rows_exact(staff, alice, make_method, make_payment):
    method = make_method("manual", name="+Bank", instructions="IBAN")
    payment = make_payment(alice, method, amount="10.00", fee="0.5", bonus="1", status=Payment.Status.PAID,
                           credited=D("10"), bonus_credited=D("1"), paid_at=at(4, 13))
    Payment.objects.filter(pk=payment.pk).update(created_at=at(4, 12))
    assert _csv(staff.get(reverse("backoffice:export", args=["payments"]), WEEK)) == [
        ["id", "created_at", "username", "method", "gateway", "amount", "fee", "total", "bonus", "currency",
         "status", "credited", "bonus_credited", "taken_back", "paid_at"],
        [str(payment.pk), "2025-03-04T12:00:00+00:00", "alice", "'+Bank", "manual", "10.00000", "0.50000",
         "10.50000", "1.00000", "USD", "paid", "10.00000", "1.00000", "0.00000", "2025-03-04T13:00:00+00:00"],
    ]


@pytest.mark.parametrize(("text", "written"), [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\r=1", "'\r=1"), ("-12.5", "-12.5"), ("+3", "+3"), ("-1e3", "-1e3"), ("a=b", "a=b"), ("", ""),
    ("- 1", "'- 1"), ("-NaN", "'-NaN"), ("https://x.com/a", "https://x.com/a"),
])
def test_formula_injection_guard(text, written):
    assert exports.safe_text(text) == written


def test_a_bad_export_range_is_refused_with_a_message(staff):
    response = staff.get(reverse("backoffice:export", args=["orders"]), {"date_from": "2025-03-08",
                                                                         "date_to": "2025-03-01"})
    assert response.status_code == 400
    assert "is after the last day" in response.content.decode()
    response = staff.get(reverse("backoffice:export", args=["orders"]), {"date_from": "soon"})
    assert response.status_code == 400 and "Enter the first day as a date" in response.content.decode()


def test_an_export_reads_nothing_until_it_is_streamed(staff, alice, django_assert_num_queries):
    service = make_service(make_provider("Alpha"))
    order(timezone.now(), user=alice, service=service)
    with django_assert_num_queries(0):
        response = exports.export_response("orders", date_from=MARCH_1, date_to=MARCH_7)
    with CaptureQueriesContext(connection) as streamed:
        assert len(list(response.streaming_content)) == 1
    # One read of the orders (on PostgreSQL within a transaction of its own that tells the planner so).
    reads = [q["sql"] for q in streamed.captured_queries if "SELECT" in q["sql"].upper()]
    assert len(reads) == 1 and "orders_order" in reads[0]


def test_a_large_export_streams_in_chunks_before_the_queryset_is_read(staff, alice, monkeypatch):
    service = make_service(make_provider("Alpha"))
    template = OrderFactory.build(user=alice, service=service, link="https://x.com/" + "a" * 100)
    fields = {f.attname: getattr(template, f.attname) for f in Order._meta.concrete_fields if f.attname != "id"}
    Order.objects.bulk_create([Order(**{**fields, "external_id": f"E{n}"}) for n in range(5000)], batch_size=1000)

    read = {"rows": 0, "chunk_size": None}
    real_iterator = QuerySet.iterator

    def counting_iterator(self, chunk_size=None):
        read["chunk_size"] = chunk_size
        for row in real_iterator(self, chunk_size=chunk_size):
            read["rows"] += 1
            yield row

    monkeypatch.setattr(QuerySet, "iterator", counting_iterator)
    response = staff.get(reverse("backoffice:export", args=["orders"]))
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert read["chunk_size"] == 2000
    assert 0 < read["rows"] < 5000  # the first piece went out with most rows still unread
    assert first.startswith(b"id,created_at,username,")
    rest = list(chunks)
    assert read["rows"] == 5000 and len(rest) >= 10
    lines = b"".join([first, *rest]).decode().splitlines()
    assert len(lines) == 5001 and lines[-1].endswith(",E4999")
