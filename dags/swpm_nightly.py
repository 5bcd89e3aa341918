"""swpm_nightly: the nightly load of the Single Window performance warehouse.

discover new files -> validate and load (one mapped task per file) -> changes pending?
-> then one task per step of ``ingest.run.steps.STEPS``: build (dbt) -> freshness (dbt source
freshness, warn only) -> alerts (kpi_alerts, one digest mail) -> check (GX on the marts)
-> publish (an Asset per mart) -> report. A task failed for good mails SWPM_ALERT_EMAILS.

The DAG only wires tasks: every step is a function of ``ingest.run.pipeline``, and ``swpm run``
follows the same list. The home folder comes from SWPM_HOME.
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import Asset, chain, dag, task

from ingest.config import PUBLISHED_MARTS
from ingest.run.notifiers import FailureNotifier
from ingest.run.steps import STEPS

LOCAL_TZ = "Asia/Seoul"
# First night the schedule (and catchup) covers; set it to your go-live date. Runs for earlier
# dates are for backfills (`airflow backfill create`) and tests.
START_DATE = pendulum.parse(os.environ.get("SWPM_START_DATE", "2026-01-01"), tz=LOCAL_TZ)
MART_ASSETS = [Asset(name=f"swpm.marts.{mart}", uri=f"swpm://serving/marts/{mart}") for mart in PUBLISHED_MARTS]


def _context(run_id: str, logical_date):
    """The run's context: the same DAG run (and its retries) keeps one batch id."""
    import hashlib

    from ingest.config import Home
    from ingest.run.pipeline import RunContext

    day = logical_date.in_timezone(LOCAL_TZ) if logical_date else None
    batch = f"airflow_{day.strftime('%Y%m%d') if day else 'manual'}_{hashlib.sha256(run_id.encode()).hexdigest()[:10]}"
    return RunContext(Home.resolve(), batch, day.date() if day else None, "airflow")


def _record_failure(context) -> None:
    """A failed task marks the run failed in the warehouse's run log (swpm status shows it)."""
    from ingest.run.pipeline import record_step

    ctx = _context(context["run_id"], context.get("logical_date"))
    record_step(ctx.home, ctx.batch_id, context["ti"].task_id, "failed", str(context.get("exception") or ""))


def _step_task(step):
    @task(task_id=step.name, outlets=MART_ASSETS if step.publishes_marts else [])
    def run_step(logical_date=None, run_id=None):
        from ingest.run import pipeline

        pipeline.run_step(step.name, _context(run_id, logical_date))

    return run_step()


@dag(
    dag_id="swpm_nightly",
    description="Nightly load: landing files -> DuckDB raw -> dbt marts -> GX checks -> read-only snapshot",
    schedule="@daily",
    start_date=START_DATE,
    catchup=True,
    max_active_runs=1,
    tags=["swpm", "nightly", "trs"],
    default_args={
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=5),
        "owner": "swpm",
        # The run log records the failure; the notifier mails SWPM_ALERT_EMAILS (if set) through
        # the Airflow connection smtp_default, once retries are spent.
        "on_failure_callback": [_record_failure, FailureNotifier()],
    },
    doc_md=__doc__,
)
def swpm_nightly():
    @task
    def discover_files(logical_date=None, run_id=None) -> list[str]:
        from ingest.landing.discover import discover
        from ingest.run import pipeline

        ctx = _context(run_id, logical_date)
        pipeline.record_step(
            ctx.home, ctx.batch_id, "load", "running", logical_date=ctx.logical_date, trigger=ctx.trigger
        )
        return [str(p) for p in discover(ctx.home, until=ctx.logical_date)]

    # Mapped per file. DuckDB takes one writer at a time: parallel load tasks queue on the
    # warehouse's writer lock (ingest.warehouse.writer_lock), so any executor is safe.
    @task
    def validate_and_load(path: str, logical_date=None, run_id=None) -> dict:
        from ingest.landing.load import load_file

        ctx = _context(run_id, logical_date)
        return {k: v for k, v in load_file(ctx.home, path, ctx.batch_id).as_dict().items() if k != "details"}

    @task.short_circuit(trigger_rule="none_failed")
    def changes_pending(outcomes=None, logical_date=None, run_id=None) -> bool:
        """Skip the steps after the load when the snapshot already reflects every load."""
        from ingest.run import pipeline

        return pipeline.skip_reason(_context(run_id, logical_date)) is None

    loaded = validate_and_load.expand(path=discover_files())
    chain(changes_pending(loaded), *[_step_task(step) for step in STEPS])


swpm_nightly()
