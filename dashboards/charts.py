"""Charts drawn by the server as SVG: no script, no outside request, nothing for the CSP to allow.

A chart is a picture for people who would rather look than read, so each one also carries what a
screen reader or a printout needs: a title and a one-sentence text alternative inside the SVG
(`<title>`/`<desc>`, referenced by `aria-labelledby`), the same sentence as the figure's caption,
and a table of every value beside it (`templates/dashboards/_chart.html`). Each bar or point has
its own `<title>`, which browsers show on hover and long-press.

Colours and fonts come from classes styled in `static/css/dashboards.css` (the CSP refuses inline
styles); geometry is plain SVG attributes. Two shapes cover the dashboards:

* `time_chart` — a value per day, week or month: columns up to 62 buckets, a line beyond.
* `bar_list` — labelled values (top products, categories, provinces, shop kinds, OCOP stars),
  largest first, as rows of HTML text (label, a bar drawn as a small SVG, the value), so the
  words stay readable on a phone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from babel.numbers import format_compact_decimal, format_decimal
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from marketplace.money import format_vnd

from .periods import Granularity

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 12, 34
COLUMNS_UP_TO = 62


@dataclass
class Chart:
    """What the `chart` macro draws: the SVG, its text alternative and its table."""

    id: str
    title: str
    summary: str
    svg: Markup
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)


def _locale() -> str:
    return str(get_locale() or "vi")


def number(value: int) -> str:
    return format_decimal(value, locale=_locale())


def compact(value: int, money: bool) -> str:
    """Axis labels: '1,2 Tr' rather than '1.200.000'."""
    if abs(value) < 10_000:
        return number(value)
    return format_compact_decimal(value, format_type="short", locale=_locale(), fraction_digits=1)


def _formatter(money: bool) -> Callable[[int], str]:
    return format_vnd if money else number


def nice_ceiling(value: int) -> int:
    """The top of the axis: 1, 2, 2.5 or 5 times a power of ten, at or above `value`."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return int(step * power) or 1
    return 10 * power


def bucket_label(day: date, granularity: Granularity, *, short: bool = False) -> str:
    if granularity is Granularity.MONTH:
        return format_date(day, "MM/yyyy")
    if granularity is Granularity.WEEK:
        return _("Tuần từ %(day)s", day=format_date(day, "dd/MM")) if not short else format_date(day, "dd/MM")
    return format_date(day, "dd/MM" if short else "dd/MM/yyyy")


def _svg_open(chart_id: str, title: str, summary: str, height: int) -> list[str]:
    return [
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(summary)}</desc>',
    ]


def time_chart(
    chart_id: str,
    title: str,
    points: Sequence[tuple[date, int]],
    *,
    granularity: Granularity = Granularity.DAY,
    value_label: str,
    money: bool = False,
) -> Chart:
    """A value per bucket; `points` is every bucket in order, zeros included (periods.series)."""
    show = _formatter(money)
    total = sum(value for _day, value in points)
    if points and total:
        best_day, best = max(points, key=lambda item: item[1])
        summary = _(
            "%(label)s: tổng %(total)s trong %(count)d mốc, từ %(first)s đến %(last)s; cao nhất "
            "%(best)s (%(when)s).",
            label=value_label,
            total=show(total),
            count=len(points),
            first=bucket_label(points[0][0], granularity),
            last=bucket_label(points[-1][0], granularity),
            best=show(best),
            when=bucket_label(best_day, granularity),
        )
    else:
        summary = _("%(label)s: chưa có gì trong khoảng thời gian này.", label=value_label)
    top = nice_ceiling(max((value for _day, value in points), default=0))
    if not money:
        # Counts: gridlines at whole numbers — a top divisible by four (not 0, 0, 0, 0, 1 for a
        # top of 1, nor 0, 2, 5, 7, 10 for ten).
        top = max(4, -(-top // 4) * 4)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _svg_open(chart_id, title, summary, HEIGHT)
    for tick in range(5):  # gridlines at 0, ¼, ½, ¾ and the top
        value = top * tick // 4
        y = TOP + plot_h - plot_h * tick / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(compact(value, money))}</text>'
        )
    under_data = len(parts)  # a line goes above the gridlines and below the points
    count = max(len(points), 1)
    step = plot_w / count
    label_every = max(1, math.ceil(count / 6))  # at most six dates under the axis: room on a phone
    coords: list[tuple[float, float]] = []
    for index, (day, value) in enumerate(points):
        x = LEFT + step * index
        height = plot_h * value / top
        y = TOP + plot_h - height
        tip = f"{bucket_label(day, granularity)}: {show(value)}"
        if count <= COLUMNS_UP_TO:
            width = max(step * 0.7, 1)
            parts.append(
                f'<rect class="bar" x="{x + (step - width) / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{max(height, 0):.1f}"><title>{escape(tip)}</title></rect>'
            )
        else:
            coords.append((x + step / 2, y))
            parts.append(
                f'<circle class="point" cx="{x + step / 2:.1f}" cy="{y:.1f}" r="2"><title>{escape(tip)}</title></circle>'
            )
        if index % label_every == 0:
            parts.append(
                f'<text class="axis" x="{x + step / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                f"{escape(bucket_label(day, granularity, short=True))}</text>"
            )
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.insert(under_data, f'<polyline class="line" fill="none" points="{path}"/>')
    parts.append(
        f'<line class="baseline" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
    )
    parts.append("</svg>")
    rows = [[bucket_label(day, granularity), show(value)] for day, value in points]
    return Chart(
        id=chart_id,
        title=title,
        summary=summary,
        svg=Markup("".join(parts)),  # noqa: S704 -- every text above went through escape()
        columns=[_("Thời gian"), value_label],
        rows=rows,
    )


def bar_list(
    chart_id: str,
    title: str,
    items: Sequence[tuple[str, int]],
    *,
    value_label: str,
    label_heading: str,
    money: bool = False,
    limit: int = 10,
) -> Chart:
    """Labelled values as horizontal bars, in the order given (callers sort, largest first).
    The chart shows the first `limit`; the table has them all."""
    show = _formatter(money)
    shown = list(items[:limit])
    if shown and any(value for _label, value in shown):
        leaders = ", ".join(f"{label} ({show(value)})" for label, value in shown[:3])
        summary = _("%(label)s, đứng đầu: %(leaders)s.", label=value_label, leaders=leaders)
    else:
        summary = _("%(label)s: chưa có gì trong khoảng thời gian này.", label=value_label)
    # HTML rows, not one SVG: the labels and values are text at the page's own size on a phone
    # (an SVG drawing 640 wide shrinks its text to 6 px at 390); each bar is a tiny SVG.
    top = max((value for _label, value in shown), default=0) or 1
    parts = [
        f'<div class="bar-list" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<span class="visually-hidden" id="{chart_id}-t">{escape(title)}</span>',
        f'<span class="visually-hidden" id="{chart_id}-d">{escape(summary)}</span>',
    ]
    for label, value in shown:
        parts.append(
            f'<div class="bar-row"><span class="bar-label">{escape(label)}</span>'
            f'<svg class="bar-track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect class="bar" width="{max(100 * value / top, 0.5):.1f}" height="10">'
            f"<title>{escape(label)}: {escape(show(value))}</title></rect></svg>"
            f'<span class="bar-value">{escape(show(value))}</span></div>'
        )
    parts.append("</div>")
    return Chart(
        id=chart_id,
        title=title,
        summary=summary,
        svg=Markup("".join(parts)),  # noqa: S704 -- every text above went through escape()
        columns=[label_heading, value_label],
        rows=[[label, show(value)] for label, value in items],
    )
