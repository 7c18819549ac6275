"""The roll-rate heat map as server-rendered SVG (no script, no CDN). Pure.

Each cell is shaded by its rate and links to the loans behind it; values are escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

from lenddesk.reports.rates import Rate

CELL_W, CELL_H, LABEL_W, LABEL_H = 64, 26, 56, 24


def _shade(value: float) -> str:
    """White at 0 %, deep blue at 100 %."""
    level = int(235 - 190 * max(0.0, min(value, 1.0)))
    return f"rgb({level},{level + 10 if level < 245 else 245},250)"


def heat_map(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[Rate | None]],
    *,
    title: str,
    link: Callable[[str, str], str] | None = None,
) -> Markup:
    """Rows × columns of rates, each cell showing its percentage; `link(row, column)` makes it a link."""
    width = LABEL_W + CELL_W * len(columns)
    height = LABEL_H + CELL_H * len(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img"'
        f' class="chart heat" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, column in enumerate(columns):
        x = LABEL_W + index * CELL_W + CELL_W / 2
        parts.append(f'<text x="{x:.0f}" y="16" font-size="11" text-anchor="middle">{escape(column)}</text>')
    for row_index, row in enumerate(rows):
        y = LABEL_H + row_index * CELL_H
        parts.append(f'<text x="4" y="{y + 17}" font-size="11">{escape(row)}</text>')
        for column_index, rate in enumerate(cells[row_index]):
            if rate is None or rate.value is None:
                continue
            x = LABEL_W + column_index * CELL_W
            dark = rate.value > 0.55
            cell = (
                f'<rect x="{x}" y="{y}" width="{CELL_W - 2}" height="{CELL_H - 2}"'
                f' fill="{_shade(rate.value)}">'
                f"<title>{escape(row)} → {escape(columns[column_index])}: {rate.numerator}/{rate.denominator}"
                f" ({rate.value * 100:.1f} %, 95 % {(rate.low or 0) * 100:.1f}–{(rate.high or 0) * 100:.1f})"
                f"</title></rect>"
                f'<text x="{x + CELL_W / 2 - 1:.0f}" y="{y + 17}" font-size="11" text-anchor="middle"'
                f' fill="{"#fff" if dark else "#111"}">{rate.value * 100:.1f}%</text>'
            )
            if link is not None:
                cell = f'<a href="{escape(link(row, columns[column_index]))}">{cell}</a>'
            parts.append(cell)
    parts.append("</svg>")
    return Markup("".join(parts))
