"""The performance report: one self-contained HTML page from the published snapshot.

Read only from ``serving/marts.duckdb`` (opened read-only, so it never waits on the load) and
written to ``serving/report/index.html`` by an atomic rename. Charts are inline SVG drawn here:
no script, no network, no CDN; the page opens from a file share or a mail attachment. Each chart
sits beside its data table and names its source mart and refresh time. A mart that is missing,
empty, or lacks a column shows a "no data yet" panel instead of failing the report.

``publish_dbt_docs`` renders ``dbt docs generate --static`` into ``serving/docs/dbt/`` (GX Data
Docs are already in ``serving/docs/gx/``); the report links both.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from ingest.config import Home

# Logical column -> the mart's column name. A renamed mart column is changed here, not in the
# chart code; a missing one gives a "no data" panel that names it.
COLUMNS: dict[str, dict[str, str]] = {
    "cost_benefit_yearly": {
        "year": "year",
        "investment": "investment_krw",
        "cumulative_investment": "cumulative_investment_krw",
        "savings": "booked_savings_krw",
        "cumulative_savings": "cumulative_savings_krw",
        "net_position": "net_cumulative_position_krw",
        "roi": "roi_to_date",
        "break_even": "is_break_even_year",
    },
    "satisfaction_yearly": {
        "year": "year",
        "segment": "segment",
        "score": "mean_score_100",
    },
    "usage_rate_yearly": {
        "year": "year",
        "usage_rate": "usage_rate_pct",
    },
    "sla_indicator_monthly": {
        "indicator": "indicator_code",
        "period_type": "period_type",
        "period_start": "period_start",
        "measured_value": "measured_value",
        "attainment": "attainment",
    },
    "cs_inspection_performance": {
        "period_type": "period_type",
        "period_start": "period_start",
        "source": "source",
        "inspection_rate": "inspection_rate",
        "hit_rate": "hit_rate",
        "inspections": "inspections",
        "detections": "detections",
    },
}
# Amounts in KRW are shown in billions.
KRW_BILLION = 1e9
# Rollup dimensions of cs_inspection_performance: the chart shows the 'ALL' rows.
CS_ROLLUP_DIMENSIONS = ("customs_office", "transport_mode", "import_type")

# The seed's reference marks for air-cargo import release time (DOMAIN.md section 2).
RELEASE_TIME_MARKS_DAYS = [("2006 goal baseline: 4 days", 4.0), ("after the Single Window matured: 1.5 days", 1.5)]
SLA_BANDS = ["goal", "basic", "minimum", "below_minimum"]
SLA_COLOURS = {"goal": "#1a9850", "basic": "#91cf60", "minimum": "#fee08b", "below_minimum": "#d73027"}
PALETTE = ["#1f5fa8", "#e07b00", "#2a9d5c", "#b8336a", "#6a4c93", "#5b7083"]
MODES = ["air", "sea", "land"]
CHANNELS = ["green", "yellow", "red"]
CHANNEL_COLOURS = {"green": "#2a9d5c", "yellow": "#e0b000", "red": "#c0392b"}


class NoData(Exception):
    """Why a chart cannot be drawn yet; shown on the page."""


@dataclass
class Table:
    columns: list[str]
    rows: list[list]  # display strings


@dataclass
class Chart:
    chart_id: str
    title: str
    mart: str
    caption: str = ""
    svg: str = ""
    table: Table | None = None
    refreshed: str = ""
    no_data: str = ""
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- reading the snapshot


class Snapshot:
    """The published snapshot, read-only. Reading holds the file open, so a swap mid-report
    does not mix two snapshots."""

    def __init__(self, path: Path):
        self.path = path
        self.con = duckdb.connect(str(path), read_only=True)
        self.tables = {
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        self.info = {}
        if "snapshot_info" in self.tables:
            sid, at = self.con.execute("SELECT snapshot_id, published_at FROM snapshot_info").fetchone()
            self.info = {"snapshot_id": sid, "published_at": at}

    def close(self) -> None:
        self.con.close()

    def mart(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise NoData(f"the mart {name} is not in the published snapshot yet")
        df = self.con.execute(f'SELECT * FROM "{name}"').df()
        if df.empty:
            raise NoData(f"the mart {name} has no rows yet")
        return df

    def refreshed(self, name: str) -> str:
        published = _fmt_time(self.info.get("published_at"))
        if name in self.tables:
            cols = {
                r[0]
                for r in self.con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]
                ).fetchall()
            }
            if "source_refreshed_at" in cols:
                at = self.con.execute(f'SELECT max(source_refreshed_at) FROM "{name}"').fetchone()[0]
                if at is not None:
                    return f"data refreshed {_fmt_time(at)}, published {published}"
        return f"published {published}"


def _fmt_time(value) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            return value.strftime("%Y-%m-%d %H:%M UTC")
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def resolve_columns(df: pd.DataFrame, mart: str, needed: list[str]) -> dict[str, str]:
    """Logical names -> actual column names, per COLUMNS; NoData naming what is missing."""
    found = {logical: COLUMNS[mart][logical] for logical in needed}
    missing = [name for name in found.values() if name not in df.columns]
    if missing:
        raise NoData(
            f"the mart {mart} lacks column(s) {'; '.join(missing)}: adjust COLUMNS in ingest/report.py to its names"
        )
    return found


def _year(values: pd.Series) -> pd.Series:
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values):
        return values.astype(int)
    return pd.to_datetime(values).dt.year


def _num(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    return f"{float(value):.{digits}f}"


def _int(value) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{int(value):,}"


# ---------------------------------------------------------------- SVG drawing

W, H = 640, 320
M_LEFT, M_RIGHT, M_TOP, M_BOTTOM = 60, 20, 20, 70


def _nice_max(v: float) -> float:
    if v <= 0 or math.isnan(v):
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= step * exp:
            return step * exp
    return 10 * exp


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _frame(chart_id: str, title: str, y_max: float, y_label: str, x_labels: list[str], y_min: float = 0.0):
    """Axes, grid and x labels; returns (parts, x_of(index) -> centre, band width, y_of(value))."""
    plot_w, plot_h = W - M_LEFT - M_RIGHT, H - M_TOP - M_BOTTOM
    n = max(len(x_labels), 1)
    band = plot_w / n

    def x_of(i: int) -> float:
        return M_LEFT + band * (i + 0.5)

    def y_of(v: float) -> float:
        return M_TOP + plot_h * (1 - (v - y_min) / (y_max - y_min))

    parts = [
        f'<svg class="chart-svg" id="svg-{chart_id}" role="img" viewBox="0 0 {W} {H}" '
        f'width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg"><title>{_esc(title)}</title>'
    ]
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


def _axis_num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}" if v == int(v) else f"{v:.2f}"


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


def svg_bars_and_lines(
    chart_id: str,
    title: str,
    x_labels: list[str],
    bars: list[tuple[str, list]],
    lines: list[tuple[str, list]] = (),
    refs: list[tuple[str, float]] = (),
    y_label: str = "",
    vmarks: list[tuple[int, str]] = (),
    y_max: float | None = None,
    colours: dict[str, str] | None = None,
) -> str:
    """Grouped bars and/or lines over categorical x, horizontal reference lines, vertical marks."""
    values = [v for _, vs in list(bars) + list(lines) for v in vs if v is not None and not pd.isna(v)]
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
                if v is None or pd.isna(v):
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
        pts = [(x_of(i), y_of(v), i, v) for i, v in enumerate(vs) if v is not None and not pd.isna(v)]
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
    return "".join(parts)


def svg_heatmap(chart_id: str, title: str, rows: list[str], cols: list[str], cells: dict[tuple[str, str], str]) -> str:
    """One cell per (row, column), coloured by its SLA band."""
    # Room for the longest indicator code (about 6.5 px a character at the tick font size).
    left, top, bottom = max(150, 12 + int(6.5 * max((len(r) for r in rows), default=0))), 10, 60
    width = W - left - M_RIGHT
    cw = width / max(len(cols), 1)
    ch = min(28, 220 / max(len(rows), 1))
    height = top + ch * len(rows) + bottom
    parts = [
        f'<svg class="chart-svg" id="svg-{chart_id}" role="img" viewBox="0 0 {W} {height:.0f}" width="{W}" '
        f'height="{height:.0f}" xmlns="http://www.w3.org/2000/svg"><title>{_esc(title)}</title>'
    ]
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
    return "".join(parts)


# ---------------------------------------------------------------- the charts


def _trs_rows(snap: Snapshot, grouping_set: str, **dims) -> pd.DataFrame:
    df = snap.mart("trs_release_time")
    df = df[(df["period_type"] == "year") & (df["grouping_set"] == grouping_set)]
    for k, v in dims.items():
        df = df[df[k].isin(v) if isinstance(v, (list, tuple)) else df[k] == v]
    if df.empty:
        raise NoData(f"trs_release_time has no yearly rows for {grouping_set} {dims} yet")
    df = df.assign(year=_year(df["period_start"])).sort_values("year")
    return df


def chart_air_import_release(snap: Snapshot) -> Chart:
    c = Chart(
        "air-import-release",
        "Release time of air-cargo imports per year",
        "trs_release_time",
        "Arrival to release, calendar days; mean and median of every released declaration. Dashed lines: the "
        "case study's marks (about 4 days at the 2006 launch, about 1.5 days once the Single Window matured).",
    )
    df = _trs_rows(snap, "period+type+mode", declaration_type="import", transport_mode="air")
    years = [str(y) for y in df["year"]]
    mean, median = list(df["mean_hours"] / 24), list(df["median_hours"] / 24)
    c.svg = svg_bars_and_lines(
        c.chart_id, c.title, years, [("mean", mean), ("median", median)], refs=RELEASE_TIME_MARKS_DAYS, y_label="days"
    )
    c.table = Table(
        ["year", "declarations", "released", "mean days", "median days", "p90 days"],
        [
            [y, _int(n), _int(r), _num(a), _num(m), _num(p)]
            for y, n, r, a, m, p in zip(years, df["declarations"], df["released"], mean, median, df["p90_hours"] / 24)
        ],
    )
    return c


def chart_release_by_mode(snap: Snapshot) -> Chart:
    c = Chart(
        "release-by-mode",
        "Median release time of imports per year, by mode of transport",
        "trs_release_time",
        "Arrival to release, calendar days (median), imports.",
    )
    df = _trs_rows(snap, "period+type+mode", declaration_type="import", transport_mode=MODES)
    wide = df.pivot_table(index="year", columns="transport_mode", values="median_hours", aggfunc="first") / 24
    modes = [m for m in MODES if m in wide.columns]
    years = [str(y) for y in wide.index]
    c.svg = svg_bars_and_lines(
        c.chart_id, c.title, years, [], lines=[(m, list(wide[m])) for m in modes], y_label="days"
    )
    c.table = Table(
        ["year"] + [f"{m} median days" for m in modes],
        [[str(y)] + [_num(wide.at[y, m]) for m in modes] for y in wide.index],
    )
    return c


def chart_release_by_channel(snap: Snapshot) -> Chart:
    c = Chart(
        "release-by-channel",
        "Median release time of air-cargo imports per year, by C/S channel",
        "trs_release_time",
        "Arrival to release, calendar days (median); green = no inspection, "
        "yellow = documentary check, red = physical inspection.",
    )
    df = _trs_rows(snap, "period+type+mode+channel", declaration_type="import", transport_mode="air", channel=CHANNELS)
    wide = df.pivot_table(index="year", columns="channel", values="median_hours", aggfunc="first") / 24
    chans = [ch for ch in CHANNELS if ch in wide.columns]
    years = [str(y) for y in wide.index]
    c.svg = svg_bars_and_lines(
        c.chart_id, c.title, years, [(ch, list(wide[ch])) for ch in chans], y_label="days", colours=CHANNEL_COLOURS
    )
    c.table = Table(
        ["year"] + [f"{ch} median days" for ch in chans],
        [[str(y)] + [_num(wide.at[y, ch]) for ch in chans] for y in wide.index],
    )
    return c


def chart_cost_benefit(snap: Snapshot) -> Chart:
    mart = "cost_benefit_yearly"
    c = Chart(
        "cost-benefit",
        "Cumulative logistics-cost savings against cumulative investment",
        mart,
        "Per year; the break-even year is the first in which cumulative savings reach cumulative investment.",
    )
    df = snap.mart(mart)
    col = resolve_columns(df, mart, ["year", "cumulative_investment", "cumulative_savings"])
    df = df.assign(_year=_year(df[col["year"]])).sort_values("_year")
    years = [str(y) for y in df["_year"]]
    inv = [v / KRW_BILLION for v in df[col["cumulative_investment"]]]
    sav = [v / KRW_BILLION for v in df[col["cumulative_savings"]]]
    flag = COLUMNS[mart]["break_even"] if COLUMNS[mart]["break_even"] in df.columns else None
    if flag is not None and pd.api.types.is_bool_dtype(df[flag]):
        hits = [i for i, v in enumerate(df[flag]) if v]
    else:  # no flag column: the rule itself (DOMAIN.md section 6)
        hits = [i for i, (a, b) in enumerate(zip(inv, sav)) if b >= a]
    be = hits[0] if hits else None
    c.extra["break_even_year"] = years[be] if be is not None else None
    c.svg = svg_bars_and_lines(
        c.chart_id,
        c.title,
        years,
        [],
        lines=[("cumulative investment", inv), ("cumulative savings", sav)],
        vmarks=[(be, f"break-even {years[be]}")] if be is not None else [],
        y_label="bn KRW",
    )
    optional = [k for k in ("investment", "savings", "net_position", "roi") if COLUMNS[mart][k] in df.columns]
    col.update(resolve_columns(df, mart, optional))
    heads = [
        "year",
        "investment (bn KRW)",
        "cumulative investment (bn KRW)",
        "savings (bn KRW)",
        "cumulative savings (bn KRW)",
        "net position (bn KRW)",
        "ROI to date",
    ]
    keys = [None, "investment", "cumulative_investment", "savings", "cumulative_savings", "net_position", "roi"]
    shown = [(h, k) for h, k in zip(heads, keys) if k is None or k in col]
    rows = []
    for i, (_, r) in enumerate(df.iterrows()):
        row = [years[i] + (" (break-even)" if i == be else "")]
        row += [_num(r[col[k]], 3) if k == "roi" else _num(r[col[k]] / KRW_BILLION, 2) for _, k in shown[1:]]
        rows.append(row)
    c.table = Table([h for h, _ in shown], rows)
    return c


def chart_satisfaction_usage(snap: Snapshot) -> Chart:
    c = Chart(
        "satisfaction-usage",
        "Satisfaction per year with the Single Window usage rate",
        "satisfaction_yearly, usage_rate_yearly",
        "Bars: mean satisfaction of all respondents (0-100). Line: share of declarations lodged through the "
        "Single Window, percent.",
    )
    sat = snap.mart("satisfaction_yearly")
    sc = resolve_columns(sat, "satisfaction_yearly", ["year", "segment", "score"])
    sat = sat[(sat[sc["segment"]] == "ALL") & ((sat["item"] == "ALL") if "item" in sat.columns else True)]
    if sat.empty:
        raise NoData("satisfaction_yearly has no segment 'ALL' rows yet")
    scores = dict(zip(_year(sat[sc["year"]]), sat[sc["score"]]))
    try:
        use = snap.mart("usage_rate_yearly")
        uc = resolve_columns(use, "usage_rate_yearly", ["year", "usage_rate"])
        usage = dict(zip(_year(use[uc["year"]]), use[uc["usage_rate"]]))
    except NoData as exc:
        usage, c.extra["usage_note"] = {}, str(exc)
    # A rate stored as a fraction is drawn as percent, on the same 0-100 axis as the score.
    scale = 100.0 if usage and max(usage.values()) <= 1.0 else 1.0
    years = sorted(set(scores) | set(usage))
    labels = [str(y) for y in years]
    c.svg = svg_bars_and_lines(
        c.chart_id,
        c.title,
        labels,
        [("satisfaction (0-100)", [scores.get(y) for y in years])],
        lines=[("usage rate %", [usage[y] * scale if y in usage else None for y in years])] if usage else [],
        y_label="score / percent",
        y_max=100.0,
    )
    c.table = Table(
        ["year", "satisfaction (0-100)", "usage rate" + (" (fraction)" if scale != 1 else " %")],
        [[str(y), _num(scores.get(y)), _num(usage.get(y), 3 if scale != 1 else 2)] for y in years],
    )
    return c


def chart_sla(snap: Snapshot) -> Chart:
    mart = "sla_indicator_monthly"
    c = Chart(
        "sla-attainment",
        "SLA attainment per indicator per month",
        mart,
        "Band of each month's measured value against that contract year's levels: goal, basic, minimum, below minimum.",
    )
    df = snap.mart(mart)
    col = resolve_columns(df, mart, ["indicator", "period_start", "measured_value", "attainment"])
    if "period_type" in df.columns:
        df = df[df["period_type"] == "month"]
    if df.empty:
        raise NoData(f"{mart} has no monthly rows yet")
    df = df.assign(_month=pd.to_datetime(df[col["period_start"]]).dt.strftime("%Y-%m")).sort_values(
        [col["indicator"], "_month"]
    )
    indicators = list(dict.fromkeys(df[col["indicator"]]))
    months = sorted(set(df["_month"]))
    # NULL attainment: nothing to measure that month (e.g. no request due); the cell stays blank.
    band = {i: (v if isinstance(v, str) else "–") for i, v in df[col["attainment"]].items()}
    cells = {(str(r[col["indicator"]]), r["_month"]): band[i] for i, r in df.iterrows() if band[i] != "–"}
    c.svg = svg_heatmap(c.chart_id, c.title, [str(i) for i in indicators], months, cells)
    c.table = Table(
        ["indicator", "month", "measured value", "attainment"],
        [[str(r[col["indicator"]]), r["_month"], _num(r[col["measured_value"]], 3), band[i]] for i, r in df.iterrows()],
    )
    return c


def chart_cs_inspection(snap: Snapshot) -> Chart:
    mart = "cs_inspection_performance"
    c = Chart(
        "cs-inspection",
        "C/S inspection rate and detection (hit) rate over time",
        mart,
        "Monthly, all offices, modes and import types. Inspection rate = inspected / all declarations; "
        "hit rate = inspections that found a violation / inspections. Drawn in percent.",
    )
    df = snap.mart(mart)
    col = resolve_columns(df, mart, ["period_start", "source", "inspection_rate", "hit_rate"])
    if "period_type" in df.columns:
        df = df[df["period_type"] == "month"]
    for dim in CS_ROLLUP_DIMENSIONS:
        if dim in df.columns:
            df = df[df[dim] == "ALL"]
    if df.empty:
        raise NoData(f"{mart} has no monthly all-'ALL' rows yet")
    df = df.assign(_month=pd.to_datetime(df[col["period_start"]]).dt.strftime("%Y-%m")).sort_values(
        [col["source"], "_month"]
    )
    months = sorted(set(df["_month"]))
    rates = [col["inspection_rate"], col["hit_rate"]]
    scale = 100.0 if df[rates].abs().max().max() <= 1.0 else 1.0
    lines = []
    for source, part in df.groupby(col["source"], sort=True):
        by = part.set_index("_month")
        for key, label in ((col["inspection_rate"], "inspection rate"), (col["hit_rate"], "hit rate")):
            lines.append((f"{label} ({source})", [by[key].get(m) * scale if m in by.index else None for m in months]))
    c.svg = svg_bars_and_lines(c.chart_id, c.title, months, [], lines=lines, y_label="percent")
    counts = [k for k in ("inspections", "detections") if COLUMNS[mart][k] in df.columns]
    col.update(resolve_columns(df, mart, counts))
    c.table = Table(
        ["month", "source"] + counts + ["inspection rate", "hit rate"],
        [
            [r["_month"], str(r[col["source"]])]
            + [_int(r[col[k]]) for k in counts]
            + [_num(r[col["inspection_rate"]], 4), _num(r[col["hit_rate"]], 4)]
            for _, r in df.iterrows()
        ],
    )
    return c


CHARTS = [
    chart_air_import_release,
    chart_release_by_mode,
    chart_release_by_channel,
    chart_cost_benefit,
    chart_satisfaction_usage,
    chart_sla,
    chart_cs_inspection,
]
# The mart(s) each chart reads, for its "no data yet" panel.
CHART_META = {
    chart_air_import_release: ("air-import-release", "Release time of air-cargo imports per year", "trs_release_time"),
    chart_release_by_mode: (
        "release-by-mode",
        "Median release time of imports per year, by mode of transport",
        "trs_release_time",
    ),
    chart_release_by_channel: (
        "release-by-channel",
        "Median release time of air-cargo imports per year, by C/S channel",
        "trs_release_time",
    ),
    chart_cost_benefit: (
        "cost-benefit",
        "Cumulative logistics-cost savings against cumulative investment",
        "cost_benefit_yearly",
    ),
    chart_satisfaction_usage: (
        "satisfaction-usage",
        "Satisfaction per year with the Single Window usage rate",
        "satisfaction_yearly, usage_rate_yearly",
    ),
    chart_sla: ("sla-attainment", "SLA attainment per indicator per month", "sla_indicator_monthly"),
    chart_cs_inspection: (
        "cs-inspection",
        "C/S inspection rate and detection (hit) rate over time",
        "cs_inspection_performance",
    ),
}


# ---------------------------------------------------------------- the page

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans KR',sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:16px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;font-size:13px;opacity:.9}header a{color:#cfe3ff}
main{padding:12px 28px}section.chart{background:#fff;border:1px solid #dde2e8;border-radius:6px;margin:14px 0;padding:14px 18px}
section h2{font-size:17px;margin:0 0 4px}.meta{font-size:12px;color:#56606b;margin:0 0 8px}.caption{font-size:13px;margin:4px 0 10px}
.body{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}.body figure{margin:0}
.data{max-height:330px;overflow:auto;border:1px solid #e4e8ee}table{border-collapse:collapse;font-size:12px}
th,td{padding:3px 8px;border-bottom:1px solid #eef1f4;text-align:right;white-space:nowrap}th{background:#f0f3f7;position:sticky;top:0}
td:first-child,th:first-child{text-align:left}.nodata{background:#fbfbfc;border-style:dashed}
.nodata .panel{padding:18px;color:#56606b;font-size:14px}
svg .grid{stroke:#e6e9ee}svg .axis{stroke:#888}svg text{font-size:11px;fill:#333}svg .axis-label{font-size:12px}
svg .ref-label{font-size:11px;fill:#444}svg .legend{font-size:11px}
footer{font-size:12px;color:#56606b;padding:8px 28px 24px}
"""


def _table_html(chart: Chart) -> str:
    t = chart.table
    head = "".join(f"<th>{_esc(h)}</th>" for h in t.columns)
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>" for row in t.rows)
    return (
        f'<div class="data"><table class="data-table" data-chart="{chart.chart_id}" data-mart="{_esc(chart.mart)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _section(chart: Chart) -> str:
    if chart.no_data:
        return (
            f'<section class="chart nodata" id="{chart.chart_id}" data-chart="{chart.chart_id}" data-state="no-data">'
            f'<h2>{_esc(chart.title)}</h2><p class="meta">Source mart: <code>{_esc(chart.mart)}</code></p>'
            f'<div class="panel">No data yet: {_esc(chart.no_data)}.</div></section>'
        )
    extra = "".join(f'<p class="meta">{_esc(v)}</p>' for k, v in chart.extra.items() if k.endswith("_note"))
    return (
        f'<section class="chart" id="{chart.chart_id}" data-chart="{chart.chart_id}" data-state="ok">'
        f"<h2>{_esc(chart.title)}</h2>"
        f'<p class="meta">Source mart: <code>{_esc(chart.mart)}</code> · {_esc(chart.refreshed)}</p>{extra}'
        f'<p class="caption">{_esc(chart.caption)}</p>'
        f'<div class="body"><figure>{chart.svg}</figure>{_table_html(chart)}</div></section>'
    )


def _docs_links(home: Home) -> str:
    links = []
    for label, rel in (
        ("dbt docs (models, columns, lineage)", "docs/dbt/index.html"),
        ("Great Expectations Data Docs (mart checks)", "docs/gx/index.html"),
    ):
        if (home.serving / rel).exists():
            links.append(f'<a href="../{rel}">{label}</a>')
        else:
            links.append(f"{label}: not generated yet")
    return " · ".join(links)


def build_charts(snap: Snapshot) -> list[Chart]:
    charts = []
    for fn in CHARTS:
        chart_id, title, mart = CHART_META[fn]
        try:
            chart = fn(snap)
            chart.refreshed = (
                "; ".join(f"{m}: {snap.refreshed(m)}" for m in mart.split(", "))
                if "," in mart
                else snap.refreshed(mart)
            )
        except NoData as exc:
            chart = Chart(chart_id, title, mart, no_data=str(exc))
        charts.append(chart)
    return charts


def render(home: Home, charts: list[Chart], info: dict) -> str:
    now = dt.datetime.now(dt.UTC)
    sections = "".join(_section(c) for c in charts)
    shown = sum(not c.no_data for c in charts)
    snapshot = (
        f"snapshot {_esc(info.get('snapshot_id', '?'))}, published {_esc(_fmt_time(info.get('published_at')))}"
        if info
        else "no snapshot information"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Single Window performance report</title>"
        f"<style>{CSS}</style></head><body>"
        "<header><h1>Single Window performance report</h1>"
        f"<p>From the published snapshot <code>serving/marts.duckdb</code>: {snapshot}. "
        f"Report built {now:%Y-%m-%d %H:%M} UTC; {shown} of {len(charts)} charts have data.</p>"
        f"<p>{_docs_links(home)}</p></header><main>{sections}</main>"
        "<footer>Release time = release minus arrival, calendar time (WCO Time Release Study). Every figure is read "
        "from the marts; the tables beside the charts hold the exact values drawn.</footer></body></html>\n"
    )


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def build_report(home: Home) -> Path:
    """Write serving/report/index.html from the published snapshot; returns its path."""
    source = home.snapshot
    target = home.serving / "report" / "index.html"
    if source.exists():
        snap = Snapshot(source)
        try:
            charts, info = build_charts(snap), snap.info
        finally:
            snap.close()
    else:
        info = {}
        charts = [
            Chart(cid, title, mart, no_data=f"nothing has been published to {source} yet (run the nightly load)")
            for cid, title, mart in CHART_META.values()
        ]
    _atomic_write(target, render(home, charts, info))
    return target


def publish_dbt_docs(home: Home) -> Path:
    """``dbt docs generate --static`` (one self-contained page: manifest and catalog inside)
    into serving/docs/dbt/index.html."""
    from ingest.run.dbt import run_dbt

    run_dbt(home, "docs generate", "--static")
    built = home.warehouse_dir / "dbt" / "target" / "static_index.html"
    if not built.exists():
        raise FileNotFoundError(f"dbt docs generate --static did not write {built}")
    target = home.serving / "docs" / "dbt" / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(".index.html.part")
    shutil.copyfile(built, tmp)
    os.replace(tmp, target)
    return target
