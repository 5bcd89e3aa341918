"""Inline SVG for the report: grouped bars and lines over categorical x (with horizontal reference
lines and vertical marks), and the SLA heatmap. Pure drawing: values in, markup out; no data access.

Every drawn value is an element of class ``mark`` carrying ``data-series``, ``data-x`` and
``data-value``, so a test (or a reader of the source) can check the marks against the table.
A value of ``None`` (or NaN) is not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

W, H = 640, 320
M_LEFT, M_RIGHT, M_TOP, M_BOTTOM = 60, 20, 20, 70
PALETTE = ["#1f5fa8", "#e07b00", "#2a9d5c", "#b8336a", "#6a4c93", "#5b7083"]
SLA_BANDS = ["goal", "basic", "minimum", "below_minimum"]
SLA_COLOURS = {"goal": "#1a9850", "basic": "#91cf60", "minimum": "#fee08b", "below_minimum": "#d73027"}

Series = tuple[str, Sequence[float | None]]


def missing(value) -> bool:
    """No value to draw or show: NULL from the mart (or a NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _esc(text) -> str:
    return str(escape(str(text)))


def _nice_max(v: float) -> float:
    if v <= 0 or math.isnan(v):
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= step * exp:
            return step * exp
    return 10 * exp


def _axis_num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}" if v == int(v) else f"{v:.2f}"


def _open(chart_id: str, title: str, height: float) -> str:
    return (
        f'<svg class="chart-svg" id="svg-{_esc(chart_id)}" role="img" viewBox="0 0 {W} {height:.0f}" '
        f'width="{W}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg"><title>{_esc(title)}</title>'
    )


def _frame(chart_id: str, title: str, y_max: float, y_label: str, x_labels: list[str], y_min: float = 0.0):
    """Axes, grid and x labels; returns (parts, x_of(index) -> centre, band width, y_of(value))."""
    plot_w, plot_h = W - M_LEFT - M_RIGHT, H - M_TOP - M_BOTTOM
    n = max(len(x_labels), 1)
    band = plot_w / n

    def x_of(i: int) -> float:
        return M_LEFT + band * (i + 0.5)

    def y_of(v: float) -> float:
        return M_TOP + plot_h * (1 - (v - y_min) / (y_max - y_min))

    parts = [_open(chart_id, title, H)]
    for k in range(6):
        v = y_min + (y_max - y_min) * k / 5
        y = y_of(v)
        parts.append(
            f'<line class="grid" x1="{M_LEFT}" x2="{W - M_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{M_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_axis_num(v)}</text>'
        )
    parts.append(
        f'<text class="axis-label" x="14" y="{M_TOP + plot_h / 2:.0f}" transform="rotate(-90 14 '
        f'{M_TOP + plot_h / 2:.0f})" text-anchor="middle">{_esc(y_label)}</text>'
    )
    every = max(1, math.ceil(n / 16))
    for i, label in enumerate(x_labels):
        if i % every == 0:
            x, y = x_of(i), H - M_BOTTOM + 14
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{y}" text-anchor="end" '
                f'transform="rotate(-45 {x:.1f} {y})">{_esc(label)}</text>'
            )
    parts.append(f'<line class="axis" x1="{M_LEFT}" x2="{W - M_RIGHT}" y1="{y_of(y_min):.1f}" y2="{y_of(y_min):.1f}"/>')
    return parts, x_of, band, y_of


def _legend(items: list[tuple[str, str, str]]) -> str:
    """items: (label, colour, 'bar'|'line'|'ref')"""
    out, x = [], M_LEFT
    for label, colour, kind in items:
        if kind == "bar":
            out.append(f'<rect x="{x}" y="{H - 16}" width="12" height="10" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="5 3"' if kind == "ref" else ""
            out.append(
                f'<line x1="{x}" x2="{x + 14}" y1="{H - 11}" y2="{H - 11}" stroke="{colour}" stroke-width="2"{dash}/>'
            )
        out.append(f'<text class="legend" x="{x + 18}" y="{H - 7}">{_esc(label)}</text>')
        x += 34 + 6.5 * len(label)
    return "".join(out)


def bars_and_lines(
    chart_id: str,
    title: str,
    x_labels: list[str],
    bars: Sequence[Series] = (),
    lines: Sequence[Series] = (),
    refs: Sequence[tuple[str, float]] = (),
    y_label: str = "",
    vmarks: Sequence[tuple[int, str]] = (),
    y_max: float | None = None,
    colours: dict[str, str] | None = None,
) -> Markup:
    """Grouped bars and/or lines over categorical x, horizontal reference lines, vertical marks."""
    values = [v for _, vs in list(bars) + list(lines) for v in vs if not missing(v)]
    values += [v for _, v in refs]
    low = min([0.0] + values)
    top = y_max if y_max is not None else _nice_max(max(values + [0.0]) * 1.05)
    y_min = -_nice_max(-low * 1.05) if low < 0 else 0.0
    parts, x_of, band, y_of = _frame(chart_id, title, top, y_label, x_labels, y_min)
    legend, colour_i, colours = [], 0, colours or {}
    if bars:
        inner = band * 0.8 / len(bars)
        for s, (name, vs) in enumerate(bars):
            colour = colours.get(name) or PALETTE[colour_i % len(PALETTE)]
            colour_i += 1
            legend.append((name, colour, "bar"))
            for i, v in enumerate(vs):
                if missing(v):
                    continue
                x = x_of(i) - band * 0.4 + s * inner
                y0, y1 = y_of(0), y_of(v)
                parts.append(
                    f'<rect class="mark bar" data-series="{_esc(name)}" data-x="{_esc(x_labels[i])}" '
                    f'data-value="{v:.6g}" x="{x:.1f}" y="{min(y0, y1):.1f}" width="{max(inner - 1, 1):.1f}" '
                    f'height="{max(abs(y0 - y1), 0.5):.1f}" fill="{colour}"><title>{_esc(name)} '
                    f"{_esc(x_labels[i])}: {v:.2f}</title></rect>"
                )
    for name, vs in lines:
        colour = colours.get(name) or PALETTE[colour_i % len(PALETTE)]
        colour_i += 1
        legend.append((name, colour, "line"))
        pts = [(x_of(i), y_of(v), i, v) for i, v in enumerate(vs) if not missing(v)]
        if len(pts) > 1:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in pts)
            parts.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" points="{d}"/>')
        for x, y, i, v in pts:
            parts.append(
                f'<circle class="mark point" data-series="{_esc(name)}" data-x="{_esc(x_labels[i])}" '
                f'data-value="{v:.6g}" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                f"<title>{_esc(name)} {_esc(x_labels[i])}: {v:.2f}</title></circle>"
            )
    for label, v in refs:
        y = y_of(v)
        parts.append(
            f'<line class="mark ref" data-value="{v:g}" x1="{M_LEFT}" x2="{W - M_RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#444" stroke-width="1.5" stroke-dasharray="5 3"/>'
            f'<text class="ref-label" x="{W - M_RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end">{_esc(label)}</text>'
        )
    for i, label in vmarks:
        x = x_of(i)
        parts.append(
            f'<line class="mark vmark" data-x="{_esc(x_labels[i])}" x1="{x:.1f}" x2="{x:.1f}" '
            f'y1="{M_TOP}" y2="{H - M_BOTTOM}" stroke="#b8336a" stroke-width="2" stroke-dasharray="2 2"/>'
            f'<text class="ref-label" x="{x + 4:.1f}" y="{M_TOP + 12}">{_esc(label)}</text>'
        )
    parts.append(_legend(legend))
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap(chart_id: str, title: str, rows: list[str], cols: list[str], cells: dict[tuple[str, str], str]) -> Markup:
    """One cell per (row, column), coloured by its SLA band; a pair without a band stays blank."""
    # Room for the longest row label (about 6.5 px a character at the tick font size).
    left, top, bottom = max(150, 12 + int(6.5 * max((len(r) for r in rows), default=0))), 10, 60
    width = W - left - M_RIGHT
    cw = width / max(len(cols), 1)
    ch = min(28, 220 / max(len(rows), 1))
    height = top + ch * len(rows) + bottom
    parts = [_open(chart_id, title, height)]
    for r, row in enumerate(rows):
        y = top + r * ch
        parts.append(f'<text class="tick" x="{left - 6}" y="{y + ch / 2 + 4:.1f}" text-anchor="end">{_esc(row)}</text>')
        for c, col in enumerate(cols):
            band = cells.get((row, col))
            if band is None:
                continue
            parts.append(
                f'<rect class="mark cell" data-series="{_esc(row)}" data-x="{_esc(col)}" data-value="{_esc(band)}" '
                f'x="{left + c * cw:.1f}" y="{y:.1f}" width="{max(cw - 0.5, 0.5):.2f}" height="{ch - 1:.1f}" '
                f'fill="{SLA_COLOURS.get(band, "#999")}"><title>{_esc(row)} {_esc(col)}: {_esc(band)}</title></rect>'
            )
    every = max(1, math.ceil(len(cols) / 12))
    for c, col in enumerate(cols):
        if c % every == 0:
            x, y = left + (c + 0.5) * cw, top + ch * len(rows) + 14
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="end" '
                f'transform="rotate(-45 {x:.1f} {y:.1f})">{_esc(col)}</text>'
            )
    x = left
    for band in SLA_BANDS:
        parts.append(
            f'<rect x="{x}" y="{height - 16:.0f}" width="12" height="10" fill="{SLA_COLOURS[band]}"/>'
            f'<text class="legend" x="{x + 16}" y="{height - 7:.0f}">{band}</text>'
        )
        x += 30 + 7 * len(band)
    parts.append("</svg>")
    return Markup("".join(parts))
