"""The report's sections: what each chart shows, the queries it reads, and how its rows become an
inline SVG and the data table beside it (the table holds the values drawn). The TRS charts are in
trs_charts.py; the others here. A new section is a ChartSpec in CHARTS (its title and caption in
other languages in texts/<lang>.yml, by chart id)."""

from __future__ import annotations

from . import queries as q
from . import svg
from .snapshot import NoData, Snapshot, fmt_time
from .spec import Chart, ChartSpec, Drawn
from .tables import Table, count, num, text
from .texts import Words
from .trs_charts import TRS_CHARTS

__all__ = ["CHARTS", "Chart", "ChartSpec", "Drawn", "build_chart", "no_data"]

# A monthly rate drawn from fewer cases than this (C/S: inspections in the month) is marked: its
# point is drawn hollow and its table row says so (docs/architecture.md#the-performance-report).
MIN_MONTHLY_CASES = 30


def draw_cost_benefit(spec: ChartSpec, data, w: Words) -> Drawn:
    [rows] = data
    years = [str(r["year"]) for r in rows]
    # The break-even year is the mart's (is_break_even_year, docs/domain.md#cost-and-benefit), not recomputed here.
    be = next((i for i, r in enumerate(rows) if r["is_break_even_year"]), None)
    amounts = ["investment_bn", "cumulative_investment_bn", "savings_bn", "cumulative_savings_bn", "net_position_bn"]
    heads = ["investment", "cumulative investment", "savings", "cumulative savings", "net position"]
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            years,
            lines=[
                (w.t("cumulative investment"), [r["cumulative_investment_bn"] for r in rows]),
                (w.t("cumulative savings"), [r["cumulative_savings_bn"] for r in rows]),
            ],
            vmarks=[(be, w.t("break-even {year}", year=years[be]))] if be is not None else [],
            y_label=w.t("bn KRW"),
        ),
        Table.of(
            [w.t("year")] + [w.t("{name} (bn KRW)", name=w.t(h)) for h in heads] + [w.t("ROI to date")],
            [
                [years[i] + (w.t(" (break-even)") if i == be else "")] + [r[k] for k in amounts] + [r["roi_to_date"]]
                for i, r in enumerate(rows)
            ],
            [text] + [num()] * len(amounts) + [num(3)],
        ),
    )


def draw_satisfaction_usage(spec: ChartSpec, data, w: Words) -> Drawn:
    sat_rows, use_rows = data
    scores = {r["year"]: r["mean_score_100"] for r in sat_rows}
    usage = {r["year"]: r["usage_rate_pct"] for r in use_rows or ()}
    years = sorted(set(scores) | set(usage))
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            [str(y) for y in years],
            [(w.t("satisfaction (0-100)"), [scores.get(y) for y in years])],
            lines=[(w.t("usage rate %"), [usage.get(y) for y in years])] if usage else [],
            y_label=w.t("score / percent"),
            y_max=100.0,
        ),
        Table.of(
            [w.t("year"), w.t("satisfaction (0-100)"), w.t("usage rate %")],
            [[y, scores.get(y), usage.get(y)] for y in years],
            [text, num(), num()],
        ),
    )


def draw_sla(spec: ChartSpec, data, w: Words) -> Drawn:
    [rows] = data
    indicators = list(dict.fromkeys(r["indicator_code"] for r in rows))
    months = sorted({r["month"] for r in rows})
    names = {i: w.name("indicator", i) for i in indicators}
    bands = {b: w.name("attainment", b) for b in svg.SLA_BANDS}
    # NULL attainment: nothing to measure that month (e.g. no request due); the cell stays blank.
    cells = {(r["indicator_code"], r["month"]): r["attainment"] for r in rows if r["attainment"] is not None}
    return Drawn(
        svg.heatmap(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            indicators,
            months,
            cells,
            row_labels=names,
            band_labels=bands,
        ),
        Table.of(
            [w.t("indicator"), w.t("month"), w.t("measured value"), w.t("attainment")],
            [
                [
                    names[r["indicator_code"]],
                    r["month"],
                    r["measured_value"],
                    bands.get(r["attainment"], r["attainment"]),
                ]
                for r in rows
            ],
            [text, text, num(3), text],
        ),
    )


def draw_cs_inspection(spec: ChartSpec, data, w: Words) -> Drawn:
    [rows] = data
    months = sorted({r["month"] for r in rows})
    lines, sparse = [], {}
    for source in dict.fromkeys(r["source"] for r in rows):
        by_month = {r["month"]: r for r in rows if r["source"] == source}
        few = {
            i for i, m in enumerate(months) if m in by_month and (by_month[m]["inspections"] or 0) < MIN_MONTHLY_CASES
        }
        for key, label in (("inspection_pct", "inspection rate"), ("hit_pct", "hit rate")):
            name = w.t("{rate} ({source})", rate=w.t(label), source=w.name("cs_source", source))
            lines.append((name, [by_month[m][key] if m in by_month else None for m in months]))
            sparse[name] = few
    flag = w.t("fewer than {n} inspections", n=MIN_MONTHLY_CASES)
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            months,
            lines=lines,
            y_label=w.t("percent"),
            sparse=sparse,
            sparse_label=flag,
        ),
        Table.of(
            [w.t(h) for h in ("month", "source", "inspections", "detections", "inspection rate", "hit rate", "note")],
            [
                [r["month"], w.name("cs_source", r["source"]), r["inspections"], r["detections"]]
                + [r["inspection_rate"], r["hit_rate"], flag if (r["inspections"] or 0) < MIN_MONTHLY_CASES else ""]
                for r in rows
            ],
            [text, text, count, count, num(4), num(4), text],
        ),
    )


OTHER_CHARTS: tuple[ChartSpec, ...] = (
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
        "hit rate = inspections that found a violation / inspections. Drawn in percent; a month with fewer than "
        f"{MIN_MONTHLY_CASES} inspections is drawn as an open circle (too few to read a rate from).",
        (q.CS_INSPECTION,),
        draw_cs_inspection,
    ),
)

CHARTS: tuple[ChartSpec, ...] = TRS_CHARTS + OTHER_CHARTS


def _refreshed(snap: Snapshot, mart: str, w: Words) -> str:
    published = fmt_time(snap.info.get("published_at"))
    at = snap.refreshed_at(mart)
    if at is None:
        return w.t("published {published}", published=published)
    return w.t("data refreshed {at}, published {published}", at=fmt_time(at), published=published)


def no_data(spec: ChartSpec, why: str, w: Words | None = None) -> Chart:
    w = w or Words()
    return Chart(spec.chart_id, w.chart(spec.chart_id, "title", spec.title), spec.mart, no_data=why)


def build_chart(spec: ChartSpec, snap: Snapshot, w: Words | None = None) -> Chart:
    """The chart drawn from the snapshot, or its "no data yet" panel."""
    w = w or Words()
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
        return no_data(spec, str(exc), w)
    drawn = spec.draw(spec, data, w)
    marts = list(dict.fromkeys(query.mart for query in spec.queries))
    refreshed = (
        _refreshed(snap, marts[0], w) if len(marts) == 1 else "; ".join(f"{m}: {_refreshed(snap, m, w)}" for m in marts)
    )
    return Chart(
        spec.chart_id,
        w.chart(spec.chart_id, "title", spec.title),
        spec.mart,
        w.chart(spec.chart_id, "caption", spec.caption),
        drawn.svg,
        drawn.table,
        refreshed,
        drawn.notes + notes,
    )
