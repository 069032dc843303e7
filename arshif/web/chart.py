"""The coverage chart: articles per day (per month when the days are too many to read)
stacked by outlet, drawn as SVG on the server, so the page needs no script or network."""

from __future__ import annotations

from html import escape

PALETTE = ("#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#30638e", "#a8763e")
MAX_BARS = 90  # more days than this are grouped by month
WIDTH, HEIGHT, MARGIN = 720, 240, 32


def bucket(table: dict[str, dict[str, int]]) -> tuple[str, dict[str, dict[str, int]]]:
    """("day", table) or, when there are more than MAX_BARS days, ("month", per month)."""
    if len(table) <= MAX_BARS:
        return "day", table
    months: dict[str, dict[str, int]] = {}
    for day, row in table.items():
        month = months.setdefault(day[:7], {})
        for outlet, n in row.items():
            month[outlet] = month.get(outlet, 0) + n
    return "month", months


def coverage_svg(table: dict[str, dict[str, int]], title: str) -> str:
    """A stacked bar chart with a legend; an empty string when there is nothing to draw."""
    if not table:
        return ""
    outlets = sorted({o for row in table.values() for o in row})
    colour = {o: PALETTE[i % len(PALETTE)] for i, o in enumerate(outlets)}
    periods = list(table)
    top = max(sum(row.values()) for row in table.values())
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    step = plot_w / len(periods)
    bar_w = max(step * 0.8, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 24 * len(outlets)}" '
        f'role="img" class="coverage" direction="ltr"><title>{escape(title)}</title>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#888"/>',
        f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" font-size="11" text-anchor="end">{top}</text>',
    ]
    for i, period in enumerate(periods):
        x = MARGIN + i * step + (step - bar_w) / 2
        y = HEIGHT - MARGIN
        for outlet in outlets:
            n = table[period].get(outlet, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour[outlet]}"><title>{escape(period)} · {escape(outlet)}: {n}'
                "</title></rect>"
            )
    for i in sorted({0, len(periods) - 1}):
        anchor = "start" if i == 0 else "end"
        x = MARGIN + (i + (0 if i == 0 else 1)) * step
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - MARGIN + 14}" font-size="11" '
            f'text-anchor="{anchor}">{escape(periods[i])}</text>'
        )
    for i, outlet in enumerate(outlets):
        y = HEIGHT + 24 * i
        parts.append(
            f'<rect x="{MARGIN}" y="{y - 10}" width="12" height="12" fill="{colour[outlet]}"/>'
            f'<text x="{MARGIN + 18}" y="{y}" font-size="12">{escape(outlet)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
