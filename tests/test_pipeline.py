"""dbt build, incremental nights, mart checks, publishing and the command line, without Airflow."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess

import duckdb
import pytest

from ingest.run import pipeline
from ingest.run.dbt import run_dbt
from ingest.run.publish import PublishFailed
from tests.conftest import BIN


def _table(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


MART_ORDER = "ORDER BY ALL"


def test_dbt_build_runs_models_and_data_tests(built_sample):
    _, result = built_sample
    kinds = {n["resource_type"] for n in result.nodes}
    assert {"model", "test"} <= kinds and "unit_test" not in kinds  # the night leaves unit tests out
    assert not result.failures
    names = {n["name"] for n in result.nodes}
    assert {
        "stg_clearance__declarations",
        "stg_clearance__events",
        "int_declaration_milestones",
        "trs_release_time",
        "trs_segment_time",
    } <= names


def test_every_dbt_unit_test_passes(built_home):
    from ingest.run import dbt

    result = dbt.unit_tests(built_home)
    assert result.success and not result.failures
    ran = {n["name"] for n in result.nodes if n["resource_type"] == "unit_test"}
    assert len(ran) >= 15 and all(n["resource_type"] == "unit_test" for n in result.nodes)


def test_incremental_nights_equal_a_full_rebuild(home, sample_landing, tmp_path):
    """Load night by night with incremental builds; the marts equal a full refresh. The nights
    of 2010 to 2012 make the later ones take a base year they do not recompute
    (trs_median_change_yearly reads its cells' counts, and its median from the mart)."""
    from ingest.sample_world.clearance import generate

    generate(tmp_path, dt.date(2010, 6, 1), 1, 200, seed=11)
    generate(tmp_path, dt.date(2012, 6, 1), 1, 200, seed=11)
    for day in ("20060101", "20060102", "20100601", "20110601", "20110602", "20120601"):
        for kind in ("declarations", "events"):
            drop = f"clearance_{kind}_{day}.csv.gz"
            shutil.copy2(sample_landing / drop if (sample_landing / drop).exists() else tmp_path / drop, home.landing)
        pipeline.load(home, f"night-{day}")
        pipeline.build(home)
    cols = "* EXCLUDE (source_refreshed_at)"
    incremental = {
        m: _table(home.warehouse, f"SELECT {cols} FROM marts.{m} {MART_ORDER}")
        for m in (
            "trs_release_time",
            "trs_segment_time",
            "trs_release_curve",
            "trs_cohort_comparison",
            "trs_actor_time",
            "trs_median_change_yearly",
            "cs_inspection_performance",
        )
    }
    yearly = incremental["trs_median_change_yearly"]
    based = yearly[(yearly.year == 2012) & (yearly.grouping_set == "period")]
    assert based.base_year.tolist() == [2011] and based.like_for_like_median_hours.notna().all()
    pipeline.build(home, full_refresh=True)
    for mart, df in incremental.items():
        full = _table(home.warehouse, f"SELECT {cols} FROM marts.{mart} {MART_ORDER}")
        assert len(df) == len(full) > 0
        assert df.equals(full), mart


def _rows_of(path):
    return gzip.decompress(path.read_bytes()).decode().splitlines()


def _corrected(path, change):
    """Rewrite a gzip CSV's data rows in place (a corrected re-delivery keeps the file's name)."""
    header, *rows = _rows_of(path)
    path.write_bytes(gzip.compress(("\n".join([header, *change(rows)]) + "\n").encode(), mtime=0))


def test_a_partial_correction_replaces_only_the_rows_it_carries(built_home, tmp_path):
    """A later night's corrected re-delivery holds some of a day's events (one at a new time, one
    new), one declaration with another mode, and events of a day loaded a night later. The
    nightly staging ranks only the rows loaded since its last build: the corrected events and
    declaration replace their staged versions, the events left out of the correction keep theirs,
    and staging, milestones and party seconds equal a full refresh. The replaced rows are found
    among those loaded since their declarations' first load (stg_clearance__declaration_keys),
    the earlier of the two nights: a bound at the later one would keep the first day's old
    versions."""
    from ingest.sample_world.clearance import generate

    (later_day,) = generate(tmp_path, dt.date(2006, 1, 3), 1, 50, seed=5)
    _corrected(later_day.declarations, lambda rows: rows[1:])  # one declaration's events come alone
    for path in (later_day.declarations, later_day.events):
        shutil.copy2(path, built_home.landing / path.name)
    pipeline.load(built_home, "later-day")
    (alone,) = (n for n in pipeline.build(built_home).nodes if n["name"] == "clearance_events_have_a_declaration")
    assert alone["status"] == "warn" and "Got 1 result" in alone["message"], alone
    staged = (
        "staging.stg_clearance__declaration_keys",
        "staging.stg_clearance__events",
        "staging.stg_clearance__declarations",
        "intermediate.int_declaration_milestones",
        "intermediate.int_trs_party_seconds",
    )
    before = _table(built_home.warehouse, "SELECT count(*) AS n FROM staging.stg_clearance__events").n[0]
    modes = "SELECT declaration_id, transport_mode FROM staging.stg_clearance__declarations"
    mode_before = dict(_table(built_home.warehouse, modes).values)
    events_file = built_home.landing / "clearance_events_20060101.csv.gz"
    gate_out = next(r for r in _rows_of(events_file) if ',"GATE_OUT",' in r)
    event_id, declaration, _, at, _ = (v.strip('"') for v in gate_out.split(","))
    later = [str(dt.datetime.fromisoformat(at) + dt.timedelta(hours=h)) for h in (1, 2)]
    other_mode = {'"SEA"': '"AIR"', '"AIR"': '"SEA"'}

    def events(rows):
        kept = [r for r in rows[::2] if r != gate_out]
        moved = gate_out.replace(at, later[0])
        return [*kept, moved, f'"{declaration}-99","{declaration}","GATE_OUT","{later[1]}",""']

    def declarations(rows):
        row = next(r for r in rows if r.startswith(f'"{declaration}",'))
        return [",".join(other_mode.get(v, v) for v in row.split(","))]

    _corrected(events_file, events)
    _corrected(built_home.landing / "clearance_events_20060103.csv.gz", lambda rows: rows[:5])
    _corrected(built_home.landing / "clearance_declarations_20060101.csv.gz", declarations)
    outcomes = pipeline.load(built_home, "corrections")
    assert [o.status for o in outcomes] == ["loaded"] * 3, [o.message for o in outcomes]
    pipeline.build(built_home)
    nightly = {t: _table(built_home.warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in staged}
    events_now = nightly["staging.stg_clearance__events"]
    assert len(events_now) == before + 1  # the left-out events stay, the new one is added
    times = dict(zip(events_now.event_id, events_now.event_time.astype(str)))
    assert (times[event_id], times[f"{declaration}-99"]) == tuple(later)
    milestones = nightly["intermediate.int_declaration_milestones"].set_index("declaration_id")
    assert str(milestones.gate_out_at[declaration]) == later[1]
    mode_now = dict(nightly["staging.stg_clearance__declarations"][["declaration_id", "transport_mode"]].values)
    assert {k for k in mode_now if mode_now[k] != mode_before[k]} == {declaration}
    run_dbt(built_home, "run", "--full-refresh", "--select", *(t.split(".")[1] for t in staged))
    for table, df in nightly.items():
        assert df.equals(_table(built_home.warehouse, f"SELECT * FROM {table} ORDER BY ALL")), table


TRS_PERIOD_TABLES = (
    "intermediate.int_trs_period_cells",
    "intermediate.int_trs_party_monthly",
    "marts.trs_release_time",
    "marts.trs_segment_time",
    "marts.trs_release_curve",
    "marts.trs_cohort_comparison",
    "marts.trs_actor_time",
    "marts.trs_median_change_yearly",
)


def test_a_declaration_moved_to_another_month_leaves_no_stale_rows(built_home):
    """A corrected arrival moves a declaration from January 2006 to December 2005, a month and a
    year back. The changed declaration gives its month as it is now; the month it left is listed
    because its count in the milestones changed (int_trs_month_counts), so no TRS model keeps
    counting the declaration there: the night passes its tests, and every TRS table equals a full
    rebuild."""
    events_file = built_home.landing / "clearance_events_20060101.csv.gz"
    arrival = next(r for r in _rows_of(events_file) if ',"ARRIVAL","2006-01-01 ' in r)
    declaration, at = (v.strip('"') for v in arrival.split(",")[1:4:2])
    _corrected(events_file, lambda rows: [arrival.replace(at, "2005-12-31 00:30:00")])
    assert [o.status for o in pipeline.load(built_home, "moved")] == ["loaded"]
    result = pipeline.build(built_home)
    assert not result.failures, result.failures
    milestones = _table(built_home.warehouse, "SELECT * FROM intermediate.int_declaration_milestones")
    assert str(milestones.set_index("declaration_id").reference_date[declaration])[:10] == "2005-12-31"
    nightly = {t: _table(built_home.warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in TRS_PERIOD_TABLES}
    cells = nightly["intermediate.int_trs_period_cells"]
    january = cells[(cells.period_type == "month") & (cells.period_start.astype(str) == "2006-01-01")]
    assert january.declarations.sum() == (milestones.reference_date.astype(str).str[:7] == "2006-01").sum()
    pipeline.build(built_home, full_refresh=True)
    for table, df in nightly.items():
        full = _table(built_home.warehouse, f"SELECT * FROM {table} ORDER BY ALL")
        assert len(df) == len(full) > 0, table
        assert df.equals(full), table


def test_a_kept_home_parses_only_what_changed(built_home, monkeypatch):
    """A scheduled home's next night (a new process, a new SWPM_TESTS_SINCE) reuses the dbt
    parse the last one left in its target (dbt's partial parse) instead of parsing in full."""
    from ingest.run import dbt

    log = built_home.warehouse_dir / "dbt" / "logs" / "dbt.log"
    paths = dbt._prepare(built_home)
    said = []
    for since in ("", "2026-01-01 02:00:00"):  # a first night, then the next
        monkeypatch.setattr(dbt, "_MANIFESTS", {})  # as in a new process
        start = log.stat().st_size if log.exists() else 0
        with dbt.environment(SWPM_TESTS_SINCE=since):
            assert dbt._manifest(paths) is not None
        with open(log, encoding="utf-8", errors="replace") as fh:
            fh.seek(start)
            said.append(fh.read())
    # The copied home is at a new path (the profile names its warehouse), or its target holds no
    # saved parse yet: the first parses all, for a reason dbt states.
    assert "Unable to do partial parsing because" in said[0]
    assert "Partial parsing enabled" in said[1] and "Unable to do partial parsing" not in said[1]


def test_checks_then_atomic_publish(built_home):
    sample_home = built_home
    results = pipeline.check(sample_home)
    assert all(r.success for r in results) and {r.name for r in results} >= {"trs_release_time", "trs_segment_time"}
    first = pipeline.publish(sample_home, "b1")
    served = sample_home.snapshot
    con = duckdb.connect(str(served), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM trs_release_time").fetchone()[0]
        assert n == first["marts"]["trs_release_time"]["rows"]
        assert con.execute("SELECT snapshot_id FROM snapshot_info").fetchone()[0] == first["snapshot_id"]
    finally:
        con.close()
    import pyarrow.parquet as pq

    assert pq.read_metadata(sample_home.serving / "parquet" / "trs_release_time.parquet").num_rows == n
    assert pipeline.is_published_current(sample_home)


def test_failed_publish_leaves_previous_snapshot(built_home, monkeypatch):
    import errno

    from ingest.run import publish as publisher

    sample_home = built_home
    first = pipeline.publish(sample_home, "b1")
    before = sample_home.snapshot.read_bytes()
    parquet_before = os.readlink(sample_home.serving / "parquet")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publisher.pq, "write_table", disk_full)
    with pytest.raises(PublishFailed, match="previous snapshot is still served"):
        pipeline.publish(sample_home, "b2")
    assert sample_home.snapshot.read_bytes() == before
    assert os.readlink(sample_home.serving / "parquet") == parquet_before
    assert json.loads(sample_home.snapshot_info.read_text())["snapshot_id"] == first["snapshot_id"]
    assert not list(sample_home.serving.glob(".marts.*")), "no temporary file left behind"


def _stricter_mart_checks(monkeypatch):
    """The mart checks with one more, failing on the sample world: median_hours at most 1."""
    from ingest.run import mart_checks as quality

    original = quality._mart_checks

    def stricter():
        checks = original()
        checks[0]["expectations"].append(
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "median_hours", "max_value": 1}}
        )
        return checks

    monkeypatch.setattr(quality, "_mart_checks", stricter)


def test_failing_mart_check_blocks_publish(built_home, monkeypatch):
    sample_home = built_home
    _stricter_mart_checks(monkeypatch)
    with pytest.raises(pipeline.MartChecksFailed, match="median_hours"):
        pipeline.run(sample_home, dt.date(2026, 11, 24), log=lambda *_: None)
    assert not sample_home.snapshot.exists()


def test_mart_checks_are_registered_once_and_again_when_they_change(built_home, monkeypatch):
    """The mart checks' suites, validation definitions and checkpoints are registered in the
    home's GX context by the first check and kept (registering rewrites GX's project file); a
    changed check is registered again and applies. The Data Docs index lists the latest nights."""
    from ingest.run import mart_checks as quality

    home = built_home
    assert all(r.success for r in quality.check_marts(home))
    project_file = home.gx_dir / "gx" / "great_expectations.yml"
    written = project_file.stat().st_mtime_ns
    assert all(r.success for r in quality.check_marts(home))
    assert project_file.stat().st_mtime_ns == written, "the same checks were registered again"
    site = quality.gx.get_context(mode="file", project_root_dir=str(home.gx_dir)).get_config().data_docs_sites
    limit = site["serving"]["site_index_builder"]["validation_results_limit"]
    assert limit == quality.INDEX_NIGHTS * len(quality._mart_checks())

    _stricter_mart_checks(monkeypatch)
    failed = [r for r in quality.check_marts(home) if not r.success]
    assert [f.column for r in failed for f in r.failures] == ["median_hours"]
    monkeypatch.undo()
    assert all(r.success for r in quality.check_marts(home))


def test_dbt_tests_own_percentile_order_and_reconciliation(built_home):
    """The rules of one mart are dbt tests; the GX publish gate does not repeat them. Percentiles
    out of order, or an all-groups row that no longer counts the declarations or the inspections,
    fail dbt's tests."""
    from ingest.run import dbt

    sample_home = built_home
    with duckdb.connect(str(sample_home.warehouse)) as con:
        con.execute(
            "UPDATE marts.trs_release_time SET p90_hours = median_hours - 1 "
            "WHERE grouping_set = 'period+type' AND median_hours IS NOT NULL"
        )
        con.execute(
            "UPDATE marts.trs_release_time SET declarations = declarations + 1 "
            "WHERE grouping_set = 'period' AND period_type = 'year'"
        )
        con.execute(
            "UPDATE marts.cs_inspection_performance SET inspections = inspections + 1 "
            "WHERE grouping_set = 'period' AND period_type = 'year' AND source = 'clearance_log'"
        )
    with pytest.raises(dbt.DbtFailed) as failed:
        dbt.run_dbt(sample_home, "test", "--select", "trs_release_time", "cs_inspection_performance")
    message = str(failed.value)
    assert "ordered_columns_trs_release_time_min_hours__median_hours__p90_hours__p95_hours__max_hours" in message
    assert "trs_release_time_reconciles" in message
    assert "cs_inspection_performance_reconciles" in message
    gate = {r.name: r for r in pipeline.check(sample_home)}
    assert gate["trs_release_time"].success  # one owner: the gate checks the values' plausibility


def test_cli_run_status_and_same_marts_as_steps(sample_home, tmp_path):
    env = dict(os.environ, SWPM_HOME=str(sample_home.root))
    res = subprocess.run([str(BIN / "swpm"), "run", "--date", "2026-11-24"], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "[8/8]" in res.stdout and "Air-cargo imports" in res.stdout and "2011" in res.stdout
    status = subprocess.run([str(BIN / "swpm"), "status", "--json"], env=env, capture_output=True, text=True)
    info = json.loads(status.stdout)
    assert {t["status"] for t in info["totals"]} == {"loaded"}
    assert info["snapshot"]["marts"]["trs_release_time"]["rows"] > 0
    assert info["runs"][0]["status"] == "success"
    # `swpm run` runs every step the nightly DAG runs, the report included.
    assert (sample_home.serving / "report" / "index.html").is_file()
    assert (sample_home.serving / "docs" / "dbt" / "index.html").is_file()
    # A second run of the same day changes nothing.
    again = subprocess.run([str(BIN / "swpm"), "run", "--date", "2026-11-24"], env=env, capture_output=True, text=True)
    assert "snapshot already current" in again.stdout
    assert json.loads(sample_home.snapshot_info.read_text()) == info["snapshot"]


def test_cli_rejects_bad_arguments(tmp_path):
    res = subprocess.run(
        [str(BIN / "swpm"), "--home", str(tmp_path), "generate", "--start", "2006-13-01", "--days", "1"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and "not a date" in res.stderr
