"""Charts drawn on the server as inline SVG: no script, no CDN, nothing for the browser to fetch.

Two kinds: one series per day (bars or a line, with a zero line when it goes below zero), and a ranking
(horizontal bars, one per named row). Sized by viewBox only, so a chart shrinks to a phone's width. Every
piece of text goes through format_html (names may hold HTML); money is Decimal all the way, never a float.
Each bar and point carries its own <title> with the exact figure, so every day is in the markup.
"""

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.money import money_str

FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
INK, MUTED, LINE = "#1d2330", "#5b6475", "#dde1ea"
BAD = "#c0392b"

# The drawing area of a per-day chart, in viewBox units.
WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 76, 12, 14, 46
MAX_X_LABELS = 7
TICKS = 4


def _join(parts) -> SafeString:
    return mark_safe("".join(conditional_escape(part) for part in parts))  # every part escaped here


def _n(value) -> str:
    """A coordinate: Decimal to one place (geometry, not money)."""
    return f"{Decimal(value).quantize(Decimal('0.1')):f}"


def tick_text(value: Decimal) -> str:
    """An axis figure as short as it can be written exactly: 1,500 / 0.25 / -20."""
    value = Decimal(value)
    if value == 0:
        return "0"
    return f"{value.normalize():,f}"


def nice_step(span: Decimal, ticks: int = TICKS) -> Decimal:
    """A round step (1, 2 or 5 times a power of ten) that cuts `span` into about `ticks` parts."""
    raw = Decimal(span) / ticks
    magnitude = Decimal(1).scaleb(raw.adjusted())
    for multiple in (1, 2, 5, 10):
        if magnitude * multiple >= raw:
            return magnitude * multiple
    return magnitude * 10  # pragma: no cover - the loop always returns


def value_axis(values: Sequence[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """(low, high, step) of an axis that holds every value and zero, on round ticks."""
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    if low == high:
        high = Decimal(1)
    step = nice_step(high - low)
    low = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    high = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    return low, high, step


def _svg(*, chart_id: str, title: str, description: str, width, height, body) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-labelledby="{}-title {}-desc" id="{}" class="chart" font-family="{}" font-size="13">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        width, height, chart_id, chart_id, chart_id, FONT, chart_id, title, chart_id, description, body)


def day_chart(points: Sequence[tuple[date, Decimal]], *, title: str, description: str, chart_id: str,
              kind: str = "bar", color: str = "#2f5bea", unit: str = "", y_label: str = "") -> SafeString:
    """One series per day: `points` are (day, amount), oldest first, one per day of the range."""
    if kind not in ("bar", "line"):
        raise ValueError(f"no such chart: {kind!r}")
    values = [Decimal(value) for _, value in points]
    low, high, step = value_axis(values)
    plot_w, plot_h = Decimal(WIDTH - LEFT - RIGHT), Decimal(HEIGHT - TOP - BOTTOM)
    slot = plot_w / max(len(points), 1)

    def y(value) -> Decimal:
        return TOP + (high - Decimal(value)) * plot_h / (high - low)

    def x_mid(index) -> Decimal:
        return LEFT + slot * index + slot / 2

    parts = []
    # The value axis: a grid line and a figure at every tick, the zero line darker.
    tick = low
    while tick <= high:
        parts.append(format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
            '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" fill="{}">{}</text>',
            LEFT, WIDTH - RIGHT, _n(y(tick)), _n(y(tick)), MUTED if tick == 0 else LINE,
            LEFT - 6, _n(y(tick)), MUTED, tick_text(tick)))
        tick += step
    if y_label:
        parts.append(format_html(
            '<text transform="translate(14 {}) rotate(-90)" text-anchor="middle" fill="{}">{}</text>',
            _n(TOP + plot_h / 2), MUTED, y_label))
    # The day axis: a label on every few days (all of them when they fit), the day itself in each title.
    every = max(1, -(-len(points) // MAX_X_LABELS))
    for index, (day, _) in enumerate(points):
        if index % every == 0:
            parts.append(format_html('<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                                     _n(x_mid(index)), HEIGHT - BOTTOM + 18, MUTED, day.strftime("%m-%d")))
    parts.append(format_html('<text x="{}" y="{}" text-anchor="middle" fill="{}">Day</text>',
                             _n(LEFT + plot_w / 2), HEIGHT - 6, MUTED))

    def label(day, value) -> str:
        return f"{day.isoformat()}: {money_str(value)}{' ' + unit if unit else ''}"

    zero = y(0)
    if kind == "bar":
        width = max(slot * Decimal("0.7"), Decimal("0.5"))
        for index, (day, value) in enumerate(points):
            top, bottom = sorted([y(value), zero])
            parts.append(format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
                _n(x_mid(index) - width / 2), _n(top), _n(width), _n(bottom - top),
                BAD if value < 0 else color, label(day, value)))
    else:
        line = " ".join(f"{_n(x_mid(index))},{_n(y(value))}" for index, (_, value) in enumerate(points))
        parts.append(format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>', line, color))
        radius = 3 if len(points) <= 62 else 1.5
        for index, (day, value) in enumerate(points):
            parts.append(format_html('<circle cx="{}" cy="{}" r="{}" fill="{}"><title>{}</title></circle>',
                                     _n(x_mid(index)), _n(y(value)), radius, BAD if value < 0 else color,
                                     label(day, value)))
    return _svg(chart_id=chart_id, title=title, description=description, width=WIDTH, height=HEIGHT,
                body=_join(parts))


RANK_ROW, RANK_LABEL_CHARS, RANK_LEFT = 26, 28, 196


def ranking_chart(items: Sequence[tuple[str, Decimal]], *, title: str, description: str, chart_id: str,
                  color: str = "#2f5bea", unit: str = "") -> SafeString:
    """Horizontal bars, one per (name, amount), in the order given (the largest first, say)."""
    values = [Decimal(value) for _, value in items]
    low, high, step = value_axis(values)
    plot_w = Decimal(WIDTH - RANK_LEFT - RIGHT - 8)
    height = TOP + RANK_ROW * max(len(items), 1) + 34

    def x(value) -> Decimal:
        return RANK_LEFT + (Decimal(value) - low) * plot_w / (high - low)

    parts = []
    tick = low
    bottom = TOP + RANK_ROW * max(len(items), 1)
    while tick <= high:
        parts.append(format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
            '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
            _n(x(tick)), _n(x(tick)), TOP, bottom, MUTED if tick == 0 else LINE,
            _n(x(tick)), bottom + 16, MUTED, tick_text(tick)))
        tick += step
    for index, (name, value) in enumerate(items):
        name = str(name)
        short = name if len(name) <= RANK_LABEL_CHARS else name[: RANK_LABEL_CHARS - 1] + "…"
        row_y = TOP + RANK_ROW * index
        left, right = sorted([x(value), x(0)])
        parts.append(format_html(
            '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" fill="{}">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}{}</title></rect>',
            RANK_LEFT - 6, row_y + RANK_ROW // 2, INK, short,
            _n(left), row_y + 4, _n(max(right - left, Decimal("0.5"))), RANK_ROW - 8,
            BAD if value < 0 else color, name, money_str(value), f" {unit}" if unit else ""))
    return _svg(chart_id=chart_id, title=title, description=description, width=WIDTH, height=height,
                body=_join(parts))
