"""The performance report: built from the published snapshot only, figures equal to the marts,
"no data yet" panels for missing marts, self-contained, and rendered by a real headless browser."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import duckdb
import pytest

from ingest.config import Home
from ingest.serving import report
from ingest.serving.report.charts import MIN_MONTHLY_CASES

ALL_CHARTS = [spec.chart_id for spec in report.CHARTS]
TRS_CHARTS = {
    "air-import-release",
    "release-by-mode",
    "release-by-channel",
    "release-curve",
    "within-target",
    "actor-time",
    "cohort-comparison",
}

# Marts of the sample world's other sources (everything but the C/S mart, whose KCS input is
# real data, is drawn from the sample world alone; the clearance log feeds the C/S chart).
OTHER_MARTS = (
    "cost_benefit_yearly",
    "satisfaction_yearly",
    "usage_rate_yearly",
    "sla_indicator_monthly",
    "cs_inspection_performance",
)


class _Tables(HTMLParser):
    """The report's data tables: {chart_id: (header, rows)}, and its chart sections' states."""

    def __init__(self):
        super().__init__()
        self.tables, self.states, self._cur, self._row, self._cell = {}, {}, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "data-chart" in a:
            self.states[a["data-chart"]] = a.get("data-state")
        elif tag == "table" and "data-chart" in a:
            self._cur = self.tables.setdefault(a["data-chart"], ([], []))
        elif tag == "tr" and self._cur is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            header, rows = self._cur
            (header.extend(self._row) if not header else rows.append(self._row))
            self._row = None
        elif tag == "table":
            self._cur = None


def _parse(path):
    p = _Tables()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _sql(path, sql, params=()):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _f(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


@pytest.fixture(scope="module")
def every_mart(published_world):
    """A real nightly run over a small sample world of every source kind, whose last step wrote
    the report and dbt docs (the session's published world)."""
    home = published_world.home
    return home, home.serving / "report" / "index.html"


@pytest.fixture(scope="module")
def published(every_mart, tmp_path_factory):
    """The same snapshot without the marts other than TRS, as a second serving folder (a
    deployment whose other sources have not delivered yet)."""
    home = Home.resolve(tmp_path_factory.mktemp("report_trs") / "home").ensure()
    shutil.copy2(every_mart[0].snapshot, home.snapshot)
    shutil.copy2(every_mart[0].serving / "snapshot.json", home.snapshot_info)
    con = duckdb.connect(str(home.snapshot))
    try:
        for mart in OTHER_MARTS:
            con.execute(f"DROP TABLE {mart}")
    finally:
        con.close()
    return home, report.build_report(home)


def test_nothing_published_yet_gives_a_page_of_no_data_panels(home):
    page = _parse(report.build_report(home))
    assert page.states == {cid: "no-data" for cid in ALL_CHARTS}


def test_missing_marts_show_no_data_panels_and_the_rest_is_drawn(published, every_mart):
    home, path = published
    text = path.read_text(encoding="utf-8")
    page = _parse(path)
    assert {c for c, s in page.states.items() if s == "ok"} == TRS_CHARTS
    for mart in ("cost_benefit_yearly", "satisfaction_yearly", "sla_indicator_monthly", "cs_inspection_performance"):
        assert f"No data yet: the mart {mart} is not in the published snapshot yet" in text
    snap_id = json.loads(home.snapshot_info.read_text())["snapshot_id"]
    assert snap_id in text and "Source mart: <code>trs_release_time</code>" in text
    assert "Source mart: <code>trs_air_import_yearly</code>" in text
    # Both documentation sites exist and are linked relative to the report.
    full_home, full_path = every_mart
    assert (full_home.serving / "docs" / "dbt" / "index.html").stat().st_size > 100_000
    full_text = full_path.read_text(encoding="utf-8")
    assert 'href="../docs/dbt/index.html"' in full_text and 'href="../docs/gx/index.html"' in full_text
    manifest = json.loads((full_home.warehouse_dir / "dbt" / "target" / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    dashboards = {"swpm_dashboard_trs", "swpm_dashboard_sla", "swpm_dashboard_cs", "swpm_dashboard_bsc"}
    assert set(exposures) == {"swpm_performance_report", "swpm_intraday_trs"} | dashboards
    assert exposures["swpm_intraday_trs"]["depends_on"]["nodes"] == ["model.swpm.trs_today"]
    marts = ("trs_release_time", "trs_release_curve", "trs_actor_time", "trs_cohort_comparison", "display_labels")
    for mart in marts + OTHER_MARTS:
        assert f"model.swpm.{mart}" in exposures["swpm_performance_report"]["depends_on"]["nodes"], mart


def test_release_time_figures_equal_the_mart(published):
    home, path = published
    tables = _parse(path).tables
    served = home.snapshot
    # The air-import chart reads the one model that computes the headline, trs_air_import_yearly
    # (as `swpm headline` does), and that model holds trs_release_time's figures in days.
    expected = _sql(
        served,
        "SELECT year, declarations, released, mean_days, median_days, p90_days FROM trs_air_import_yearly ORDER BY 1",
    )
    assert expected == _sql(
        served,
        """
        SELECT year(period_start), declarations, released, round(mean_hours / 24, 2), round(median_hours / 24, 2),
               round(p90_hours / 24, 2)
        FROM trs_release_time WHERE period_type = 'year' AND grouping_set = 'period+type+mode'
          AND declaration_type = 'import' AND transport_mode = 'air' ORDER BY 1""",
    )
    header, rows = tables["air-import-release"]
    assert header == [
        "year",
        "declarations",
        "released",
        "still waiting",
        "mean days",
        "median days",
        "Kaplan-Meier median days",
        "p90 days",
    ]
    waiting = dict(_sql(served, "SELECT year, still_waiting FROM trs_air_import_yearly"))
    km = dict(_sql(served, "SELECT year, km_median_days FROM trs_air_import_yearly"))
    assert rows == [
        [str(y), f"{n:,}", f"{r:,}", f"{waiting[y]:,}", _f(a), _f(m), _f(km[y]), _f(p)] for y, n, r, a, m, p in expected
    ]
    assert [r[0] for r in rows] == ["2006", "2011"]

    by_channel = _sql(
        served,
        """
        SELECT year(period_start), channel, median_hours / 24 FROM trs_release_time
        WHERE period_type = 'year' AND grouping_set = 'period+type+mode+channel' AND declaration_type = 'import'
          AND transport_mode = 'air' AND channel IN ('green', 'yellow', 'red')""",
    )
    header, rows = tables["release-by-channel"]
    cells = {(r[0], h.split()[0]): v for r in rows for h, v in zip(header[1:], r[1:])}
    assert cells == {(str(y), ch): _f(v) for y, ch, v in by_channel}

    by_mode = _sql(
        served,
        """
        SELECT year(period_start), transport_mode, median_hours / 24 FROM trs_release_time
        WHERE period_type = 'year' AND grouping_set = 'period+type+mode' AND declaration_type = 'import'
          AND transport_mode IN ('air', 'sea', 'land')""",
    )
    header, rows = tables["release-by-mode"]
    cells = {(r[0], h.split()[0]): v for r in rows for h, v in zip(header[1:], r[1:])}
    assert cells == {(str(y), m): _f(v) for y, m, v in by_mode}


def test_chart_marks_carry_the_table_values(published):
    """The bars drawn are the numbers in the table (mean, median and Kaplan-Meier median days)."""
    _, path = published
    text = path.read_text(encoding="utf-8")
    section = text.split('id="air-import-release"')[1].split("</section>")[0]
    bars = re.findall(r'class="mark bar" data-series="([\w -]+)" data-x="(\d+)" data-value="([-\d.e]+)"', section)
    _, rows = _parse(path).tables["air-import-release"]
    table = {(r[0], "mean"): r[4] for r in rows} | {(r[0], "median"): r[5] for r in rows}
    table |= {(r[0], "Kaplan-Meier median"): r[6] for r in rows}
    assert len(bars) == len(table) > 0
    for series, year, value in bars:
        assert f"{float(value):.2f}" == table[(year, series)]
    refs = re.findall(r'class="mark ref" data-value="([\d.]+)"', section)
    assert sorted(map(float, refs)) == [1.5, 4.0]


def test_every_chart_drawn_from_every_mart_with_figures_equal(every_mart):
    home, path = every_mart
    page = _parse(path)
    assert page.states == {cid: "ok" for cid in ALL_CHARTS}
    served = home.snapshot

    header, rows = page.tables["cost-benefit"]
    expected = _sql(
        served,
        "SELECT year, investment_krw / 1e9, cumulative_investment_krw / 1e9, booked_savings_krw / 1e9, "
        "cumulative_savings_krw / 1e9, net_cumulative_position_krw / 1e9, roi_to_date "
        "FROM cost_benefit_yearly ORDER BY year",
    )
    assert [[r[0].split()[0]] + r[1:] for r in rows] == [
        [str(y)] + [_f(v) for v in vals[:-1]] + [_f(vals[-1], 3)] for y, *vals in expected
    ]
    be_year = _sql(
        served, "SELECT min(year) FROM cost_benefit_yearly WHERE cumulative_savings_krw >= cumulative_investment_krw"
    )[0][0]
    assert be_year == _sql(served, "SELECT any_value(break_even_year) FROM cost_benefit_yearly")[0][0]
    assert [r[0] for r in rows if "break-even" in r[0]] == [f"{be_year} (break-even)"]
    assert f"break-even {be_year}" in path.read_text(encoding="utf-8")

    _, rows = page.tables["satisfaction-usage"]
    sat = dict(
        _sql(served, "SELECT year, mean_score_100 FROM satisfaction_yearly WHERE segment = 'ALL' AND item = 'ALL'")
    )
    use = dict(_sql(served, "SELECT year, usage_rate_pct FROM usage_rate_yearly"))
    assert sat and use
    assert rows == [[str(y), _f(sat.get(y)), _f(use.get(y))] for y in sorted(set(sat) | set(use))]

    # Indicators and bands by their names (display_labels), not their codes.
    _, rows = page.tables["sla-attainment"]
    expected = _sql(
        served,
        """
        SELECT coalesce(i.name_en, s.indicator_code), strftime(s.period_start, '%Y-%m'), s.measured_value,
               coalesce(b.name_en, s.attainment)
        FROM sla_indicator_monthly AS s
        LEFT JOIN display_labels AS i ON i.kind = 'indicator' AND i.code = s.indicator_code
        LEFT JOIN display_labels AS b ON b.kind = 'attainment' AND b.code = s.attainment
        WHERE s.period_type = 'month' ORDER BY s.indicator_code, 2""",
    )
    assert rows == [[i, m, _f(v, 3), a or "–"] for i, m, v, a in expected]
    section = path.read_text("utf-8").split('id="sla-attainment"')[1].split("</section>")[0]
    row_labels = set(re.findall(r'<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="end">([^<]+)</text>', section))
    assert "e-document time: export declaration" in row_labels
    shown_codes = sorted(label for label in row_labels | {r[0] for r in rows} if label.isupper())
    assert shown_codes == []

    _, rows = page.tables["cs-inspection"]
    expected = _sql(
        served,
        """
        SELECT strftime(c.period_start, '%Y-%m'), l.name_en, c.inspections, c.detections, c.inspection_rate, c.hit_rate
        FROM cs_inspection_performance AS c JOIN display_labels AS l ON l.kind = 'cs_source' AND l.code = c.source
        WHERE c.period_type = 'month' AND c.customs_office = 'ALL'
          AND c.transport_mode = 'ALL' AND c.import_type = 'ALL' ORDER BY c.source, 1""",
    )
    few = f"fewer than {MIN_MONTHLY_CASES} inspections"
    assert rows == [
        [m, s, f"{i:,}", f"{d:,}", _f(ir, 4), _f(hr, 4), few if i < MIN_MONTHLY_CASES else ""]
        for m, s, i, d, ir, hr in expected
    ]

    # The new TRS charts: the curve per mode for the first and the latest year, the party hours,
    # the cohorts and the share within target, as the marts hold them.
    header, rows = page.tables["release-curve"]
    curve = _sql(
        served,
        """
        SELECT hours, transport_mode, year(period_start), released_share FROM trs_release_curve
        WHERE period_type = 'year' AND grouping_set = 'period+type+mode' AND declaration_type = 'import'
          AND transport_mode IN ('air', 'sea', 'land')""",
    )
    cells = {(r[0], h): v for r in rows for h, v in zip(header[1:], r[1:])}
    assert cells == {(str(h), f"{m} {y} released %"): _f(v * 100, 1) for h, m, y, v in curve}
    _, rows = page.tables["actor-time"]
    parties = _sql(
        served,
        """
        SELECT year(period_start), l.name_en, hours, share FROM trs_actor_time AS a
        JOIN display_labels AS l ON l.kind = 'party' AND l.code = a.party
        WHERE period_type = 'year' AND grouping_set = 'period+type' AND declaration_type = 'import'""",
    )
    assert sorted((r[0], r[1], r[3], r[5]) for r in rows) == sorted(
        (str(y), p, _f(h), _f(s * 100, 1)) for y, p, h, s in parties
    )
    _, rows = page.tables["cohort-comparison"]
    cohorts = _sql(
        served,
        """
        SELECT l.name_en, cohort_km_median_hours, baseline_km_median_hours FROM trs_cohort_comparison AS c
        JOIN display_labels AS l ON l.kind = 'comparison' AND l.code = c.comparison
        WHERE period_type = 'year' AND period_start = '2011-01-01' AND grouping_set = 'period+type'
          AND declaration_type = 'import'""",
    )
    assert sorted((r[0], r[3], r[6]) for r in rows) == sorted((c, _f(a), _f(b)) for c, a, b in cohorts)
    assert len(rows) == 5
    header, rows = page.tables["within-target"]
    target = _sql(
        served,
        """
        SELECT year(period_start), transport_mode, target_hours, within_target_share FROM trs_release_time
        WHERE period_type = 'year' AND grouping_set = 'period+type+mode' AND declaration_type = 'import'
          AND transport_mode IN ('air', 'sea', 'land')""",
    )
    cells = {(r[0], h): v for r in rows for h, v in zip(header[1:], r[1:])}
    assert {k: v for k, v in cells.items() if "within" in k[1]} == {
        (str(y), f"{m} within target %"): _f(s * 100, 1) for y, m, _, s in target
    }
    assert {k: v for k, v in cells.items() if "target hours" in k[1]} == {
        (str(y), f"{m} target hours"): _f(t, 0) for y, m, t, _ in target
    }


def test_a_renamed_column_or_an_empty_mart_says_so(every_mart, tmp_path):
    """A mart lacking a column of its dbt contract gets a "no data yet" panel naming the column
    and the contract, not a failed report: dbt enforces the contract when it builds, so such a
    mart comes from a snapshot of another version of the models, and one stale mart must not
    take the other charts down (as with a missing or an empty mart)."""
    home = Home.resolve(tmp_path / "home").ensure()
    shutil.copy2(every_mart[0].snapshot, home.snapshot)
    con = duckdb.connect(str(home.snapshot))
    try:
        con.execute("ALTER TABLE cost_benefit_yearly RENAME cumulative_savings_krw TO savings_to_date")
        con.execute("DELETE FROM sla_indicator_monthly")
    finally:
        con.close()
    text = report.build_report(home).read_text(encoding="utf-8")
    page = _parse(home.serving / "report" / "index.html")
    assert page.states["cost-benefit"] == page.states["sla-attainment"] == "no-data"
    assert page.states["cs-inspection"] == "ok"
    assert "the mart cost_benefit_yearly lacks contract column(s) cumulative_savings_krw" in text
    assert "the snapshot does not match dbt_project/models/marts/cost_benefit_yearly.yml" in text
    assert "the mart sla_indicator_monthly has no rows yet" in text


def test_queries_read_only_contract_columns_and_declare_them_all():
    """Every query names its mart's real columns (dbt_project/models/marts/<mart>.yml, contract
    enforced), and its ``columns`` list is complete: it runs against tables holding only those
    columns, so the "lacks contract column(s)" check before it can miss nothing."""
    import yaml

    from tests.conftest import PROJECT

    contracts, enforced = {}, set()
    for path in (PROJECT / "dbt_project" / "models" / "marts").glob("*.yml"):
        for model in yaml.safe_load(path.read_text())["models"]:
            contracts[model["name"]] = {c["name"]: c["data_type"] for c in model["columns"]}
            if model.get("config", {}).get("contract", {}).get("enforced"):
                enforced.add(model["name"])
    from ingest.serving.report import queries as q

    queries = [query for spec in report.CHARTS for query in spec.queries] + [q.LABELS]
    assert [spec.chart_id for spec in report.CHARTS] == ALL_CHARTS and len(set(ALL_CHARTS)) == 11
    trs = {"trs_air_import_yearly", "trs_release_time", "trs_release_curve", "trs_actor_time", "trs_cohort_comparison"}
    assert {query.mart for query in queries} == trs | {"display_labels"} | set(OTHER_MARTS)
    for query in queries:
        assert query.mart in enforced, query.mart
        contract = contracts[query.mart]
        assert set(query.columns) <= set(contract), (query.mart, set(query.columns) - set(contract))
        con = duckdb.connect()
        try:
            con.execute(f"CREATE TABLE {query.mart} ({', '.join(f'{c} {contract[c]}' for c in query.columns)})")
            assert con.execute(query.sql).fetchall() == []
        finally:
            con.close()


def test_the_report_opens_the_snapshot_read_only_and_leaves_it_unchanged(every_mart, tmp_path, monkeypatch):
    home = Home.resolve(tmp_path / "home").ensure()
    shutil.copy2(every_mart[0].snapshot, home.snapshot)
    before = home.snapshot.read_bytes()
    opened, real = [], duckdb.connect
    monkeypatch.setattr(
        duckdb, "connect", lambda path=":memory:", **kw: opened.append((str(path), kw)) or real(path, **kw)
    )
    page = _parse(report.build_report(home))
    assert page.states == {cid: "ok" for cid in ALL_CHARTS}
    assert opened == [(str(home.snapshot), {"read_only": True})]
    assert home.snapshot.read_bytes() == before


def test_the_page_escapes_what_the_marts_hold(home):
    """The template autoescapes: a value from a mart (here a no-data reason and a table cell) is text, never markup."""
    from ingest.serving.report import page
    from ingest.serving.report.charts import Table

    bad = "<script>alert(1)</script>"
    charts = [
        report.Chart("a", "A", "m", no_data=bad),
        report.Chart("b", "B", "m", table=Table(["h"], [[bad]]), refreshed="published now"),
    ]
    text = page.render(home, charts, {})
    assert "<script" not in text and text.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2


def test_report_is_self_contained(every_mart):
    text = every_mart[1].read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and " src=" not in text and "@import" not in text
    urls = set(re.findall(r"https?://[^\s\"'<>]+", text))
    assert urls == {"http://www.w3.org/2000/svg"}  # the SVG namespace, not a fetch


# ---------------------------------------------------------------- the browser

CHECK_SCRIPT = """<script>
window.addEventListener('error', function (e) {
  var el = document.documentElement;
  el.setAttribute('data-js-errors', (el.getAttribute('data-js-errors') || '') + (e.message || 'resource failed') + ';');
}, true);
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('section.chart').forEach(function (s) {
    var svg = s.querySelector('svg'), r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    var marks = svg ? svg.querySelectorAll('.mark') : [], drawn = 0, cut = [];
    marks.forEach(function (m) { var b = m.getBBox(); if (b.width > 0 || b.height > 0) drawn++; });
    // A label drawn past the edge of its drawing is cut off on the page.
    (svg ? svg.querySelectorAll('text') : []).forEach(function (t) {
      var b = t.getBoundingClientRect();
      if (b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1 || b.bottom > r.bottom + 1) cut.push(t.textContent);
    });
    out.push({id: s.dataset.chart, state: s.dataset.state, width: r.width, height: r.height,
              marks: marks.length, drawn: drawn, rows: s.querySelectorAll('table tbody tr').length, cut: cut});
  });
  // How wide the page's font draws Hangul: a font with Hangul gives about 1 em a syllable, a
  // missing glyph's box much less.
  var probe = document.createElement('span'); probe.style.fontSize = '20px'; probe.textContent = '세관반출시간';
  document.body.appendChild(probe);
  var hangul = probe.getBoundingClientRect().width / 6 / 20;
  var pre = document.createElement('pre'); pre.id = 'render-check';
  pre.textContent = JSON.stringify({charts: out, hangul_em: hangul});
  document.body.appendChild(pre);
});
</script>"""


def _chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "Debian chromium is not installed: `make test` installs it (apt-get install -y chromium)"
    return exe


def _render(page, tmp_path, name, extra="", env=None):
    """The page with an error hook and a render probe injected, through headless chromium."""
    probe = tmp_path / name
    probe.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + CHECK_SCRIPT + extra, 1))
    res = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--user-data-dir=" + str(tmp_path / "chromium-profile"),
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    dom = res.stdout
    errors = re.search(r'data-js-errors="([^"]*)"', dom)
    check = re.search(r'<pre id="render-check">(.*?)</pre>', dom, re.S)
    assert check, dom[-2000:]
    found = json.loads(html.unescape(check.group(1)))
    return (errors.group(1) if errors else ""), found["charts"], found["hangul_em"]


@pytest.mark.browser
def test_browser_renders_every_chart_without_errors(every_mart, tmp_path):
    errors, charts, _ = _render(every_mart[1], tmp_path, "report.html")
    assert errors == ""
    assert_drawn_whole(charts)
    # The probe does catch a script error: the same page with one fails.
    errors, _, _ = _render(every_mart[1], tmp_path, "broken.html", "<script>undefinedFunction()</script>")
    assert "undefinedFunction" in errors


def assert_drawn_whole(charts):
    """Every chart drawn, every mark visible, no label cut at the edge of its drawing."""
    assert [c["id"] for c in charts] == ALL_CHARTS
    for c in charts:
        assert c["state"] == "ok" and c["width"] > 300 and c["height"] > 150, c
        assert c["marks"] > 0 and c["drawn"] == c["marks"], c
        assert c["rows"] > 0, c
        assert c["cut"] == [], c


def test_cli_report_rewrites_the_page_from_the_snapshot(every_mart, capsys):
    from ingest import cli

    home, path = every_mart
    path.unlink()
    assert cli.main(["--home", str(home.root), "report", "--no-docs"]) == 0
    assert str(path) in capsys.readouterr().out
    assert _parse(path).states == {cid: "ok" for cid in ALL_CHARTS}
