"""swpm_intraday: today's release times as they happen, every hour (SWPM_INTRADAY_SCHEDULE).

discover the new clearance files -> load them (one mapped task per source kind) -> then one task
per step of ``ingest.run.steps.INTRADAY_STEPS``: build_today (dbt: ``trs_today`` as of the run's
time, and what it reads) -> publish_today (its own files, ``serving/trs_today.*``, and an
Asset).

It neither waits for nor blocks the nightly run (``swpm_nightly``): no dependency between the
two DAGs, and its own published files. Every task that opens the warehouse takes the slot of the
pool both DAGs share, so two runs never write DuckDB at once. ``swpm today`` runs the same steps
without Airflow.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, chain, dag, task

from ingest.run import schedule
from ingest.run.steps import INTRADAY_STEPS

TRS_TODAY_ASSET = Asset(name="swpm.intraday.trs_today", uri="swpm://serving/trs_today")
WAREHOUSE = {"pool": schedule.WAREHOUSE_POOL}
TRIGGER = "intraday"  # the run log's trigger and the batch ids' prefix


def _record_failure(context) -> None:
    from ingest.run import dag_tasks

    dag_tasks.record_failure(context)


def _as_of(logical_date, dag_run):
    """The moment the run describes: its logical date (the hour it is scheduled for), Korea time."""
    moment = logical_date or dag_run.run_after
    return moment.in_timezone(schedule.LOCAL_TZ).naive()


def _step_task(step, first: bool):
    @task(
        task_id=step.name,
        outlets=[TRS_TODAY_ASSET] if step.publishes_marts else [],
        # The first step runs whether or not there were new files (the hour moved on anyway).
        trigger_rule="none_failed" if first else "all_success",
        **WAREHOUSE,
    )
    def run_step(logical_date=None, run_id=None, dag_run=None, ti=None):
        from ingest.run import dag_tasks

        ctx = dag_tasks.run_context(run_id, logical_date or dag_run.run_after, TRIGGER)
        return dag_tasks.run_intraday_step(step.name, ctx, _as_of(logical_date, dag_run), ti)

    return run_step()


@dag(
    dag_id="swpm_intraday",
    description="Intraday TRS: new clearance files -> trs_today (today's releases so far, cargo waiting)",
    schedule=schedule.INTRADAY_SCHEDULE,
    start_date=pendulum.parse(schedule.START_DATE, tz=schedule.LOCAL_TZ),
    catchup=schedule.CATCHUP,
    max_active_runs=1,
    tags=["swpm", "intraday", "trs"],
    default_args={
        "retries": schedule.RETRIES,
        "retry_delay": schedule.RETRY_DELAY,
        "owner": "swpm",
        "on_failure_callback": _record_failure,
    },
    doc_md=__doc__,
)
def swpm_intraday():
    @task(**WAREHOUSE)
    def discover_clearance(logical_date=None, run_id=None, dag_run=None) -> list[dict]:
        from ingest.run import dag_tasks
        from ingest.run.intraday import CLEARANCE_KINDS

        ctx = dag_tasks.run_context(run_id, logical_date or dag_run.run_after, TRIGGER)
        return dag_tasks.discover(ctx, kinds=CLEARANCE_KINDS)

    @task(map_index_template="{{ load_label }}", **WAREHOUSE)
    def load_clearance(group: dict, logical_date=None, run_id=None, dag_run=None) -> dict:
        from ingest.run import dag_tasks

        return dag_tasks.load(group, dag_tasks.run_context(run_id, logical_date or dag_run.run_after, TRIGGER))

    loaded = load_clearance.expand(group=discover_clearance())
    chain(loaded, *[_step_task(step, i == 0) for i, step in enumerate(INTRADAY_STEPS)])


swpm_intraday()
