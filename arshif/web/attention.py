"""The attention chart's context for the page and the series API: which tables to draw
(one query by outlet, or several queries compared), over which range, counts or share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from arshif.web import chart

Table = dict[str, dict[str, int]]


def series(
    coverage: Callable[[str | None, str], Table],
    span: Callable[[str | None], tuple[str, str] | None],
    texts: Sequence[str | None],
    since: str | None,
    until: str | None,
) -> chart.Series | None:
    """One query (or none: the whole archive) by outlet, or several queries one line each,
    over since..until, else over the days that have matches. None when nothing is dated.
    The range is found first, so the backend counts at the granularity drawn."""
    if since and until:
        first, last = date.fromisoformat(since), date.fromisoformat(until)
    else:
        spans = [s for s in map(span, texts) if s] or [s for s in [span(None)] if s]
        if not spans:
            return None
        first = date.fromisoformat(since or min(s[0] for s in spans))
        last = date.fromisoformat(until or max(s[1] for s in spans))
    period = chart.granularity_for(first, last)
    tables = {text or "": coverage(text, period) for text in texts}
    totals = tables[""] if "" in tables else coverage(None, period)  # no query: all
    return chart.build(tables, totals, first, last, by_outlet=len(texts) == 1)


def context(
    data: chart.Series,
    *,
    t: dict[str, str],
    digits: Callable[[str], str],
    dates: Callable[[str], str],
    name: Callable[[str], str],
    order: Sequence[str],
    share: bool,
    lines: bool,
    narrow_url: Callable[[date, date], str],
) -> dict[str, Any]:
    """What search.html needs: wide and narrow SVGs, the legend and the data table."""
    labels = chart.Labels(
        title=t[f"chart_title_{'share' if share else 'count'}"],
        x_axis=t[f"axis_{data.granularity}"],
        y_axis=t["axis_share" if share else "axis_count"],
        digits=digits,
        dates=dates,
        names=name,
    )
    common = {"share": share, "lines": lines, "narrow_url": narrow_url}
    summed = data.summed()
    return {
        "wide": chart.svg(data, labels, order, **common),
        "narrow": chart.svg(data, labels, order, width=380, height=280, **common),
        "title": labels.title,
        "granularity": data.granularity,
        "legend": [
            (chart.colour(key, order), name(key), sum(values))
            for key, values in data.values.items()
        ],
        "keys": [name(key) for key in data.values],
        "rows": [
            (
                dates(chart.period_label(start, data.granularity)),
                [data.values[k][i] for k in data.values],
                summed[i],
                data.totals[i],
                f"{summed[i] / data.totals[i]:.1%}" if data.totals[i] else "–",
            )
            for i, (start, end) in enumerate(data.periods)
        ],
    }
