"""The attention chart: matching articles over a real time axis, drawn as SVG on the server.

Every day, week or month of the range is a bar, zeros included, so a gap in coverage shows as
a gap; the granularity follows the range's length. Bars stack by outlet (each outlet keeps its
colour from one search to the next) or, when several queries are compared, each query is a
line. Counts or share: a period's matches divided by all articles of that period under the
same filters (Media Cloud's "normalised" view). Each bar links to the search narrowed to its
dates; a short script lets a drag across bars do the same.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from indexer.search import period_start

# Colour-blind-safe first (Okabe-Ito), then Tableau's; an outlet keeps its slot (catalogue
# order, or a hash of its id) whatever else the search shows.
PALETTE = (
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c564b", "#4e79a7",
    "#b07aa1", "#59a14f", "#9c755f", "#e15759", "#76b7b2", "#edc948", "#7f7f7f", "#bcbd22",
)  # fmt: skip
DAY_LIMIT = 92  # a range up to this many days is drawn by day
WEEK_LIMIT = 3 * 366  # up to this by week (weeks start on Monday), then by month
MONTH_LIMIT = 20 * 366  # up to this by month, beyond by year (a range typed from 1900)


@dataclass(frozen=True)
class Series:
    """Counts per period of the range: `values[key][i]` for period i; `totals[i]` is every
    article of period i under the same filters (the share's denominator)."""

    granularity: str  # "day", "week", "month" or "year"
    periods: list[tuple[date, date]]  # first and last day of each period, inclusive
    values: dict[str, list[int]]
    totals: list[int]

    def share(self, key: str) -> list[float]:
        return [n / t if t else 0.0 for n, t in zip(self.values[key], self.totals, strict=True)]

    def summed(self) -> list[int]:
        return [sum(column) for column in zip(*self.values.values(), strict=True)] or [
            0 for _ in self.periods
        ]


def granularity_for(first: date, last: date) -> str:
    days = (last - first).days + 1
    if days <= DAY_LIMIT:
        return "day"
    return "week" if days <= WEEK_LIMIT else "month" if days <= MONTH_LIMIT else "year"


def periods(first: date, last: date, granularity: str) -> list[tuple[date, date]]:
    """Every period from the one holding `first` to the one holding `last`."""
    out = []
    start = period_start(first, granularity)
    while start <= last:
        following = _next_start(start, granularity)
        out.append((start, following - timedelta(days=1)))
        start = following
    return out


def _next_start(start: date, granularity: str) -> date:
    if granularity == "week":
        return start + timedelta(days=7)
    if granularity == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    if granularity == "year":
        return start.replace(year=start.year + 1)
    return start + timedelta(days=1)


def data_range(*tables: Mapping[str, Mapping[str, int]]) -> tuple[date, date] | None:
    days = [day for table in tables for day in table]
    if not days:
        return None
    return date.fromisoformat(min(days)), date.fromisoformat(max(days))


def build(
    tables: Mapping[str, Mapping[str, Mapping[str, int]]],
    totals: Mapping[str, Mapping[str, int]],
    first: date,
    last: date,
    by_outlet: bool,
) -> Series:
    """The series of one or more coverage tables ({day: {outlet: n}}, keyed by query) over
    first..last: one value list per outlet of the single table, or one per query."""
    granularity = granularity_for(first, last)
    spans = periods(first, last, granularity)
    index = {}
    for i, (start, end) in enumerate(spans):
        day = start
        while day <= end:
            index[day.isoformat()] = i
            day += timedelta(days=1)

    def per_period(table: Mapping[str, Mapping[str, int]], keep: str | None) -> list[int]:
        out = [0] * len(spans)
        for day, row in table.items():
            if day in index:
                out[index[day]] += sum(n for o, n in row.items() if keep is None or o == keep)
        return out

    if by_outlet:
        (table,) = tables.values()
        outlets = sorted({o for row in table.values() for o in row})
        values = {o: per_period(table, o) for o in outlets}
    else:
        values = {key: per_period(table, None) for key, table in tables.items()}
    return Series(granularity, spans, values, per_period(totals, None))


def colour(key: str, order: Sequence[str]) -> str:
    """An outlet's (or a compared query's) colour: its slot in `order`, else a hash."""
    slot = order.index(key) if key in order else zlib.crc32(key.encode())
    return PALETTE[slot % len(PALETTE)]


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least `top` (steps of 1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [round(step * i, 12) for i in range(math.ceil(top / step - 1e-9) + 1)]


@dataclass(frozen=True)
class Labels:
    """What the chart writes, in the interface language."""

    title: str
    x_axis: str
    y_axis: str
    digits: Callable[[str], str]  # Latin digits -> the interface's digits
    dates: Callable[[str], str]  # an ISO date (or month) as the interface writes it
    names: Callable[[str], str]  # key -> legend name


def svg(
    series: Series,
    labels: Labels,
    order: Sequence[str],
    *,
    share: bool,
    lines: bool,
    narrow_url: Callable[[date, date], str],
    width: int = 760,
    height: int = 300,
) -> str:
    """The chart as SVG markup: axes with ticks and titles, one column per period (a link
    narrowing the search to it), stacked bars by key or one line per key."""
    n = len(series.periods)
    left, right, top_pad, bottom = 56, 40, 14, 56
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    step = plot_w / max(n, 1)
    keys = list(series.values)
    data = {k: series.share(k) if share else [float(v) for v in series.values[k]] for k in keys}
    if lines:
        peak = max((max(v) for v in data.values() if v), default=0.0)
    else:
        peak = max((sum(col) for col in zip(*data.values(), strict=True)), default=0.0)
    ticks = nice_ticks(peak * 100 if share else peak)
    scale_top = ticks[-1] / 100 if share else ticks[-1]
    base = top_pad + plot_h

    def y_of(value: float) -> float:
        return base - plot_h * value / scale_top if scale_top else base

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="group" '
        f'class="coverage" direction="ltr" font-size="12" data-granularity="{series.granularity}" '
        f'aria-label="{escape(labels.title)}"><title>{escape(labels.title)}</title>'
    ]
    for value in ticks:
        y = y_of(value / 100 if share else value)
        text = labels.digits(f"{value:g}%" if share else f"{value:g}")
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{text}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#555"/>'
        f'<text transform="translate(14 {top_pad + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" fill="#333">{escape(labels.y_axis)}</text>'
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle" '
        f'fill="#333">{escape(labels.x_axis)}</text>'
    )
    bar_w = max(step * 0.8, 1.0)
    summed = series.summed()
    for i, (start, end) in enumerate(series.periods):
        x = left + i * step
        tip = f"{labels.dates(period_label(start, series.granularity))}: "
        tip += labels.digits(f"{summed[i]} / {series.totals[i]}" if share else str(summed[i]))
        parts.append(
            f'<a href="{escape(narrow_url(start, end))}" class="col" data-since="{start}" '
            f'data-until="{end}"><title>{escape(tip)}</title>'
            f'<rect x="{x:.1f}" y="{top_pad}" width="{step:.1f}" height="{plot_h}" '
            'fill="transparent" class="hit-area"/>'
        )
        if not lines:
            y = float(base)
            for key in keys:
                value = data[key][i]
                if value:
                    h = base - y_of(value)
                    y -= h
                    parts.append(
                        f'<rect x="{x + (step - bar_w) / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                        f'height="{h:.1f}" fill="{colour(key, order)}" data-key="{escape(key)}"/>'
                    )
        parts.append("</a>")
    if lines:
        for key in keys:
            points = " ".join(
                f"{left + (i + 0.5) * step:.1f},{y_of(v):.1f}" for i, v in enumerate(data[key])
            )
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour(key, order)}" '
                f'stroke-width="2.5" data-key="{escape(key)}" pointer-events="none"/>'
            )
    for i in _tick_indices(n, max(2, plot_w // 110)):
        start, end = series.periods[i]
        x = left + (i + 0.5) * step
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}" stroke="#555"/>'
            f'<text x="{x:.1f}" y="{base + 18}" text-anchor="middle" fill="#333">'
            f"{labels.dates(period_label(start, series.granularity))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _tick_indices(n: int, most: int) -> list[int]:
    if n <= most:
        return list(range(n))
    every = math.ceil(n / most)
    return list(range(0, n, every))


def period_label(start: date, granularity: str) -> str:
    return start.isoformat()[: {"month": 7, "year": 4}.get(granularity, 10)]


def csv_rows(series: Series, share: bool) -> list[list[str]]:
    """The series as rows: period start and end, each key, all articles (and shares)."""
    keys = list(series.values)
    header = ["period_start", "period_end", *keys, "all_articles"]
    if share:
        header += [f"{k}_share" for k in keys]
    rows = [header]
    for i, (start, end) in enumerate(series.periods):
        row = [start.isoformat(), end.isoformat(), *(str(series.values[k][i]) for k in keys)]
        row.append(str(series.totals[i]))
        if share:
            row += [f"{series.share(k)[i]:.6f}" for k in keys]
        rows.append(row)
    return rows
