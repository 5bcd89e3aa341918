"""The dashboards as code without a Superset (the real server: tests/test_bi.py, make test-bi):
the committed bundle is what bi/dashboards.yml gives, each chart's groups are single mart rows on
a published snapshot (no rollup row summed with another), native filters reach the charts that
show their column, the exposures name every dashboard, and the database's DuckDB lockdown holds."""

from __future__ import annotations

import json

import duckdb
import pytest
import yaml

from bi import bootstrap, build_bundle
from tests.conftest import PROJECT

SPEC = yaml.safe_load(build_bundle.SPEC.read_text())
CHARTS = [c for d in SPEC["dashboards"] for c in d["charts"]]


@pytest.fixture(scope="module")
def bundle() -> dict[str, dict]:
    return {name: yaml.safe_load(text) for name, text in build_bundle.build().items()}


def test_committed_bundle_is_what_the_spec_gives(tmp_path):
    files = build_bundle.build()
    committed = {
        str(p.relative_to(bootstrap.BUNDLE)): p.read_text() for p in bootstrap.BUNDLE.rglob("*") if p.is_file()
    }
    assert sorted(committed) == sorted(files), "bi/bundle is stale: run `make bi-bundle` and commit it"
    stale = [name for name, text in files.items() if committed[name] != text]
    assert stale == [], f"bi/bundle is stale ({stale}): run `make bi-bundle` and commit it"


def test_bundle_is_one_dashboard_per_subject_and_importable(bundle):
    dashboards = {d["slug"]: d for name, d in bundle.items() if name.startswith("dashboards/")}
    assert set(dashboards) == {"swpm-trs", "swpm-sla", "swpm-cs", "swpm-bsc"}
    charts = {c["uuid"]: c for name, c in bundle.items() if name.startswith("charts/")}
    datasets = {d["uuid"]: d for name, d in bundle.items() if name.startswith("datasets/")}
    assert bundle["metadata.yaml"]["type"] == "Dashboard"
    for dashboard in dashboards.values():
        placed = [v["meta"] for v in dashboard["position"].values() if isinstance(v, dict) and v["type"] == "CHART"]
        # An import needs chartId beside uuid ("Import dashboard failed for an unknown reason").
        assert placed and all({"uuid", "chartId"} <= set(meta) for meta in placed), dashboard["slug"]
        assert len({m["chartId"] for m in placed}) == len(placed)
        assert {m["uuid"] for m in placed} <= set(charts)
    for chart in charts.values():
        assert chart["dataset_uuid"] in datasets  # each chart reads one mart
        assert json.loads(chart["query_context"])["queries"][0]["filters"] is not None
    assert {d["database_uuid"] for d in datasets.values()} == {str(bootstrap.DATABASE_UUID)}
    assert bundle[bootstrap.DATABASE_FILE]["extra"] == bootstrap.database_extra()
    assert bundle[bootstrap.DATABASE_FILE]["allow_dml"] is False


def test_a_chart_on_rollup_rows_must_fix_grouping_set(tmp_path):
    spec = {
        "filters": SPEC["filters"],
        "dashboards": [
            {
                "slug": "x",
                "title": "x",
                "charts": [
                    {"key": "k", "title": "t", "mart": "trs_release_time", "viz": "bar", "x": "period_start"}
                    | {"grain": "year", "metrics": ["mean_hours"], "fixed": {"period_type": "year"}}
                ],
            }
        ],
    }
    path = tmp_path / "spec.yml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(build_bundle.SpecError, match="fix grouping_set"):
        build_bundle.build(path)
    spec["dashboards"][0]["charts"][0]["fixed"]["grouping_set"] = "period"
    spec["dashboards"][0]["charts"][0]["series"] = ["no_such_column"]
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(build_bundle.SpecError, match="no column no_such_column"):
        build_bundle.build(path)


def test_native_filters_reach_the_charts_that_show_their_column(bundle):
    trs = bundle["dashboards/swpm_trs.yaml"]
    ids = {
        v["meta"]["sliceName"]: v["meta"]["chartId"]
        for v in trs["position"].values()
        if isinstance(v, dict) and v["type"] == "CHART"
    }
    titles = {c["key"]: c["title"] for c in CHARTS}
    excluded = {f["name"]: set(f["scope"]["excluded"]) for f in trs["metadata"]["native_filter_configuration"]}
    assert excluded["Year"] == set()
    # The channel chart fixes mode (air): the mode filter does not reach it; it reaches the charts by mode.
    assert ids[titles["trs_channel_air"]] in excluded["Transport mode"]
    assert ids[titles["trs_mode_year"]] not in excluded["Transport mode"]
    assert excluded["C/S channel"] == set(ids.values()) - {ids[titles["trs_channel_air"]]}
    assert excluded["Customs office"] == set(ids.values()) - {ids[titles["trs_offices"]]}
    for f in trs["metadata"]["native_filter_configuration"]:
        if f["name"] != "Year":  # the rollup value is not offered
            assert f["adhoc_filters"][0]["operator"] == "!=" and f["adhoc_filters"][0]["comparator"] == "ALL"


def test_exposures_name_every_dashboard_and_its_marts():
    exposures = yaml.safe_load((PROJECT / "dbt_project" / "models" / "_exposures.yml").read_text())["exposures"]
    by_name = {e["name"]: e for e in exposures}
    for dashboard in SPEC["dashboards"]:
        exposure = by_name[dashboard["slug"].replace("swpm-", "swpm_dashboard_")]
        assert exposure["type"] == "dashboard" and exposure["url"].endswith(f"/superset/dashboard/{dashboard['slug']}/")
        marts = {c["mart"] for c in dashboard["charts"]}
        assert set(exposure["depends_on"]) == {f"ref('{m}')" for m in marts}, dashboard["slug"]


@pytest.mark.slow
def test_every_chart_group_is_one_mart_row(published_world):
    """What makes a rollup row impossible to add twice: under its fixed filters, each x and series
    of a chart is exactly one row of its mart, so the metric (MAX of the column) is that row's."""
    columns_by_mart = bootstrap.snapshot_columns(published_world.home.snapshot)
    con = duckdb.connect(str(published_world.home.snapshot), read_only=True)
    try:
        for chart in CHARTS:
            fixed = chart.get("fixed") or {}
            where = " AND ".join(f'"{c}" = ?' for c in fixed) or "true"
            rows = con.execute(
                f'SELECT count(*) FROM "{chart["mart"]}" WHERE {where}', list(fixed.values())
            ).fetchone()[0]
            assert rows > 0, f"{chart['key']}: no rows in the published world"
            if chart["viz"] == "table" or chart["metrics"] == ["count"]:
                continue  # a table shows the rows as they are; a count counts rows of a mart without rollups
            dims = ", ".join(
                build_bundle.column_sql(columns_by_mart[chart["mart"]], c)
                for c in [chart["x"], *(chart.get("series") or [])]
            )
            repeated = con.execute(
                f'SELECT {dims}, count(*) FROM "{chart["mart"]}" WHERE {where} GROUP BY ALL HAVING count(*) > 1',
                list(fixed.values()),
            ).fetchall()
            assert repeated == [], f"{chart['key']}: groups with more than one mart row: {repeated[:5]}"
    finally:
        con.close()


@pytest.mark.parametrize(
    "sql, refusal",
    [
        ("COPY (SELECT 1) TO '{tmp}/leak.csv'", "file system operations are disabled"),
        ("SELECT * FROM read_text('/etc/hostname')", "file system operations are disabled"),
        ("ATTACH '{tmp}/other.duckdb' AS other", "file system operations are disabled"),
        ("LOAD httpfs", "extensions is disabled"),
        ("SET enable_external_access = true", "the configuration has been locked"),
        ("CREATE TABLE leak AS SELECT 1", "read-only"),
    ],
)
def test_duckdb_lockdown_refuses(tmp_path, sql, refusal):
    """The connect args bootstrap registers, on DuckDB itself (Superset's own checks aside)."""
    snapshot = tmp_path / "snap" / "marts.duckdb"
    snapshot.parent.mkdir()
    duckdb.connect(str(snapshot)).execute("CREATE TABLE m AS SELECT 1 AS x").close()
    extra = bootstrap.database_extra()["engine_params"]["connect_args"]
    con = duckdb.connect(str(snapshot), read_only=extra["read_only"], config=extra["config"])
    try:
        assert con.execute("SELECT x FROM m").fetchall() == [(1,)]
        with pytest.raises(duckdb.Error, match=refusal):
            con.execute(sql.format(tmp=tmp_path))
    finally:
        con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]
