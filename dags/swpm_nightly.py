"""swpm_nightly: the nightly load of the Single Window performance warehouse.

discover new files -> validate and load (one mapped task per file) -> changes pending?
-> dbt build -> check marts (GX) -> publish snapshot (an Asset per mart) -> build report.

The DAG only wires tasks: every step is a function of ``ingest.pipeline``, which the ``swpm``
command line runs the same way. The home folder comes from SWPM_HOME.
"""
from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import Asset, dag, task

from ingest.config import PUBLISHED_MARTS

LOCAL_TZ = "Asia/Seoul"
# First night the schedule (and catchup) covers; set it to your go-live date. Runs for earlier
# dates are for backfills (`airflow backfill create`) and tests.
START_DATE = pendulum.parse(os.environ.get("SWPM_START_DATE", "2026-01-01"), tz=LOCAL_TZ)
MART_ASSETS = [Asset(name=f"swpm.marts.{mart}", uri=f"swpm://serving/marts/{mart}") for mart in PUBLISHED_MARTS]


def _home():
    from ingest.config import Home

    return Home.resolve()


def _batch_id(run_id: str, logical_date) -> str:
    """A batch id per DAG run: the same run retried keeps its batch."""
    import hashlib

    day = logical_date.in_timezone(LOCAL_TZ).strftime("%Y%m%d") if logical_date else "manual"
    return f"airflow_{day}_{hashlib.sha256(run_id.encode()).hexdigest()[:10]}"


def _record_failure(context) -> None:
    """A failed task marks the run failed in the warehouse's run log (swpm status shows it)."""
    from ingest import pipeline

    ti = context["ti"]
    pipeline.record_step(_home(), _batch_id(context["run_id"], context.get("logical_date")),
                         ti.task_id, "failed", str(context.get("exception") or ""))


@dag(
    dag_id="swpm_nightly",
    description="Nightly load: landing files -> DuckDB raw -> dbt marts -> GX checks -> read-only snapshot",
    schedule="@daily",
    start_date=START_DATE,
    catchup=True,
    max_active_runs=1,
    tags=["swpm", "nightly", "trs"],
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5), "owner": "swpm",
                  "on_failure_callback": _record_failure},
    doc_md=__doc__,
)
def swpm_nightly():
    @task
    def discover_files(logical_date=None, run_id=None) -> list[str]:
        from ingest import loader, pipeline

        home = _home()
        until = logical_date.in_timezone(LOCAL_TZ).date() if logical_date else None
        pipeline.record_step(home, _batch_id(run_id, logical_date), "load", "running",
                             logical_date=until, trigger="airflow")
        return [str(p) for p in loader.discover(home, until=until)]

    # Mapped per file. DuckDB takes one writer at a time: parallel load tasks queue on the
    # warehouse's writer lock (ingest.warehouse.writer_lock), so any executor is safe.
    @task
    def validate_and_load(path: str, logical_date=None, run_id=None) -> dict:
        from ingest import loader

        outcome = loader.load_file(_home(), path, _batch_id(run_id, logical_date))
        return {k: v for k, v in outcome.as_dict().items() if k != "details"}

    @task.short_circuit(trigger_rule="none_failed")
    def changes_pending(outcomes=None, logical_date=None, run_id=None) -> bool:
        """Skip build, checks and publish when the snapshot already reflects every load."""
        from ingest import pipeline

        home = _home()
        pending = pipeline.has_loaded_rows(home) and not pipeline.is_published_current(home)
        if not pending:
            pipeline.record_step(home, _batch_id(run_id, logical_date), "done", "skipped", "snapshot already current")
        return pending

    @task
    def dbt_build() -> int:
        from ingest import pipeline

        return len(pipeline.build(_home()).nodes)

    @task
    def check_marts() -> dict:
        from ingest import pipeline

        return {r.name: r.rows for r in pipeline.check(_home())}

    @task(outlets=MART_ASSETS)
    def publish_snapshot(logical_date=None, run_id=None) -> dict:
        from ingest import pipeline

        home = _home()
        batch = _batch_id(run_id, logical_date)
        info = pipeline.publish(home, batch)
        pipeline.record_step(home, batch, "done", "success", f"snapshot {info['snapshot_id']}")
        return {"snapshot_id": info["snapshot_id"], "marts": info["marts"]}

    @task
    def build_report() -> str:
        """dbt docs and the HTML performance report, from the snapshot just published."""
        from ingest import report

        report.publish_dbt_docs(_home())
        return str(report.build_report(_home()))

    loaded = validate_and_load.expand(path=discover_files())
    gate = changes_pending(loaded)
    gate >> dbt_build() >> check_marts() >> publish_snapshot() >> build_report()


swpm_nightly()
