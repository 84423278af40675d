"""Reports (revenue, cost, profit and orders over a range of days, per day or per service, category,
provider or customer, with charts drawn here as SVG) and the CSV exports of orders, ledger and payments.
Thin: the form checks the range, backoffice.reports reads, backoffice.charts draws, backoffice.exports writes."""

from datetime import date
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.decorators import staff_required

from .. import charts, exports
from .. import reports as report_reads
from ..forms.reports import RangeForm, ReportForm

RANKED_IN_CHART = 10


@staff_required
@require_safe
def report(request):
    form = ReportForm(request.GET)
    if not form.is_valid():
        return render(request, "staff/reports.html", {"form": form, "errors": form.error_lines()}, status=400)
    date_from, date_to, group = (form.cleaned_data[name] for name in ("date_from", "date_to", "group"))
    result = report_reads.report(date_from=date_from, date_to=date_to, group=group)
    span = f"{date_from:%Y-%m-%d} to {date_to:%Y-%m-%d}"
    query = urlencode({"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
    shown = ReportForm(initial={"date_from": date_from, "date_to": date_to, "group": group})  # the days in effect
    return render(request, "staff/reports.html", {
        "form": shown, "report": result, "group_label": dict(report_reads.GROUPINGS)[group], "span": span,
        "charts": _charts(result, span), "time_zone": timezone.get_current_timezone_name(),
        "exports": [(kind, f"{reverse('backoffice:export', args=[kind])}?{query}")
                    for kind in exports.KINDS if _may_export(request.user, kind)],
    })


def _charts(result: report_reads.Report, span: str) -> list:
    currency = settings.PANEL_CURRENCY
    if result.group == report_reads.DAY:
        days = len(result.rows)
        # Grouped by day, each row's key is its day.
        revenue = [(cast(date, row.key), row.revenue) for row in result.rows]
        profit = [(cast(date, row.key), row.profit) for row in result.rows]
        best = max(result.rows, key=lambda row: row.revenue)
        return [
            charts.day_chart(
                revenue, kind="bar", chart_id="chart-revenue", unit=currency, y_label=f"Revenue ({currency})",
                title=f"Revenue per day, {span}",
                description=f"Bars, one per day ({days} days): charge less refunds of the orders placed that day, "
                            f"in {currency}. In all {result.totals.revenue} {currency}; the most, "
                            f"{best.revenue} {currency}, on {best.label}."),
            charts.day_chart(
                profit, kind="line", chart_id="chart-profit", color="#1e8e3e", unit=currency,
                y_label=f"Profit ({currency})", title=f"Profit per day, {span}",
                description=f"A line, one point per day ({days} days): revenue less the providers' cost, in "
                            f"{currency}; unknown costs count as 0. In all {result.totals.profit} {currency}."),
        ]
    top = result.rows[:RANKED_IN_CHART]
    if not top:
        return []
    return [charts.ranking_chart(
        [(row.label, row.revenue) for row in top], chart_id="chart-ranking", unit=currency,
        title=f"Revenue by {result.group}, top {len(top)}, {span}",
        description=f"Horizontal bars, the {result.group} with the most revenue first, in {currency}: "
                    + "; ".join(f"{row.label} {row.revenue}" for row in top) + ".")]


def _may_export(user, kind: str) -> bool:
    return user.has_perm(f"backoffice.{_EXPORT_VIEWS[kind].staff_permission}")


@staff_required
@require_safe
def export(request, kind):
    """/staff/exports/<kind>.csv: orders for whoever sees the back office; ledger and payments are money."""
    view = _EXPORT_VIEWS.get(kind)
    if view is None:
        raise Http404("No such export.")
    return view(request, kind)


def _export(request, kind):
    form = RangeForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(form.error_lines()), content_type="text/plain; charset=utf-8")
    return exports.export_response(kind, date_from=form.cleaned_data["date_from"],
                                   date_to=form.cleaned_data["date_to"])


_EXPORT_VIEWS = {
    "orders": staff_required(_export),
    "ledger": staff_required(perm="manage_money")(_export),
    "payments": staff_required(perm="manage_money")(_export),
}
