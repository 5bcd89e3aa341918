"""Superset for real (marker bi, `make test-bi`): the locked Superset, initialised by
bi/bootstrap.py on a copy of the session's published world, serving the committed dashboards.

- every chart's saved query (POST /api/v1/chart/data) gives the mart's own rows, as a direct
  read-only DuckDB query on the same snapshot does;
- a publish while Superset runs: the next query shows the new figures, a new mart is a dataset;
- the registered database refuses DML, COPY ... TO, read_text, ATTACH, SET, INSTALL (SQL Lab);
- each dashboard renders in headless chromium with every chart drawn and no error panel.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from bi import bootstrap
from bi.chart_spec import column_sql
from tests import bi_browser, bi_server
from tests.conftest import PROJECT

pytestmark = [pytest.mark.bi, pytest.mark.slow, pytest.mark.browser]

SPEC = yaml.safe_load((PROJECT / "bi" / "dashboards.yml").read_text())
CHARTS = {c["key"]: c for d in SPEC["dashboards"] for c in d["charts"]}
LATE_MART = "trs_air_import_yearly"  # no chart reads it: left out of the first snapshot
RENDER_TIMEOUT = 120


@pytest.fixture(scope="session")
def bi_home(published_world, tmp_path_factory):
    """A copy of the published world (warehouse and serving), first published without LATE_MART."""
    from ingest.config import PUBLISHED_MARTS, Home
    from ingest.run.publish import publish

    home = Home.resolve(tmp_path_factory.mktemp("bi") / "home")
    for folder in ("warehouse", "serving"):
        shutil.copytree(published_world.home.root / folder, home.root / folder, symlinks=True)
    publish(home, "bi-first", marts=tuple(m for m in PUBLISHED_MARTS if m != LATE_MART))
    return home


@pytest.fixture(scope="session")
def superset(bi_home, tmp_path_factory):
    server = bi_server.start(tmp_path_factory.mktemp("superset"), bi_home.snapshot)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def charts(superset) -> dict[str, dict]:
    """The imported charts by spec key (titles are unique: bi/build_bundle.py checks)."""
    by_title = {c["slice_name"]: c for c in superset.listing("chart")}
    return {key: by_title[spec["title"]] for key, spec in CHARTS.items()}


def _chart_data(superset, chart_id: int) -> list[dict]:
    chart = superset.get(f"/api/v1/chart/{chart_id}")["result"]
    query_context = json.loads(chart["query_context"])
    query_context["force"] = True
    result = superset.post("/api/v1/chart/data", **query_context)["result"]
    assert len(result) == 1 and not result[0].get("error"), result
    return result[0]["data"]


def _expected(snapshot: Path, spec: dict) -> tuple[list[str], list[tuple]]:
    """The chart's figures straight from the mart: its rows where the fixed filters hold (a
    chart's group is one row), or counted rows for a `count` metric."""
    fixed = spec.get("fixed") or {}
    where = " AND ".join(f'"{c}" = ?' for c in fixed) or "true"
    columns = _columns(snapshot, spec["mart"])
    if spec["viz"] == "table":
        names = list(spec["columns"])
        select = ", ".join(column_sql(columns, c) for c in names)
        sql = f'SELECT {select} FROM "{spec["mart"]}" WHERE {where}'
    else:
        names = [spec["x"], *(spec.get("series") or []), *spec["metrics"]]
        dims = ", ".join(column_sql(columns, c) for c in names if c not in spec["metrics"])
        if spec["metrics"] == ["count"]:
            sql = f'SELECT {dims}, count(*) FROM "{spec["mart"]}" WHERE {where} GROUP BY ALL'
        else:
            values = ", ".join(f'"{m}"' for m in spec["metrics"])
            sql = f'SELECT {dims}, {values} FROM "{spec["mart"]}" WHERE {where}'
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        rows = con.execute(sql, list(fixed.values())).fetchall()
    finally:
        con.close()
    return names, rows


def _columns(snapshot: Path, mart: str) -> set[str]:
    return set(bootstrap.snapshot_columns(snapshot)[mart])


def _normal(value):
    if isinstance(value, dt.date):  # Superset sends dates as epoch milliseconds
        return int(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp() * 1000)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _key(row):
    return tuple((v is None, str(type(v)), v) if v is not None else (True, "", 0) for v in row)


def _rows(names, rows) -> list[tuple]:
    return sorted((tuple(_normal(v) for v in row) for row in rows), key=_key)


def _served_rows(data: list[dict], names: list[str]) -> list[tuple]:
    return _rows(names, [[row[n] for n in names] for row in data])


@pytest.mark.parametrize("key", sorted(CHARTS))
def test_chart_data_equals_the_mart(superset, charts, bi_home, key):
    names, expected = _expected(bi_home.snapshot, CHARTS[key])
    served = _chart_data(superset, charts[key]["id"])
    assert expected, f"{key}: the snapshot has no rows for this chart: the test would prove nothing"
    assert _served_rows(served, names) == _rows(names, expected)


def test_a_native_filter_value_narrows_a_chart(superset, charts, bi_home):
    """What the Year filter sends with a chart's query (its column `year`, calculated on a mart
    dated by period_start) narrows that chart to the year, as the same filter in DuckDB does."""
    spec = CHARTS["trs_offices"]
    names, rows = _expected(bi_home.snapshot, spec)
    last_year = max(row[names.index("year")] for row in rows)
    chart = superset.get(f"/api/v1/chart/{charts['trs_offices']['id']}")["result"]
    query_context = json.loads(chart["query_context"])
    query_context["force"] = True
    query_context["queries"][0]["filters"].append({"col": "year", "op": "IN", "val": [last_year]})
    [result] = superset.post("/api/v1/chart/data", **query_context)["result"]
    assert result["rejected_filters"] == [] and result["data"]
    assert _served_rows(result["data"], names) == _rows(names, [r for r in rows if r[names.index("year")] == last_year])


def _expected_rows(snapshot: Path, mart: str) -> list[tuple]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(f'SELECT * FROM "{mart}"').fetchall()
    finally:
        con.close()


def _database(superset) -> dict:
    [database] = [d for d in superset.listing("database") if d["database_name"] == bootstrap.DATABASE_NAME]
    return database


def _sql_lab(superset, sql: str) -> dict:
    return {
        "database_id": _database(superset)["id"],
        "sql": sql,
        "runAsync": False,
        "schema": bootstrap.SCHEMA,
        "tab": "bi test",
        "select_as_cta": False,
        "json": True,
        "queryLimit": 100,
    }


def test_registered_database_is_read_only_and_locked_down(superset, bi_home):
    database_id = _database(superset)["id"]
    database = superset.get(f"/api/v1/database/{database_id}")["result"]
    assert database["uuid"] == str(bootstrap.DATABASE_UUID)
    assert database["allow_dml"] is False and database["allow_file_upload"] is False
    connection = superset.get(f"/api/v1/database/{database_id}/connection")["result"]
    assert connection["sqlalchemy_uri"] == bootstrap.sqlalchemy_uri(bi_home.snapshot)
    extra = connection["extra"] if isinstance(connection["extra"], dict) else json.loads(connection["extra"])
    assert extra["engine_params"]["connect_args"] == {"read_only": True, "config": bootstrap.LOCKDOWN}


REFUSED = {
    "delete": ("DELETE FROM trs_release_time", "does not allow for DDL/DML"),
    "create": ("CREATE TABLE leak AS SELECT 1 AS x", "does not allow for DDL/DML"),
    "copy_to": ("COPY trs_release_time TO '{tmp}/leak.csv'", "file system operations are disabled"),
    "copy_after_select": ("SELECT 1; COPY (SELECT 1) TO '{tmp}/leak2.csv'", "file system operations are disabled"),
    "read_text": ("SELECT * FROM read_text('/etc/hostname')", "file system operations are disabled"),
    "read_csv": ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
    "attach_file": ("ATTACH '{tmp}/other.duckdb' AS other", "file system operations are disabled"),
    "attach_extension": ("ATTACH '{tmp}/x.sqlite' AS x (TYPE sqlite)", "extensions is disabled"),
    "set": ("SET enable_external_access = true", "the configuration has been locked"),
    "install": ("INSTALL httpfs", "file system operations are disabled"),
    "load": ("LOAD httpfs", "extensions is disabled"),
}


def test_sql_lab_reads_the_marts(superset, bi_home):
    result = superset.post(
        "/api/v1/sqllab/execute/", **_sql_lab(superset, "SELECT count(*) AS n FROM trs_release_time")
    )
    assert result["data"] == [{"n": len(_expected_rows(bi_home.snapshot, "trs_release_time"))}]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_sql_lab_refuses(superset, case, tmp_path):
    sql, message = REFUSED[case]
    result = superset.post("/api/v1/sqllab/execute/", expect=None, **_sql_lab(superset, sql.format(tmp=tmp_path)))
    assert result["_status"] != 200, result
    errors = " ".join(e.get("message", "") for e in result.get("errors", [])) or json.dumps(result)
    assert message in errors, errors
    assert list(tmp_path.iterdir()) == []  # nothing written


# Every chart drawn (an ECharts canvas, or a table with rows) and nothing loading (the native
# filters too), or an error panel shown.
RENDER_PROBE = """(() => {
  const charts = Array.from(document.querySelectorAll('.dashboard-chart'));
  const alerts = Array.from(document.querySelectorAll('[role=alert]')).map(e => e.innerText.slice(0, 300));
  const drawn = charts.filter(c => c.querySelector('canvas') || c.querySelector('table tbody tr'));
  const loading = document.querySelectorAll('img.loading').length;
  const done = alerts.length > 0 || (charts.length > 0 && drawn.length === charts.length && loading === 0);
  return done && JSON.stringify({charts: charts.length, drawn: drawn.length, alerts});
})()"""


def _render(superset, slug: str, profile: Path, shot: Path) -> dict:
    with bi_browser.browser(profile, height=1800) as page:
        for cookie in superset.browser_cookies():
            page.call("Network.setCookie", **cookie)
        page.call("Page.navigate", url=f"{superset.url}/superset/dashboard/{slug}/?standalone=1")
        state = page.wait_for(RENDER_PROBE, RENDER_TIMEOUT)
        page.screenshot(shot)
    assert state, f"{slug}: not every chart was drawn within {RENDER_TIMEOUT} s (screenshot {shot})"
    return json.loads(state)


@pytest.mark.parametrize("dashboard", SPEC["dashboards"], ids=lambda d: d["slug"])
def test_dashboard_renders_without_error_panels(superset, charts, dashboard, tmp_path_factory):
    folder = _shots(tmp_path_factory)
    shot = folder / f"{dashboard['slug']}.png"
    state = _render(superset, dashboard["slug"], folder / "profile", shot)
    assert state["alerts"] == [], f"{dashboard['slug']}: error panels {state['alerts']} (screenshot {shot})"
    assert state["charts"] == state["drawn"] == len(dashboard["charts"]), state
    assert shot.stat().st_size > 20_000
    print(f"\n{dashboard['slug']}: {state['drawn']} charts drawn, screenshot {shot}")


def test_render_probe_sees_an_error_panel(superset, tmp_path_factory):
    """The probe is not blind: with one chart's table gone, that chart's error panel is found."""
    [dataset] = [d for d in superset.listing("dataset") if d["table_name"] == "usage_rate_yearly"]
    superset.put(f"/api/v1/dataset/{dataset['id']}", table_name="usage_rate_gone")
    try:
        folder = _shots(tmp_path_factory)
        state = _render(superset, "swpm-bsc", folder / "profile", folder / "swpm-bsc-broken.png")
    finally:
        superset.put(f"/api/v1/dataset/{dataset['id']}", table_name="usage_rate_yearly")
    assert any("usage_rate_gone" in alert for alert in state["alerts"]), state


def _shots(tmp_path_factory) -> Path:
    """Where the screenshots go: $SWPM_BI_SCREENSHOTS, else the session's temporary folder."""
    chosen = os.environ.get("SWPM_BI_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "bi-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# Last: it changes the served figures (the screenshots above show the published world's).
def test_publish_while_running_shows_new_figures_and_the_new_mart(superset, charts, bi_home):
    """A later night's figures (written straight into the warehouse copy's mart) published while
    Superset runs: the next query of the same chart returns them, and the mart the first snapshot
    lacked is a dataset now, without any step but the publish."""
    from ingest.run.publish import publish
    from ingest.warehouse import connect

    spec = CHARTS["trs_mode_year"]
    names, before = _expected(bi_home.snapshot, spec)
    assert LATE_MART not in {d["table_name"] for d in superset.listing("dataset")}
    with connect(bi_home) as con:
        con.execute("UPDATE marts.trs_release_time SET mean_hours = mean_hours + 1000")
    publish(bi_home, "bi-second")
    names, after = _expected(bi_home.snapshot, spec)
    assert _rows(names, after) != _rows(names, before)
    served = _chart_data(superset, charts["trs_mode_year"]["id"])
    assert _served_rows(served, names) == _rows(names, after)
    datasets = {d["table_name"]: d for d in superset.listing("dataset")}
    assert LATE_MART in datasets, sorted(datasets)
    sql = f"SELECT count(*) AS n FROM {LATE_MART}"
    result = superset.post("/api/v1/sqllab/execute/", **_sql_lab(superset, sql))
    assert result["data"] == [{"n": len(_expected_rows(bi_home.snapshot, LATE_MART))}]
