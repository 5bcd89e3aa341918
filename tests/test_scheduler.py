"""The nightly DAG under the real scheduler (not `airflow dags test`): one deployment for the
session (tests/scheduler_harness.py), one story told in order, each test a night of it:

1. a fresh deployment, unpaused, makes one run (catch-up off), however early its start date;
2. a backfill over two nights (`airflow backfill create`) runs them one at a time, each taking
   its day's files, and gives the marts that nightly runs outside Airflow give;
3. a triggered night runs every task to success and publishes, an asset event per mart, its
   release times equal an independent computation from the files; a second night changes nothing;
4. a load task that fails once is retried, and the night ends right: no double load, the
   manifest reconciles;
5. a dbt model that fails is named in the build task's XCom; once fixed, the next night recovers.

Marker `scheduler` (`make test-airflow`): never part of `make test`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pytest

from ingest.config import PUBLISHED_MARTS, Home
from tests.conftest import SAMPLE_DAYS, SAMPLE_PER_DAY, SAMPLE_SEED
from tests.trs_reference import declarations_from_landing, stats

NIGHTLY = "swpm_nightly"
LAUNCH_DAYS = SAMPLE_DAYS[:2]  # 2006-01-01, 2006-01-02: the backfill
MATURE_DAYS = SAMPLE_DAYS[2:]  # 2011-06-01, 2011-06-02: the triggered night
RETRY_DAY = dt.date(2011, 6, 3)
KST = dt.timezone(dt.timedelta(hours=9))
BROKEN_DAY = dt.date(2011, 6, 4)


def land(scheduler, sample_landing, days) -> list[str]:
    """The clearance drops of ``days`` into the deployment's landing folder (the session sample's
    files, or generated like them)."""
    from ingest.sample_world.clearance import generate

    names = []
    for day in days:
        stamp = day.strftime("%Y%m%d")
        for kind in ("declarations", "events"):
            name = f"clearance_{kind}_{stamp}.csv.gz"
            if (sample_landing / name).exists():
                shutil.copy2(sample_landing / name, scheduler.home.landing / name)
            names.append(name)
        if not (scheduler.home.landing / names[-1]).exists():
            generate(scheduler.home.landing, day, 1, SAMPLE_PER_DAY, seed=SAMPLE_SEED)
    return names


def seoul(day: dt.date, hour: int = 0) -> str:
    """A logical date in Korea time (a DAG has one run per logical date: later runs of the same
    night take another hour)."""
    return f"{day.isoformat()}T{hour:02d}:00:00+09:00"


def manifest(home: Home) -> list[tuple]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT file_name, status, rows_landed, rows_loaded, rows_quarantined, batch_id FROM meta.file_manifest"
        ).fetchall()
    finally:
        con.close()


def assert_no_double_load(home: Home) -> None:
    """Every file once in the manifest; raw holds exactly the rows the manifest says, once each."""
    rows = manifest(home)
    names = [r[0] for r in rows]
    assert len(names) == len(set(names)), names
    for name, status, landed, loaded, quarantined, _ in rows:
        assert status == "loaded", name
        assert landed == loaded + quarantined, name
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        for table, kind in (("raw.clearance_declarations", "declarations"), ("raw.clearance_events", "events")):
            total, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT (_source_file, _source_line)) FROM {table}"
            ).fetchone()
            expected = sum(r[3] for r in rows if r[0].startswith(f"clearance_{kind}_"))
            assert total == distinct == expected, table
    finally:
        con.close()


def succeeded(scheduler, run_id: str) -> list[dict]:
    run = scheduler.wait_run(NIGHTLY, run_id)
    assert run["state"] == "success", scheduler.describe(NIGHTLY, run_id)
    return scheduler.task_instances(NIGHTLY, run_id)


def test_a_first_unpause_makes_one_run_not_a_catch_up(scheduler):
    """Catch-up is off and the start date is early (2000-01-01): with catch-up on, an unpause
    would queue a run for every night since then. Off, it makes one, for the latest slot."""
    for dag_id in (NIGHTLY, "swpm_intraday"):
        assert scheduler.runs(dag_id) == []
        before = scheduler.dag(dag_id)
        assert before["is_paused"] is True
        latest = before["next_dagrun_logical_date"]
        scheduler.set_paused(dag_id, False)
        # With catch-up on, the first run would be for the start date, and more would follow it.
        runs = scheduler.wait_until(f"{dag_id}'s first run", lambda d=dag_id: scheduler.runs(d), timeout=300)
        assert [r["logical_date"] for r in runs] == [latest], runs
        assert runs[0]["run_type"] == "scheduled"
        assert scheduler.wait_run(dag_id, runs[0]["dag_run_id"])["state"] == "success"
        # Once that run is done, the scheduler moves the next run past now, and made no other.
        scheduler.wait_until(
            f"{dag_id}'s next run after now",
            lambda d=dag_id: scheduler.dag(d)["next_dagrun_logical_date"] > dt.datetime.now(dt.UTC).isoformat(),
            timeout=300,
        )
        assert [r["logical_date"] for r in scheduler.runs(dag_id)] == [latest]
    # Nothing was landed yet: the night stopped at the gate, recorded as skipped.
    from ingest.run import pipeline

    assert pipeline.status(scheduler.home)["runs"][0]["status"] in ("skipped", "success")


def test_a_backfill_runs_night_by_night_and_equals_nightly_runs(scheduler, sample_landing, tmp_path):
    """`airflow backfill create` over the two launch nights, one run at a time: each run takes the
    files dated up to its night, and the marts equal those of the same nights run by `swpm run`."""
    land(scheduler, sample_landing, LAUNCH_DAYS)
    # This deployment's nights fall at one time of day (tests/scheduler_harness.py, far_cron), not
    # midnight: the range covers the two whole days.
    out = scheduler.cli(
        "backfill", "create", "--dag-id", NIGHTLY, "--from-date", seoul(LAUNCH_DAYS[0]),
        "--to-date", f"{LAUNCH_DAYS[-1].isoformat()}T23:59:59+09:00", "--max-active-runs", "1",
    )  # fmt: skip
    runs = scheduler.wait_until(
        "the backfill's runs",
        lambda: [r for r in scheduler.runs(NIGHTLY) if r["run_type"] == "backfill"],
    )
    assert len(runs) == 2, out
    for run, day in zip(sorted(runs, key=lambda r: r["logical_date"]), LAUNCH_DAYS):
        assert dt.datetime.fromisoformat(run["logical_date"]).astimezone(KST).date() == day
        tis = succeeded(scheduler, run["dag_run_id"])
        loads = [t for t in tis if t["task_id"] == "validate_and_load"]
        files = sorted(
            o["file"]
            for t in loads
            for o in scheduler.xcom(NIGHTLY, run["dag_run_id"], "validate_and_load", map_index=t["map_index"])[
                "outcomes"
            ]
        )
        stamp = day.strftime("%Y%m%d")
        assert files == [f"clearance_declarations_{stamp}.csv.gz", f"clearance_events_{stamp}.csv.gz"]
    # The same two nights outside Airflow.
    from ingest.run import pipeline
    from tests.test_crash_recovery import mart_digests

    daily = Home.resolve(tmp_path / "daily").ensure()
    for path in scheduler.home.landing.iterdir():
        shutil.copy2(path, daily.landing / path.name)
    for day in LAUNCH_DAYS:
        assert pipeline.run(daily, day, log=lambda *_: None, through="publish").published, day
    assert mart_digests(scheduler.home.snapshot) == mart_digests(daily.snapshot)


@pytest.fixture(scope="module")
def triggered_night(scheduler, sample_landing):
    """The mature nights' files landed, then one night triggered, as an operator would."""
    land(scheduler, sample_landing, MATURE_DAYS)
    run_id = "triggered_20110602"
    scheduler.trigger(NIGHTLY, run_id, seoul(MATURE_DAYS[-1]))
    return run_id, succeeded(scheduler, run_id)


def test_a_triggered_night_runs_every_task_and_publishes(scheduler, triggered_night):
    run_id, tis = triggered_night
    assert {t["state"] for t in tis} == {"success"}, scheduler.describe(NIGHTLY, run_id)
    from ingest.run.steps import STEP_NAMES

    assert {t["task_id"] for t in tis} == {"discover_files", "validate_and_load", "changes_pending", *STEP_NAMES}
    # One load task per source kind, labelled in the UI by its files.
    labels = sorted(t["rendered_map_index"] for t in tis if t["task_id"] == "validate_and_load")
    assert labels == [
        "clearance_declarations: 2 files, clearance_declarations_20110601.csv.gz .. clearance_declarations_20110602.csv.gz",
        "clearance_events: 2 files, clearance_events_20110601.csv.gz .. clearance_events_20110602.csv.gz",
    ]
    home = scheduler.home
    snapshot = json.loads(home.snapshot_info.read_text())
    batch = scheduler.xcom(NIGHTLY, run_id, "publish")
    assert batch["snapshot_id"] == snapshot["snapshot_id"]
    assert set(snapshot["marts"]) == set(PUBLISHED_MARTS)
    # One asset event per published mart, from this run's publish task.
    events = scheduler.asset_events(NIGHTLY, run_id)
    assert sorted(e["name"] for e in events) == sorted(f"swpm.marts.{m}" for m in PUBLISHED_MARTS)
    assert {e["source_task_id"] for e in events} == {"publish"}
    for mart in ("trs_release_time", "trs_segment_time"):
        assert snapshot["marts"][mart]["rows"] > 0
        assert (home.serving / "parquet" / f"{mart}.parquet").exists()
    assert (home.serving / "docs" / "gx" / "index.html").exists()
    assert (home.serving / "docs" / "dbt" / "index.html").exists()
    assert snapshot["snapshot_id"] in (home.serving / "report" / "index.html").read_text()
    build = scheduler.xcom(NIGHTLY, run_id, "build")
    assert build["success"] and build["failed"] == [] and build["nodes"] > 100, build


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
def test_release_time_matches_an_independent_computation(scheduler, triggered_night, label, where, select):
    expected = stats(select(declarations_from_landing(scheduler.home.landing)))
    con = duckdb.connect(str(scheduler.home.snapshot), read_only=True)
    try:
        row = con.execute(
            f"SELECT declarations, released, median_hours, p90_hours, mean_hours FROM trs_release_time WHERE {where}"
        ).fetchone()
    finally:
        con.close()
    assert row is not None, label
    declarations, released, median, p90, mean = row
    assert declarations == expected["declarations"], label
    assert released == expected["released"], label
    assert median == pytest.approx(expected["median_hours"], abs=1e-3), label
    assert p90 == pytest.approx(expected["p90_hours"], abs=1e-3), label
    assert mean == pytest.approx(expected["mean_hours"], abs=1e-3), label


def test_a_second_night_with_nothing_new_changes_nothing(scheduler, triggered_night):
    before = scheduler.home.snapshot_info.read_text()
    run_id = "nothing_new_20110602"
    scheduler.trigger(NIGHTLY, run_id, seoul(MATURE_DAYS[-1], hour=12))
    states = {t["task_id"]: t["state"] for t in succeeded(scheduler, run_id)}
    assert states["discover_files"] == "success" and states["changes_pending"] == "success"
    assert states["validate_and_load"] == "skipped" and states["build"] == "skipped", states
    assert scheduler.home.snapshot_info.read_text() == before
    from ingest.run import pipeline

    assert pipeline.status(scheduler.home)["runs"][0]["status"] == "skipped"


def test_a_load_that_fails_once_is_retried_and_the_night_ends_right(scheduler, sample_landing, triggered_night):
    """The first file's load fails before its commit (rows inserted, transaction open); the task
    is retried: the file loads once, the group's other file is not loaded twice."""
    land(scheduler, sample_landing, [RETRY_DAY])
    scheduler.fail_once_file.write_text("load:before_commit")
    run_id = "retried_20110603"
    scheduler.trigger(NIGHTLY, run_id, seoul(RETRY_DAY))
    tis = succeeded(scheduler, run_id)
    assert not scheduler.fail_once_file.exists(), "the failure was never injected"
    loads = [t for t in tis if t["task_id"] == "validate_and_load"]
    retried = [t for t in loads if t["try_number"] == 2]
    assert len(retried) == 1, loads
    first_try = scheduler.task_log(NIGHTLY, run_id, "validate_and_load", 1, retried[0]["map_index"])
    assert "InjectedFailure" in first_try
    assert_no_double_load(scheduler.home)
    snapshot = json.loads(scheduler.home.snapshot_info.read_text())
    assert snapshot["batch_id"].startswith("airflow_20110603_")
    expected = stats(declarations_from_landing(scheduler.home.landing))
    con = duckdb.connect(str(scheduler.home.snapshot), read_only=True)
    try:
        total = con.execute(
            "SELECT sum(declarations) FROM trs_release_time WHERE period_type='year' AND grouping_set='period'"
        ).fetchone()[0]
    finally:
        con.close()
    assert total == expected["declarations"]


def test_a_failed_dbt_model_is_named_in_the_build_task(scheduler, sample_landing, triggered_night):
    """A model that fails (here the warehouse's raw table lost a column its staging model reads)
    fails the night; the build task's XCom names the model and dbt's message, so the UI tells
    which without a log. Fixed, the next night builds and publishes."""
    from ingest.warehouse import connect

    land(scheduler, sample_landing, [BROKEN_DAY])
    served = scheduler.home.snapshot_info.read_text()
    with connect(scheduler.home) as con:  # no run is active: the previous test's night ended
        con.execute('ALTER TABLE raw.clearance_declarations RENAME COLUMN customs_office TO "office_renamed"')
    run_id = "broken_20110604"
    scheduler.trigger(NIGHTLY, run_id, seoul(BROKEN_DAY))
    run = scheduler.wait_run(NIGHTLY, run_id)
    try:
        assert run["state"] == "failed"
        states = {t["task_id"]: t["state"] for t in scheduler.task_instances(NIGHTLY, run_id)}
        assert states["build"] == "failed" and states["publish"] == "upstream_failed", states
        failures = scheduler.xcom(NIGHTLY, run_id, "build", key="dbt_failures")
        failed = {f["node"]: f for f in failures}
        assert "stg_clearance__declarations" in failed, failures
        assert "customs_office" in failed["stg_clearance__declarations"]["message"]
        assert scheduler.home.snapshot_info.read_text() == served  # the old snapshot stays served
        from ingest.run import pipeline

        last = pipeline.status(scheduler.home)["runs"][0]
        assert (last["step"], last["status"]) == ("build", "failed"), last
    finally:
        with connect(scheduler.home) as con:
            con.execute('ALTER TABLE raw.clearance_declarations RENAME COLUMN "office_renamed" TO customs_office')
    run_id = "recovered_20110604"
    scheduler.trigger(NIGHTLY, run_id, seoul(BROKEN_DAY, hour=12))
    succeeded(scheduler, run_id)
    assert json.loads(scheduler.home.snapshot_info.read_text())["batch_id"].startswith("airflow_20110604_")
    assert_no_double_load(scheduler.home)
