"""Server-rendered SVG charts for the console (no script, no CDN: the console works offline). Pure.

Values are escaped; a missing value leaves a gap in the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 560, 180
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 14, 28
PALETTE = ("#1f6feb", "#d97706", "#16a34a", "#dc2626")


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    maximum: float,
    title: str,
    unit: str = "",
) -> Markup:
    """A line chart of one or more series over the same labels, from 0 to `maximum`."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(index: int) -> float:
        return LEFT + index * step

    def y(value: float) -> float:
        return TOP + plot_h * (1 - min(max(value, 0), maximum) / maximum)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for fraction in (0, 0.5, 1):
        level = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" y1="{level:.1f}" x2="{WIDTH - RIGHT}" y2="{level:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 4}" y="{level + 4:.1f}" font-size="10" text-anchor="end">'
            f"{escape(f'{maximum * fraction:g}{unit}')}</text>"
        )
    for index, label in enumerate(labels):
        parts.append(
            f'<text x="{x(index):.1f}" y="{HEIGHT - 8}" font-size="10" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for number, (name, values) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for index, value in enumerate(values):
            if value is None:
                segments.append([])
                continue
            segments[-1].append(f"{x(index):.1f},{y(value):.1f}")
            parts.append(
                f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)} {escape(labels[index])}: {value:g}{escape(unit)}</title></circle>"
            )
        for points in segments:
            if len(points) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>'
                )
        parts.append(
            f'<text x="{LEFT + 6 + number * 120}" y="{TOP - 2}" font-size="11" fill="{colour}">'
            f"■ {escape(name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(labels: Sequence[str], values: Sequence[int], *, title: str) -> Markup:
    """Vertical bars (counts), e.g. answers by CSAT score."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max(max(values, default=0), 1)
    slot = plot_w / max(len(values), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = plot_h * value / top
        left = LEFT + index * slot + slot * 0.15
        parts.append(
            f'<rect x="{left:.1f}" y="{TOP + plot_h - height:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{height:.1f}" fill="{PALETTE[0]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{left + slot * 0.35:.1f}" y="{TOP + plot_h - height - 3:.1f}" font-size="10" '
            f'text-anchor="middle">{value}</text>'
            f'<text x="{left + slot * 0.35:.1f}" y="{HEIGHT - 8}" font-size="10" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
