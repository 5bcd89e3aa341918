"""The real Airflow DAG, run with `airflow dags test` over a small sample world, against an
independent computation from the landed files; then a second run that must change nothing."""

from __future__ import annotations

import json
import subprocess

import duckdb
import pytest

from tests.conftest import BIN
from tests.trs_reference import declarations_from_landing, stats


def _dags_test(env, home, date="2026-11-24"):
    env = dict(env, SWPM_HOME=str(home.root))
    res = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "swpm_nightly", date],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-5000:]
    assert "state=success" in log, log[-5000:]
    return log


@pytest.fixture(scope="module")
def dag_run(airflow_env, tmp_path_factory, sample_landing):
    import shutil

    from ingest.config import Home

    home = Home.resolve(tmp_path_factory.mktemp("e2e") / "home").ensure()
    for f in sample_landing.iterdir():
        shutil.copy2(f, home.landing / f.name)
    log = _dags_test(airflow_env, home)
    return home, log


def _mart(home, where: str, params=()):
    con = duckdb.connect(str(home.snapshot), read_only=True)
    try:
        return con.execute(
            f"SELECT declarations, released, median_hours, p90_hours, mean_hours FROM trs_release_time WHERE {where}",
            list(params),
        ).fetchone()
    finally:
        con.close()


def test_dag_loads_everything_and_publishes(dag_run):
    home, log = dag_run
    assert log.count("[DAG TEST] end task task_id=validate_and_load") == 8
    snapshot = json.loads(home.snapshot_info.read_text())
    assert snapshot["batch_id"].startswith("airflow_")
    for mart in ("trs_release_time", "trs_segment_time"):
        assert snapshot["marts"][mart]["rows"] > 0
        assert (home.serving / "parquet" / f"{mart}.parquet").exists()
    assert (home.serving / "docs" / "gx" / "index.html").exists()
    # The last task: dbt docs and the report, from the snapshot just published.
    assert (home.serving / "docs" / "dbt" / "index.html").exists()
    assert snapshot["snapshot_id"] in (home.serving / "report" / "index.html").read_text()


@pytest.mark.parametrize(
    "label, where, select",
    [
        (
            "year rollup, everything",
            "period_type='year' AND period_start='2006-01-01' AND grouping_set='period'",
            lambda d: d[d.reference_date.dt.year == 2006],
        ),
        (
            "year, air imports",
            "period_type='year' AND period_start='2011-01-01' AND declaration_type='import' "
            "AND transport_mode='air' AND grouping_set='period+type+mode'",
            lambda d: d[
                (d.reference_date.dt.year == 2011) & (d.declaration_type == "import") & (d.transport_mode == "air")
            ],
        ),
        (
            "month, sea imports, red channel",
            "period_type='month' AND period_start='2006-01-01' AND declaration_type='import' "
            "AND transport_mode='sea' AND channel='red' AND customs_office='ALL'",
            lambda d: d[
                (d.reference_date.dt.strftime("%Y-%m") == "2006-01")
                & (d.declaration_type == "import")
                & (d.transport_mode == "sea")
                & (d.channel == "red")
            ],
        ),
        (
            "year, air exports, office 040",
            "period_type='year' AND period_start='2006-01-01' AND declaration_type='export' "
            "AND transport_mode='air' AND channel='ALL' AND customs_office='040'",
            lambda d: d[
                (d.reference_date.dt.year == 2006)
                & (d.declaration_type == "export")
                & (d.transport_mode == "air")
                & (d.customs_office == "040")
            ],
        ),
    ],
)
def test_release_time_matches_an_independent_computation(dag_run, sample_landing, label, where, select):
    home, _ = dag_run
    expected = stats(select(declarations_from_landing(sample_landing)))
    row = _mart(home, where)
    assert row is not None, label
    declarations, released, median, p90, mean = row
    assert declarations == expected["declarations"], label
    assert released == expected["released"], label
    assert median == pytest.approx(expected["median_hours"], abs=1e-3), label
    assert p90 == pytest.approx(expected["p90_hours"], abs=1e-3), label
    assert mean == pytest.approx(expected["mean_hours"], abs=1e-3), label


def test_second_run_changes_nothing(dag_run, airflow_env):
    home, _ = dag_run
    before = home.snapshot_info.read_text()
    log = _dags_test(airflow_env, home)
    assert "[DAG TEST] end task task_id=discover_files" in log
    assert "[DAG TEST] end task task_id=validate_and_load" not in log
    assert "[DAG TEST] end task task_id=build" not in log
    assert home.snapshot_info.read_text() == before
    from ingest.run import pipeline

    assert pipeline.status(home)["runs"][0]["status"] == "skipped"


def test_a_backfill_through_airflow_equals_the_daily_runs(dag_run, sample_landing, tmp_path):
    """The DAG run above took a date range's backlog (2006-01-01 .. 2011-06-02) in one run, as a
    backfill or a catch-up night does; running the nights one by one over the same files gives
    the same marts (load-time lineage aside)."""
    import shutil

    from ingest.config import Home
    from ingest.run import pipeline
    from tests.conftest import SAMPLE_DAYS
    from tests.test_crash_recovery import mart_digests

    home, _ = dag_run
    daily = Home.resolve(tmp_path / "daily").ensure()
    for f in sample_landing.iterdir():
        shutil.copy2(f, daily.landing / f.name)
    for day in SAMPLE_DAYS:
        summary = pipeline.run(daily, day, log=lambda *_: None, through="publish")
        assert len(summary.outcomes) == 2 and summary.published, day
    assert mart_digests(home.snapshot) == mart_digests(daily.snapshot)
