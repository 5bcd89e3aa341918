"""The report's charts: what each one shows, the queries it reads, and how its rows become an
inline SVG and the data table beside it (the table holds the exact values drawn)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from markupsafe import Markup

from . import queries as q
from . import svg
from .queries import Query
from .snapshot import NoData, Snapshot

# The seed's reference marks for air-cargo import release time (docs/domain.md#time-release-study).
RELEASE_TIME_MARKS_DAYS = [("2006 goal baseline: 4 days", 4.0), ("after the Single Window matured: 1.5 days", 1.5)]
MODES = ["air", "sea", "land"]
CHANNELS = ["green", "yellow", "red"]
CHANNEL_COLOURS = {"green": "#2a9d5c", "yellow": "#e0b000", "red": "#c0392b"}


def num(value, digits: int = 2) -> str:
    return "–" if svg.missing(value) else f"{float(value):.{digits}f}"


def count(value) -> str:
    return "–" if value is None else f"{int(value):,}"


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]  # display strings


@dataclass
class Drawn:
    svg: Markup
    table: Table


@dataclass(frozen=True)
class ChartSpec:
    chart_id: str
    title: str
    caption: str
    queries: tuple[Query, ...]
    draw: Callable[[ChartSpec, list[list[dict] | None]], Drawn]  # rows per query (None: optional, missing)

    @property
    def mart(self) -> str:
        return ", ".join(dict.fromkeys(query.mart for query in self.queries))


@dataclass
class Chart:
    """One section of the page: drawn, or a "no data yet" panel saying why."""

    chart_id: str
    title: str
    mart: str
    caption: str = ""
    svg: Markup = Markup("")
    table: Table | None = None
    refreshed: str = ""
    notes: list[str] = field(default_factory=list)
    no_data: str = ""


def _pivot(rows: list[dict], column: str, order: list[str]) -> tuple[list, list[str], dict]:
    """Year x ``column`` -> median days: (years, the ``order`` values present, cells)."""
    years = list(dict.fromkeys(r["year"] for r in rows))
    present = [k for k in order if any(r[column] == k for r in rows)]
    return years, present, {(r["year"], r[column]): r["median_days"] for r in rows}


def draw_air_import_release(spec: ChartSpec, data) -> Drawn:
    [rows] = data
    years = [str(r["year"]) for r in rows]
    mean, median = [r["mean_days"] for r in rows], [r["median_days"] for r in rows]
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            spec.title,
            years,
            [("mean", mean), ("median", median)],
            refs=RELEASE_TIME_MARKS_DAYS,
            y_label="days",
        ),
        Table(
            ["year", "declarations", "released", "mean days", "median days", "p90 days"],
            [
                [str(r["year"]), count(r["declarations"]), count(r["released"])]
                + [num(r[k]) for k in ("mean_days", "median_days", "p90_days")]
                for r in rows
            ],
        ),
    )


def draw_release_by_mode(spec: ChartSpec, data) -> Drawn:
    years, modes, cell = _pivot(data[0], "transport_mode", MODES)
    labels = [str(y) for y in years]
    lines = [(m, [cell.get((y, m)) for y in years]) for m in modes]
    return Drawn(
        svg.bars_and_lines(spec.chart_id, spec.title, labels, lines=lines, y_label="days"),
        Table(
            ["year"] + [f"{m} median days" for m in modes],
            [[str(y)] + [num(cell.get((y, m))) for m in modes] for y in years],
        ),
    )


def draw_release_by_channel(spec: ChartSpec, data) -> Drawn:
    years, chans, cell = _pivot(data[0], "channel", CHANNELS)
    labels = [str(y) for y in years]
    bars = [(ch, [cell.get((y, ch)) for y in years]) for ch in chans]
    return Drawn(
        svg.bars_and_lines(spec.chart_id, spec.title, labels, bars, y_label="days", colours=CHANNEL_COLOURS),
        Table(
            ["year"] + [f"{ch} median days" for ch in chans],
            [[str(y)] + [num(cell.get((y, ch))) for ch in chans] for y in years],
        ),
    )


def draw_cost_benefit(spec: ChartSpec, data) -> Drawn:
    [rows] = data
    years = [str(r["year"]) for r in rows]
    # The break-even year is the mart's (is_break_even_year, docs/domain.md#cost-and-benefit), not recomputed here.
    be = next((i for i, r in enumerate(rows) if r["is_break_even_year"]), None)
    amounts = ["investment_bn", "cumulative_investment_bn", "savings_bn", "cumulative_savings_bn", "net_position_bn"]
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            spec.title,
            years,
            lines=[
                ("cumulative investment", [r["cumulative_investment_bn"] for r in rows]),
                ("cumulative savings", [r["cumulative_savings_bn"] for r in rows]),
            ],
            vmarks=[(be, f"break-even {years[be]}")] if be is not None else [],
            y_label="bn KRW",
        ),
        Table(
            [
                "year",
                "investment (bn KRW)",
                "cumulative investment (bn KRW)",
                "savings (bn KRW)",
                "cumulative savings (bn KRW)",
                "net position (bn KRW)",
                "ROI to date",
            ],
            [
                [years[i] + (" (break-even)" if i == be else "")]
                + [num(r[k]) for k in amounts]
                + [num(r["roi_to_date"], 3)]
                for i, r in enumerate(rows)
            ],
        ),
    )


def draw_satisfaction_usage(spec: ChartSpec, data) -> Drawn:
    sat_rows, use_rows = data
    scores = {r["year"]: r["mean_score_100"] for r in sat_rows}
    usage = {r["year"]: r["usage_rate_pct"] for r in use_rows or ()}
    years = sorted(set(scores) | set(usage))
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            spec.title,
            [str(y) for y in years],
            [("satisfaction (0-100)", [scores.get(y) for y in years])],
            lines=[("usage rate %", [usage.get(y) for y in years])] if usage else [],
            y_label="score / percent",
            y_max=100.0,
        ),
        Table(
            ["year", "satisfaction (0-100)", "usage rate %"],
            [[str(y), num(scores.get(y)), num(usage.get(y))] for y in years],
        ),
    )


def draw_sla(spec: ChartSpec, data) -> Drawn:
    [rows] = data
    indicators = list(dict.fromkeys(r["indicator_code"] for r in rows))
    months = sorted({r["month"] for r in rows})
    # NULL attainment: nothing to measure that month (e.g. no request due); the cell stays blank.
    cells = {(r["indicator_code"], r["month"]): r["attainment"] for r in rows if r["attainment"] is not None}
    return Drawn(
        svg.heatmap(spec.chart_id, spec.title, indicators, months, cells),
        Table(
            ["indicator", "month", "measured value", "attainment"],
            [[r["indicator_code"], r["month"], num(r["measured_value"], 3), r["attainment"] or "–"] for r in rows],
        ),
    )


def draw_cs_inspection(spec: ChartSpec, data) -> Drawn:
    [rows] = data
    months = sorted({r["month"] for r in rows})
    lines = []
    for source in dict.fromkeys(r["source"] for r in rows):
        by_month = {r["month"]: r for r in rows if r["source"] == source}
        for key, label in (("inspection_pct", "inspection rate"), ("hit_pct", "hit rate")):
            lines.append((f"{label} ({source})", [by_month[m][key] if m in by_month else None for m in months]))
    return Drawn(
        svg.bars_and_lines(spec.chart_id, spec.title, months, lines=lines, y_label="percent"),
        Table(
            ["month", "source", "inspections", "detections", "inspection rate", "hit rate"],
            [
                [r["month"], r["source"], count(r["inspections"]), count(r["detections"])]
                + [num(r["inspection_rate"], 4), num(r["hit_rate"], 4)]
                for r in rows
            ],
        ),
    )


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "air-import-release",
        "Release time of air-cargo imports per year",
        "Arrival to release, calendar days; mean and median of every released declaration. Dashed lines: the "
        "case study's marks (about 4 days at the 2006 launch, about 1.5 days once the Single Window matured).",
        (q.AIR_IMPORT_RELEASE,),
        draw_air_import_release,
    ),
    ChartSpec(
        "release-by-mode",
        "Median release time of imports per year, by mode of transport",
        "Arrival to release, calendar days (median), imports.",
        (q.RELEASE_BY_MODE,),
        draw_release_by_mode,
    ),
    ChartSpec(
        "release-by-channel",
        "Median release time of air-cargo imports per year, by C/S channel",
        "Arrival to release, calendar days (median); green = no inspection, "
        "yellow = documentary check, red = physical inspection.",
        (q.RELEASE_BY_CHANNEL,),
        draw_release_by_channel,
    ),
    ChartSpec(
        "cost-benefit",
        "Cumulative logistics-cost savings against cumulative investment",
        "Per year; the break-even year is the first in which cumulative savings reach cumulative investment.",
        (q.COST_BENEFIT,),
        draw_cost_benefit,
    ),
    ChartSpec(
        "satisfaction-usage",
        "Satisfaction per year with the Single Window usage rate",
        "Bars: mean satisfaction of all respondents (0-100). Line: share of declarations lodged through the "
        "Single Window, percent.",
        (q.SATISFACTION, q.USAGE_RATE),
        draw_satisfaction_usage,
    ),
    ChartSpec(
        "sla-attainment",
        "SLA attainment per indicator per month",
        "Band of each month's measured value against that contract year's levels: goal, basic, minimum, below minimum.",
        (q.SLA_ATTAINMENT,),
        draw_sla,
    ),
    ChartSpec(
        "cs-inspection",
        "C/S inspection rate and detection (hit) rate over time",
        "Monthly, all offices, modes and import types. Inspection rate = inspected / all declarations; "
        "hit rate = inspections that found a violation / inspections. Drawn in percent.",
        (q.CS_INSPECTION,),
        draw_cs_inspection,
    ),
)


def no_data(spec: ChartSpec, why: str) -> Chart:
    return Chart(spec.chart_id, spec.title, spec.mart, no_data=why)


def build_chart(spec: ChartSpec, snap: Snapshot) -> Chart:
    """The chart drawn from the snapshot, or its "no data yet" panel."""
    data, notes = [], []
    try:
        for query in spec.queries:
            try:
                data.append(snap.rows(query))
            except NoData as exc:
                if not query.optional:
                    raise
                data.append(None)
                notes.append(str(exc))
    except NoData as exc:
        return no_data(spec, str(exc))
    drawn = spec.draw(spec, data)
    marts = list(dict.fromkeys(query.mart for query in spec.queries))
    refreshed = snap.refreshed(marts[0]) if len(marts) == 1 else "; ".join(f"{m}: {snap.refreshed(m)}" for m in marts)
    return Chart(
        spec.chart_id,
        spec.title,
        spec.mart,
        spec.caption,
        drawn.svg,
        drawn.table,
        refreshed,
        notes,
    )
