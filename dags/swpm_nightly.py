"""swpm_nightly: the nightly load of the Single Window performance warehouse.

discover new files -> validate and load (one mapped task per source kind of the new files, each
file checked, loaded or quarantined on its own) -> changes pending? -> then one task per step of
``ingest.run.steps.STEPS``: build (dbt) -> freshness (dbt source freshness, warn only) -> alerts
(kpi_alerts, one digest mail) -> check (GX on the marts) -> publish (an Asset per mart) -> report.
A task failed for good mails SWPM_ALERT_EMAILS.

The DAG only wires tasks: every step is a function of ``ingest.run.pipeline``, and ``swpm run``
follows the same list. The home folder comes from SWPM_HOME. Schedule, catch-up policy, pool
and retries: ``ingest.run.schedule`` (docs/operations.md#the-scheduler).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, chain, dag, task

from ingest.config import PUBLISHED_MARTS
from ingest.run import schedule
from ingest.run.notifiers import FailureNotifier
from ingest.run.steps import STEPS

MART_ASSETS = [Asset(name=f"swpm.marts.{mart}", uri=f"swpm://serving/marts/{mart}") for mart in PUBLISHED_MARTS]
# Every task below opens the warehouse: they take the pool's one slot in turn, with the
# intraday DAG's (DuckDB has one writer, and a writer shuts out readers).
WAREHOUSE = {"pool": schedule.WAREHOUSE_POOL}


def _record_failure(context) -> None:
    """A failed task marks the run failed in the warehouse's run log (swpm status shows it)."""
    from ingest.run import dag_tasks

    dag_tasks.record_failure(context)


def _step_task(step):
    @task(task_id=step.name, outlets=MART_ASSETS if step.publishes_marts else [], **WAREHOUSE)
    def run_step(logical_date=None, run_id=None, ti=None):
        from ingest.run import dag_tasks

        return dag_tasks.run_step(step.name, dag_tasks.run_context(run_id, logical_date), ti)

    return run_step()


@dag(
    dag_id="swpm_nightly",
    description="Nightly load: landing files -> DuckDB raw -> dbt marts -> GX checks -> read-only snapshot",
    schedule=schedule.NIGHTLY_SCHEDULE,
    start_date=pendulum.parse(schedule.START_DATE, tz=schedule.LOCAL_TZ),
    catchup=schedule.CATCHUP,
    max_active_runs=1,
    tags=["swpm", "nightly", "trs"],
    default_args={
        "retries": schedule.RETRIES,
        "retry_delay": schedule.RETRY_DELAY,
        "owner": "swpm",
        # The run log records the failure; the notifier mails SWPM_ALERT_EMAILS (if set) through
        # the Airflow connection smtp_default, once retries are spent.
        "on_failure_callback": [_record_failure, FailureNotifier()],
    },
    doc_md=__doc__,
)
def swpm_nightly():
    @task(**WAREHOUSE)
    def discover_files(logical_date=None, run_id=None) -> list[dict]:
        from ingest.run import dag_tasks

        return dag_tasks.discover(dag_tasks.run_context(run_id, logical_date))

    # One task per source kind of the new files, labelled in the UI by its file names.
    @task(map_index_template="{{ load_label }}", **WAREHOUSE)
    def validate_and_load(group: dict, logical_date=None, run_id=None) -> dict:
        from ingest.run import dag_tasks

        return dag_tasks.load(group, dag_tasks.run_context(run_id, logical_date))

    @task.short_circuit(trigger_rule="none_failed", **WAREHOUSE)
    def changes_pending(outcomes=None, logical_date=None, run_id=None) -> bool:
        """Skip the steps after the load when the snapshot already reflects every load."""
        from ingest.run import pipeline
        from ingest.run.dag_tasks import run_context

        return pipeline.skip_reason(run_context(run_id, logical_date)) is None

    loaded = validate_and_load.expand(group=discover_files())
    chain(changes_pending(loaded), *[_step_task(step) for step in STEPS])


swpm_nightly()
