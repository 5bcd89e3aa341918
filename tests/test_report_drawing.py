"""The report's drawing on hand-made rows (no warehouse): legends and labels are given the room they
need, sparse months are marked, stacked bars stack, a cohort without declarations is not drawn."""

from __future__ import annotations

import re

from ingest.serving.report import charts, svg, trs_charts
from ingest.serving.report.texts import Words


def _legend_entries(markup: str) -> list[tuple[float, str]]:
    return [
        (float(x), label) for x, label in re.findall(r'<text class="legend" x="([\d.]+)" y="[\d.]+">([^<]*)', markup)
    ]


def _svg_size(markup: str) -> tuple[float, float]:
    width, height = re.search(r'<svg [^>]*width="([\d.]+)" height="([\d.]+)"', markup).groups()
    return float(width), float(height)


def test_a_long_legend_wraps_inside_the_drawing():
    names = [f"inspection rate ({source})" for source in ("kcs_extract", "clearance_log")]
    names += [f"hit rate ({source})" for source in ("kcs_extract", "clearance_log")]
    markup = svg.bars_and_lines("c", "C", ["2020-01", "2020-02"], lines=[(n, [1.0, 2.0]) for n in names])
    entries = _legend_entries(markup)
    width, height = _svg_size(markup)
    assert [label for _, label in entries] == names
    assert all(x + svg.text_width(label) <= width for x, label in entries)
    assert len({y for y in re.findall(r'<text class="legend" x="[\d.]+" y="([\d.]+)"', markup)}) == 2
    assert height > svg.H  # the second row has room below the first


def test_the_heatmap_widens_for_its_row_labels():
    rows = ["AVAILABILITY", "EDOC_TIME_EXPORT_DECLARATION"]
    labels = {"EDOC_TIME_EXPORT_DECLARATION": "전자문서 처리시간: 보세운송신고 (a long name)"}
    markup = svg.heatmap("h", "H", rows, ["2006-01"], {("AVAILABILITY", "2006-01"): "goal"}, row_labels=labels)
    width, _ = _svg_size(markup)
    for x, label in re.findall(r'<text class="tick" x="([\d.]+)" y="[\d.]+" text-anchor="end">([^<]*)</text>', markup):
        if label in ("AVAILABILITY", labels[rows[1]]):
            assert float(x) - svg.text_width(label) >= 0, label
    assert width >= svg.text_width(labels[rows[1]]) + svg.HEATMAP_PLOT_W
    # Hangul is a full em wide, so it gets more room than Latin of the same length.
    assert svg.text_width("세관세관") > svg.text_width("ABCD") > svg.text_width("abcd")


def test_months_with_few_inspections_are_marked():
    rows = [
        {
            "month": m,
            "source": "clearance_log",
            "inspections": n,
            "detections": 1,
            "inspection_rate": 0.2,
            "hit_rate": 0.1,
        }
        | {"inspection_pct": 20.0, "hit_pct": 10.0}
        for m, n in (("2006-01", 59), ("2006-02", charts.MIN_MONTHLY_CASES - 1))
    ]
    spec = next(s for s in charts.CHARTS if s.chart_id == "cs-inspection")
    drawn = charts.draw_cs_inspection(spec, [rows], Words())
    sparse = re.findall(r'class="mark point sparse" data-series="[^"]*" data-x="([\d-]+)"', drawn.svg)
    assert sparse == ["2006-02", "2006-02"]  # inspection rate and hit rate
    assert [r[-1] for r in drawn.table.rows] == ["", f"fewer than {charts.MIN_MONTHLY_CASES} inspections"]
    assert [r[1] for r in drawn.table.rows] == ["clearance_log"] * 2  # no names given: the code


def test_stacked_bars_stack():
    markup = svg.bars_and_lines("s", "S", ["2006"], [("a", [1.0]), ("b", [2.0])], stacked=True)
    (ya, ha), (yb, hb) = [
        (float(y), float(h))
        for y, h in re.findall(r'class="mark bar"[^>]* y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', markup)
    ]
    assert abs(yb + hb - ya) < 0.2 and abs(hb - 2 * ha) < 0.2


def test_a_cohort_without_declarations_is_not_drawn_and_shows_blank():
    row = {
        "year": 2011,
        "comparison": "all_features",
        "cohort_declarations": 3,
        "cohort_median_hours": 10.0,
        "cohort_km_median_hours": 12.0,
        "baseline_declarations": 0,
        "baseline_median_hours": None,
        "baseline_km_median_hours": None,
        "km_median_relative_difference": None,
    }
    spec = next(s for s in charts.CHARTS if s.chart_id == "cohort-comparison")
    drawn = trs_charts.draw_cohorts(spec, [[row]], Words(labels={("comparison", "all_features"): "all vs none"}))
    assert drawn.svg.count('class="mark bar"') == 1
    assert drawn.table.rows == [["all vs none", "3", "10.00", "12.00", "0", "–", "–", "–"]]
    assert drawn.table.values[0][5:] == [None, None, None]
