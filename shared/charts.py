"""Bar charts as plain SVG, drawn on the server: the portal's report page and the PDF handout show the
same drawing (no script, no outside file, so the strict CSP holds and WeasyPrint can embed it).

Each chart is an image with a title for screen readers; its numbers are also in a table beside it,
which is what assistive technology reads (WCAG 1.1.1). Colours keep 3:1 against white (WCAG 1.4.11)
and every bar carries its number, so no reading depends on colour alone."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

# Dark blue, orange, green, purple, red, teal and ochre: each at least 3:1 against white (a unit test
# checks), told apart by hue; the order is the order series are given.
PALETTE = ("#0031D8", "#C74700", "#197A4B", "#6B3FBF", "#CE0000", "#00809E", "#8B6000")
TEXT = "#1A1A1A"
GRID = "#949494"
FONT = "font-family=\"'Noto Sans JP','Noto Sans CJK JP',sans-serif\""


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | None]


def _nice_top(value: float) -> float:
    """A round axis top at or above value (1, 2, 2.5 or 5 times a power of ten), 5 at least, so that
    the fifths the gridlines mark are whole numbers of people or days."""
    if value <= 5:
        return 5
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _number(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"


def _open(chart_id: str, title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="100%" class="chart" {FONT}>',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]


def _legend(series: list[Series], x: float, y: float) -> list[str]:
    parts, offset = [], 0.0
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x + offset:.1f}" y="{y - 14}" width="16" height="16" fill="{colour}"/>')
        parts.append(f'<text x="{x + offset + 22:.1f}" y="{y}" font-size="17" fill="{TEXT}">{escape(one.label)}</text>')
        offset += 40 + 17 * len(one.label)
    return parts


def column_chart(
    chart_id: str, title: str, categories: list[str], series: list[Series], unit: str, stacked: bool = True
) -> str:
    """Columns per category, one colour per series, stacked or side by side; each column's total (or
    each bar's value) written above it."""
    width, height, left, right, top, bottom = 640, 380, 56, 12, 56, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [
        sum(s.values[i] or 0 for s in series) if stacked else max((s.values[i] or 0 for s in series), default=0)
        for i in range(len(categories))
    ]
    ceiling = _nice_top(max(totals, default=0))
    slot = plot_w / max(len(categories), 1)
    parts = _open(chart_id, title, width, height)
    parts += _legend(series, left, 24)
    for step in range(6):  # gridlines and the axis's numbers, at fifths of a round top
        value = ceiling * step / 5
        y = top + plot_h - plot_h * step / 5
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" stroke-width="0.5"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 5:.1f}" font-size="15" text-anchor="end" '
            f'fill="{TEXT}">{_number(value)}</text>'
        )
    parts.append(
        f'<text x="{left - 6}" y="{top - 20}" font-size="15" text-anchor="end" fill="{TEXT}">{escape(unit)}</text>'
    )
    bar_w = slot * (0.6 if stacked else 0.8 / max(len(series), 1))
    for i, category in enumerate(categories):
        x0 = left + slot * i + (slot * 0.2 if stacked else slot * 0.1)
        base = top + plot_h
        for index, one in enumerate(series):
            value = one.values[i] or 0
            h = plot_h * value / ceiling
            x = x0 if stacked else x0 + bar_w * index
            y = base - h if stacked else top + plot_h - h
            if value:
                parts.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{PALETTE[index % len(PALETTE)]}"/>'
                )
            if not stacked and one.values[i] is not None:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{y - 5:.1f}" font-size="14" text-anchor="middle" '
                    f'fill="{TEXT}">{_number(value)}</text>'
                )
            if stacked:
                base -= h
        if stacked:
            parts.append(
                f'<text x="{x0 + bar_w / 2:.1f}" y="{base - 5:.1f}" font-size="15" text-anchor="middle" '
                f'fill="{TEXT}">{_number(totals[i])}</text>'
            )
        parts.append(
            f'<text x="{left + slot * i + slot / 2:.1f}" y="{height - bottom + 24}" font-size="16" '
            f'text-anchor="middle" fill="{TEXT}">{escape(category)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def progress_chart(chart_id: str, title: str, rows: list[tuple[str, float, float | None]], unit: str) -> str:
    """A bar per row (label, value, target): the value filled, the target as an outlined bar behind
    it, and 'value / target (percent)' written after."""
    row_h, left, right, top = 34, 96, 190, 44
    width, height = 720, top + row_h * len(rows) + 16
    plot_w = width - left - right
    ceiling = _nice_top(max([max(v, t or 0) for _, v, t in rows], default=0))
    parts = _open(chart_id, title, width, height)
    parts.append(f'<rect x="{left}" y="12" width="14" height="14" fill="{PALETTE[0]}"/>')
    parts.append(f'<text x="{left + 20}" y="25" font-size="16" fill="{TEXT}">実績</text>')
    parts.append(
        f'<rect x="{left + 80}" y="12" width="14" height="14" fill="none" stroke="{TEXT}" stroke-width="1.5"/>'
    )
    parts.append(f'<text x="{left + 100}" y="25" font-size="16" fill="{TEXT}">目標</text>')
    for i, (label, value, target) in enumerate(rows):
        y = top + row_h * i
        parts.append(
            f'<text x="{left - 8}" y="{y + 22}" font-size="16" text-anchor="end" fill="{TEXT}">{escape(label)}</text>'
        )
        if target:
            parts.append(
                f'<rect x="{left}" y="{y + 4}" width="{plot_w * target / ceiling:.1f}" height="{row_h - 8}" '
                f'fill="none" stroke="{TEXT}" stroke-width="1.5"/>'
            )
        if value:
            parts.append(
                f'<rect x="{left}" y="{y + 8}" width="{plot_w * value / ceiling:.1f}" height="{row_h - 16}" '
                f'fill="{PALETTE[0]}"/>'
            )
        note = f"{_number(value)}{unit}"
        if target:
            note += f" / {_number(target)}{unit}（{value / target:.0%}）"
        parts.append(f'<text x="{width - right + 8}" y="{y + 22}" font-size="15" fill="{TEXT}">{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)
