"""Inline SVG for the report: grouped or stacked bars and lines over categorical x (with horizontal
reference lines and vertical marks), and the SLA heatmap. Pure drawing: values in, markup out; no
data access.

Every drawn value is an element of class ``mark`` carrying ``data-series``, ``data-x`` and
``data-value``, so a test (or a reader of the source) can check the marks against the table.
A value of ``None`` (or NaN) is not drawn; a point of a ``sparse`` index is drawn hollow (class
``sparse``: too few cases behind it). Labels are sized by ``text_width`` (Hangul and CJK glyphs
are a full em wide), legends wrap onto further rows, and the heatmap widens for its row labels.
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


def _full_width(ch: str) -> bool:
    o = ord(ch)
    return (
        0x1100 <= o <= 0x115F
        or 0x2E80 <= o <= 0xA4CF
        or 0xAC00 <= o <= 0xD7A3
        or 0xF900 <= o <= 0xFAFF
        or (0xFF00 <= o <= 0xFF60)
    )


def text_width(text, size: float = 11) -> float:
    """A generous estimate of the drawn width of ``text`` at font ``size`` (px), so that labels are
    given room rather than cut: full-width (Hangul, CJK) glyphs 1 em, capitals and digits 0.68 em,
    other letters 0.56 em, spaces and punctuation 0.34 em."""
    em = 0.0
    for ch in str(text):
        if _full_width(ch):
            em += 1.0
        elif ch.isupper() or ch.isdigit():
            em += 0.68
        elif ch.isalpha():
            em += 0.56
        else:
            em += 0.34
    return em * size


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


def _open(chart_id: str, title: str, height: float, width: float = W) -> str:
    return (
        f'<svg class="chart-svg" id="svg-{_esc(chart_id)}" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg"><title>{_esc(title)}</title>'
    )


def _wrap(label: str, width: float) -> list[str]:
    """``label`` in lines of at most ``width`` px, broken at spaces."""
    lines: list[str] = []
    for word in str(label).split(" "):
        if lines and text_width(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _scale(low: float, high: float) -> tuple[float, float, float]:
    """A value axis from ``low`` to ``high`` (0 included) in about five nice steps: (min, max, step)."""
    if high <= 0 and low >= 0:
        return 0.0, 1.0, 0.2
    step = _nice_max((max(high, 0.0) - min(low, 0.0)) / 5)
    return math.floor(min(low, 0.0) / step) * step, math.ceil(max(high, step) / step) * step, step


def _frame(chart_id: str, title: str, y_max: float, y_label: str, x_labels: list[str], y_min: float = 0.0, step=None):
    """Axes, grid and x labels; returns (parts, x_of(index) -> centre, band width, y_of(value), the
    y below the x labels). Few labels that fit their band on up to three lines are written level
    under it; others are turned 45 degrees, with room below for the longest. parts[0] opens the
    svg at the plot's own height: the caller replaces it once it knows what goes below."""
    plot_w, plot_h = W - M_LEFT - M_RIGHT, H - M_TOP - M_BOTTOM
    n = max(len(x_labels), 1)
    band = plot_w / n

    def x_of(i: int) -> float:
        return M_LEFT + band * (i + 0.5)

    def y_of(v: float) -> float:
        return M_TOP + plot_h * (1 - (v - y_min) / (y_max - y_min))

    parts = [_open(chart_id, title, H)]
    step = step or (y_max - y_min) / 5
    ticks = round((y_max - y_min) / step)
    for k in range(ticks + 1):
        v = y_min + step * k
        y = y_of(v)
        parts.append(
            f'<line class="grid" x1="{M_LEFT}" x2="{W - M_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{M_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_axis_num(v)}</text>'
        )
    parts.append(
        f'<text class="axis-label" x="14" y="{M_TOP + plot_h / 2:.0f}" transform="rotate(-90 14 '
        f'{M_TOP + plot_h / 2:.0f})" text-anchor="middle">{_esc(y_label)}</text>'
    )
    top = H - M_BOTTOM + 14
    wrapped = [_wrap(label, band - 8) for label in x_labels]
    level = n <= 8 and all(len(lines) <= 3 and max(map(text_width, lines)) <= band - 8 for lines in wrapped)
    if level:
        for i, lines in enumerate(wrapped):
            spans = "".join(
                f'<tspan x="{x_of(i):.1f}" dy="{0 if k == 0 else 13}">{_esc(line)}</tspan>'
                for k, line in enumerate(lines)
            )
            parts.append(f'<text class="tick" x="{x_of(i):.1f}" y="{top}" text-anchor="middle">{spans}</text>')
        below = top + 13 * max(len(lines) for lines in wrapped) if wrapped else top
    else:
        every = max(1, math.ceil(n / 16))
        for i, label in enumerate(x_labels):
            if i % every == 0:
                x = x_of(i)
                parts.append(
                    f'<text class="tick" x="{x:.1f}" y="{top}" text-anchor="end" '
                    f'transform="rotate(-45 {x:.1f} {top})">{_esc(label)}</text>'
                )
        below = top + 0.72 * max([text_width(label) for label in x_labels] + [40.0])
    parts.append(f'<line class="axis" x1="{M_LEFT}" x2="{W - M_RIGHT}" y1="{y_of(y_min):.1f}" y2="{y_of(y_min):.1f}"/>')
    return parts, x_of, band, y_of, below


LEGEND_ROW = 16


def _legend_layout(items: list[tuple[str, str, str]], left: float = M_LEFT, right: float = W - M_RIGHT):
    """Where each legend entry goes: [(x, row, item)], wrapping onto a new row before an entry
    that would run past ``right``; and the number of rows."""
    placed, x, row = [], left, 0
    for item in items:
        width = 18 + text_width(item[0]) + 16
        if x > left and x + width > right:
            x, row = left, row + 1
        placed.append((x, row, item))
        x += width
    return placed, (row + 1 if items else 0)


def _legend(placed, top: float) -> str:
    """The legend entries of _legend_layout, its first row at ``top``: (label, colour, kind) with
    kind 'bar', 'line', 'dashed', 'ref' or 'hollow' (an open circle: a sparse point)."""
    out = []
    for x, row, (label, colour, kind) in placed:
        y = top + row * LEGEND_ROW
        if kind == "bar":
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="10" fill="{colour}"/>')
        elif kind == "hollow":
            out.append(
                f'<circle cx="{x + 7:.1f}" cy="{y + 5:.1f}" r="3.5" fill="#fff" stroke="{colour}" stroke-width="1.5"/>'
            )
        else:
            dash = ' stroke-dasharray="5 3"' if kind in ("ref", "dashed") else ""
            out.append(
                f'<line x1="{x:.1f}" x2="{x + 14:.1f}" y1="{y + 5:.1f}" y2="{y + 5:.1f}" stroke="{colour}" '
                f'stroke-width="2"{dash}/>'
            )
        out.append(f'<text class="legend" x="{x + 18:.1f}" y="{y + 9:.1f}">{_esc(label)}</text>')
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
    stacked: bool = False,
    dashed: Sequence[str] = (),
    sparse: dict[str, set[int]] | None = None,
    sparse_label: str = "",
) -> Markup:
    """Grouped (or ``stacked``) bars and/or lines over categorical x, horizontal reference lines,
    vertical marks. Lines named in ``dashed`` are drawn dashed; the points of ``sparse[name]``
    hollow, with ``sparse_label`` in the legend."""
    sparse = sparse or {}
    values = [v for _, vs in list(lines) for v in vs if not missing(v)] + [v for _, v in refs]
    if stacked:
        values += [sum(vs[i] for _, vs in bars if not missing(vs[i])) for i in range(len(x_labels))]
    else:
        values += [v for _, vs in bars for v in vs if not missing(v)]
    if y_max is not None:
        y_min, top, step = 0.0, y_max, y_max / 5
    else:
        y_min, top, step = _scale(min([0.0] + values), max(values + [0.0]) * 1.05)
    legend, colour_i, colours = [], 0, colours or {}

    def colour_of(name: str) -> str:
        nonlocal colour_i
        colour = colours.get(name) or PALETTE[colour_i % len(PALETTE)]
        colour_i += 1
        return colour

    bar_colours = [colour_of(name) for name, _ in bars]
    line_colours = [colour_of(name) for name, _ in lines]
    legend += [(name, c, "bar") for (name, _), c in zip(bars, bar_colours)]
    legend += [(name, c, "dashed" if name in dashed else "line") for (name, _), c in zip(lines, line_colours)]
    if any(sparse.values()):
        legend.append((sparse_label, "#555", "hollow"))
    placed, rows = _legend_layout(legend)
    parts, x_of, band, y_of, below = _frame(chart_id, title, top, y_label, x_labels, y_min, step)
    legend_top = max(below + 8, H - 18)
    parts[0] = _open(chart_id, title, legend_top + LEGEND_ROW * rows + 2)
    if bars:
        inner = band * 0.6 if stacked else band * 0.8 / len(bars)
        base = [0.0] * len(x_labels)
        for s, ((name, vs), colour) in enumerate(zip(bars, bar_colours)):
            for i, v in enumerate(vs):
                if missing(v):
                    continue
                x = x_of(i) - (inner / 2 if stacked else band * 0.4 - s * inner)
                y0, y1 = (y_of(base[i]), y_of(base[i] + v)) if stacked else (y_of(0), y_of(v))
                if stacked:
                    base[i] += v
                parts.append(
                    f'<rect class="mark bar" data-series="{_esc(name)}" data-x="{_esc(x_labels[i])}" '
                    f'data-value="{v:.6g}" x="{x:.1f}" y="{min(y0, y1):.1f}" width="{max(inner - 1, 1):.1f}" '
                    f'height="{max(abs(y0 - y1), 0.5):.1f}" fill="{colour}"><title>{_esc(name)} '
                    f"{_esc(x_labels[i])}: {v:.2f}</title></rect>"
                )
    for (name, vs), colour in zip(lines, line_colours):
        pts = [(x_of(i), y_of(v), i, v) for i, v in enumerate(vs) if not missing(v)]
        dash = ' stroke-dasharray="6 4"' if name in dashed else ""
        if len(pts) > 1:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in pts)
            parts.append(
                f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2"{dash} points="{d}"/>'
            )
        for x, y, i, v in pts:
            hollow = i in sparse.get(name, ())
            fill = f'fill="#fff" stroke="{colour}" stroke-width="1.5"' if hollow else f'fill="{colour}"'
            parts.append(
                f'<circle class="mark point{" sparse" if hollow else ""}" data-series="{_esc(name)}" '
                f'data-x="{_esc(x_labels[i])}" data-value="{v:.6g}" cx="{x:.1f}" cy="{y:.1f}" r="3" {fill}>'
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
    parts.append(_legend(placed, legend_top))
    parts.append("</svg>")
    return Markup("".join(parts))


HEATMAP_PLOT_W = 460


def heatmap(
    chart_id: str,
    title: str,
    rows: list[str],
    cols: list[str],
    cells: dict[tuple[str, str], str],
    row_labels: dict[str, str] | None = None,
    band_labels: dict[str, str] | None = None,
) -> Markup:
    """One cell per (row, column), coloured by its SLA band; a pair without a band stays blank. Rows
    are shown by ``row_labels`` (a name per row key), bands by ``band_labels``; the drawing is as
    wide as its longest row label needs, so no label is cut."""
    row_labels, band_labels = row_labels or {}, band_labels or {}
    left = 12 + max([150.0] + [text_width(row_labels.get(r, r)) for r in rows])
    width = left + HEATMAP_PLOT_W + M_RIGHT
    top = 10
    cw = HEATMAP_PLOT_W / max(len(cols), 1)
    ch = min(28, 220 / max(len(rows), 1))
    # Below the cells: the column labels, turned 45 degrees, then the legend.
    bottom = 14 + 0.72 * max([text_width(c) for c in cols] + [40.0]) + 8
    legend = [(band_labels.get(b, b), SLA_COLOURS[b], "bar") for b in SLA_BANDS]
    placed, legend_rows = _legend_layout(legend, left=12, right=width - M_RIGHT)
    height = top + ch * len(rows) + bottom + LEGEND_ROW * legend_rows + 2
    parts = [_open(chart_id, title, height, width)]
    for r, row in enumerate(rows):
        y = top + r * ch
        parts.append(
            f'<text class="tick" x="{left - 6:.1f}" y="{y + ch / 2 + 4:.1f}" text-anchor="end">'
            f"{_esc(row_labels.get(row, row))}</text>"
        )
        for c, col in enumerate(cols):
            band = cells.get((row, col))
            if band is None:
                continue
            parts.append(
                f'<rect class="mark cell" data-series="{_esc(row)}" data-x="{_esc(col)}" data-value="{_esc(band)}" '
                f'x="{left + c * cw:.1f}" y="{y:.1f}" width="{max(cw - 0.5, 0.5):.2f}" height="{ch - 1:.1f}" '
                f'fill="{SLA_COLOURS.get(band, "#999")}"><title>{_esc(row_labels.get(row, row))} {_esc(col)}: '
                f"{_esc(band_labels.get(band, band))}</title></rect>"
            )
    every = max(1, math.ceil(len(cols) / 12))
    for c, col in enumerate(cols):
        if c % every == 0:
            x, y = left + (c + 0.5) * cw, top + ch * len(rows) + 14
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="end" '
                f'transform="rotate(-45 {x:.1f} {y:.1f})">{_esc(col)}</text>'
            )
    parts.append(_legend(placed, top + ch * len(rows) + bottom))
    parts.append("</svg>")
    return Markup("".join(parts))
