"""The Time Release Study's charts: release time of air-cargo imports, by mode and by channel, the
release curves, the share within target, who holds the time, and the facilitation cohorts
(docs/trs.md). Each draws its rows as SVG with the table of the values drawn beside it."""

from __future__ import annotations

from . import queries as q
from . import svg
from .spec import ChartSpec, Drawn
from .tables import Table, count, num, pct, text
from .texts import Words

# The seed's reference marks for air-cargo import release time (docs/domain.md#time-release-study).
RELEASE_TIME_MARKS_DAYS = [("2006 goal baseline: 4 days", 4.0), ("after the Single Window matured: 1.5 days", 1.5)]
MODES = ["air", "sea", "land"]
MODE_COLOURS = {"air": "#1f5fa8", "sea": "#e07b00", "land": "#2a9d5c"}
CHANNELS = ["green", "yellow", "red"]
CHANNEL_COLOURS = {"green": "#2a9d5c", "yellow": "#e0b000", "red": "#c0392b"}
PARTIES = ["trader", "customs", "oga", "terminal", "unattributed"]
PARTY_COLOURS = {"trader": "#6a4c93", "customs": "#1f5fa8", "oga": "#e07b00", "terminal": "#5b7083"}
COMPARISONS = ["all_features", "aeo", "pre_arrival", "green_channel", "no_oga_permit"]


def _in_order(present, order: list[str]) -> list[str]:
    """The values of ``order`` that are present, then any others, sorted."""
    present = set(present)
    return [k for k in order if k in present] + sorted(present - set(order))


def draw_air_import_release(spec: ChartSpec, data, w: Words) -> Drawn:
    [rows] = data
    years = [str(r["year"]) for r in rows]
    series = [("mean", "mean_days"), ("median", "median_days"), ("Kaplan-Meier median", "km_median_days")]
    marks = [(w.t(label), v) for label, v in RELEASE_TIME_MARKS_DAYS]
    keys = ["declarations", "released", "still_waiting", "mean_days", "median_days", "km_median_days", "p90_days"]
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            years,
            [(w.t(label), [r[key] for r in rows]) for label, key in series],
            refs=marks,
            y_label=w.t("days"),
        ),
        Table.of(
            [w.t(h) for h in ("year", "declarations", "released", "still waiting")]
            + [w.t(h) for h in ("mean days", "median days", "Kaplan-Meier median days", "p90 days")],
            [[r["year"]] + [r[k] for k in keys] for r in rows],
            [text, count, count, count, num(), num(), num(), num()],
        ),
    )


def _by_year(rows, column, value, order):
    years = list(dict.fromkeys(r["year"] for r in rows))
    present = _in_order((r[column] for r in rows), order)
    return years, present, {(r["year"], r[column]): r[value] for r in rows}


def draw_release_by_mode(spec: ChartSpec, data, w: Words) -> Drawn:
    years, modes, cell = _by_year(data[0], "transport_mode", "median_days", MODES)
    names = {m: w.name("transport_mode", m) for m in modes}
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            [str(y) for y in years],
            lines=[(names[m], [cell.get((y, m)) for y in years]) for m in modes],
            y_label=w.t("days"),
            colours={names[m]: MODE_COLOURS.get(m) for m in modes},
        ),
        Table.of(
            [w.t("year")] + [w.t("{name} median days", name=names[m]) for m in modes],
            [[y] + [cell.get((y, m)) for m in modes] for y in years],
            [text] + [num()] * len(modes),
        ),
    )


def draw_release_by_channel(spec: ChartSpec, data, w: Words) -> Drawn:
    years, chans, cell = _by_year(data[0], "channel", "median_days", CHANNELS)
    names = {c: w.name("channel", c) for c in chans}
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            [str(y) for y in years],
            [(names[c], [cell.get((y, c)) for y in years]) for c in chans],
            y_label=w.t("days"),
            colours={names[c]: CHANNEL_COLOURS.get(c) for c in chans},
        ),
        Table.of(
            [w.t("year")] + [w.t("{name} median days", name=names[c]) for c in chans],
            [[y] + [cell.get((y, c)) for c in chans] for y in years],
            [text] + [num()] * len(chans),
        ),
    )


def draw_release_curve(spec: ChartSpec, data, w: Words) -> Drawn:
    [rows] = data
    hours = sorted({r["hours"] for r in rows})
    years = sorted({r["year"] for r in rows})
    curves = [(m, y) for m in _in_order((r["transport_mode"] for r in rows), MODES) for y in years]
    share = {(r["transport_mode"], r["year"], r["hours"]): r["released_share"] for r in rows}
    curves = [c for c in curves if any((c[0], c[1], h) in share for h in hours)]
    names = {(m, y): f"{w.name('transport_mode', m)} {y}" for m, y in curves}
    first = min(years)
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            [w.t("{hours} h", hours=h) for h in hours],
            lines=[
                (names[c], [None if share.get((*c, h)) is None else share[(*c, h)] * 100 for h in hours])
                for c in curves
            ],
            y_label=w.t("released, percent"),
            y_max=100.0,
            colours={names[c]: MODE_COLOURS.get(c[0]) for c in curves},
            dashed=[names[c] for c in curves if c[1] == first and len(years) > 1],
        ),
        Table.of(
            [w.t("hours after arrival")] + [w.t("{name} released %", name=names[c]) for c in curves],
            [[h] + [share.get((*c, h)) for c in curves] for h in hours],
            [text] + [pct()] * len(curves),
        ),
    )


def draw_within_target(spec: ChartSpec, data, w: Words) -> Drawn:
    [rows] = data
    years = list(dict.fromkeys(r["year"] for r in rows))
    modes = _in_order((r["transport_mode"] for r in rows), MODES)
    by = {(r["year"], r["transport_mode"]): r for r in rows}
    names = {m: w.name("transport_mode", m) for m in modes}

    def cell(y, m, key):
        return by[(y, m)][key] if (y, m) in by else None

    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            [str(y) for y in years],
            lines=[
                (
                    names[m],
                    [
                        None if cell(y, m, "within_target_share") is None else cell(y, m, "within_target_share") * 100
                        for y in years
                    ],
                )
                for m in modes
            ],
            y_label=w.t("within target, percent"),
            y_max=100.0,
            colours={names[m]: MODE_COLOURS.get(m) for m in modes},
        ),
        Table.of(
            [w.t("year")]
            + [
                h
                for m in modes
                for h in (w.t("{name} target hours", name=names[m]), w.t("{name} within target %", name=names[m]))
            ],
            [
                [y] + [v for m in modes for v in (cell(y, m, "target_hours"), cell(y, m, "within_target_share"))]
                for y in years
            ],
            [text] + [num(0), pct()] * len(modes),
        ),
    )


def draw_actor_time(spec: ChartSpec, data, w: Words) -> Drawn:
    [rows] = data
    years = list(dict.fromkeys(r["year"] for r in rows))
    parties = _in_order((r["party"] for r in rows), PARTIES)
    # A party that holds no time in any year (e.g. nothing unattributed) is left out of the bars.
    drawn = [p for p in parties if any(r["hours"] for r in rows if r["party"] == p)]
    hours = {(r["year"], r["party"]): r["hours"] for r in rows}
    names = {p: w.name("party", p) for p in parties}
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            [str(y) for y in years],
            [(names[p], [hours.get((y, p)) for y in years]) for p in drawn],
            y_label=w.t("hours per declaration"),
            colours={names[p]: PARTY_COLOURS.get(p) for p in parties},
            stacked=True,
        ),
        Table.of(
            [w.t(h) for h in ("year", "party", "declarations", "hours", "arrival to gate-out hours", "share %")],
            [
                [r["year"], names[r["party"]], r["declarations"], r["hours"], r["total_hours"], r["share"]]
                for r in sorted(rows, key=lambda r: (r["year"], parties.index(r["party"])))
            ],
            [text, text, count, num(), num(), pct()],
        ),
    )


def draw_cohorts(spec: ChartSpec, data, w: Words) -> Drawn:
    [rows] = data
    by = {r["comparison"]: r for r in rows}
    order = _in_order(by, COMPARISONS)
    names = [w.name("comparison", c) for c in order]
    keys = [
        "cohort_declarations",
        "cohort_median_hours",
        "cohort_km_median_hours",
        "baseline_declarations",
        "baseline_median_hours",
        "baseline_km_median_hours",
        "km_median_relative_difference",
    ]
    heads = ["cohort", "cohort median h", "cohort KM median h", "baseline", "baseline median h", "baseline KM median h"]
    return Drawn(
        svg.bars_and_lines(
            spec.chart_id,
            w.chart(spec.chart_id, "title", spec.title),
            names,
            [
                (w.t("with the features (KM median)"), [by[c]["cohort_km_median_hours"] for c in order]),
                (w.t("without (KM median)"), [by[c]["baseline_km_median_hours"] for c in order]),
            ],
            y_label=w.t("hours"),
            colours={w.t("with the features (KM median)"): "#2a9d5c", w.t("without (KM median)"): "#5b7083"},
        ),
        Table.of(
            [w.t("comparison")] + [w.t(h) for h in heads] + [w.t("KM difference %")],
            [[name] + [by[c][k] for k in keys] for c, name in zip(order, names)],
            [text, count, num(), num(), count, num(), num(), pct()],
        ),
        notes=[w.t("Year {year}, imports of every mode.", year=rows[0]["year"])],
    )


TRS_CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "air-import-release",
        "Release time of air-cargo imports per year",
        "Arrival to release, calendar days. Mean and median of the released declarations, as the anchor studies "
        "publish them, and the Kaplan-Meier median, which also counts the cargo still waiting. Dashed lines: the "
        "case study's marks (about 4 days at the 2006 launch, about 1.5 days once the Single Window matured).",
        (q.AIR_IMPORT_RELEASE,),
        draw_air_import_release,
    ),
    ChartSpec(
        "release-by-mode",
        "Median release time of imports per year, by mode of transport",
        "Arrival to release, calendar days (median of the released declarations), imports.",
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
        "release-curve",
        "Share of imports released by hours after arrival, first year against latest",
        "Kaplan-Meier share released by each hour mark (cargo still waiting counted as censored), imports per "
        "mode of transport. Dashed: the first year in the data; solid: the latest.",
        (q.RELEASE_CURVE,),
        draw_release_curve,
    ),
    ChartSpec(
        "within-target",
        "Share of imports released within the national target, by mode",
        "Released declarations released within the target of their mode, type and date (seed trs_targets: a "
        "sample interpretation of NTRS-style targets), percent.",
        (q.WITHIN_TARGET,),
        draw_within_target,
    ),
    ChartSpec(
        "actor-time",
        "Who holds the time: hours per import declaration, by party",
        "Arrival to gate-out, mean hours per declaration held by each party; overlapping segments go to the more "
        "specific one (seed trs_party_segments, docs/trs.md).",
        (q.ACTOR_TIME,),
        draw_actor_time,
    ),
    ChartSpec(
        "cohort-comparison",
        "Release time with facilitation features and without, latest year",
        "Kaplan-Meier median release time, hours, of import declarations with every facilitation feature (AEO, "
        "pre-arrival lodgement, green channel, no OGA permit) against those with none, and of each feature with "
        "against without it. A side without declarations is blank, never zero.",
        (q.COHORTS,),
        draw_cohorts,
    ),
)
