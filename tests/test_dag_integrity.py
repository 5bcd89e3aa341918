"""The DAG files import cleanly and are wired as the nightly and intraday runs must be."""

from __future__ import annotations

import os

import pytest

from tests.conftest import PROJECT


@pytest.fixture(scope="module")
def dagbag():
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT / "dags"), include_examples=False)


DAGS = ("swpm_nightly", "swpm_intraday")


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(DAGS) <= set(dagbag.dags)


@pytest.mark.parametrize(
    "dag_id, preset, cron", [("swpm_nightly", "@daily", "0 0 * * *"), ("swpm_intraday", "@hourly", "0 * * * *")]
)
def test_schedule_no_catch_up_and_one_run_at_a_time(dagbag, dag_id, preset, cron):
    """Catch-up off (docs/operations.md#the-scheduler): a first unpause makes one run, not one per
    night since the start date; Korea's midnight and hours."""
    dag = dagbag.dags[dag_id]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.schedule == preset and dag.timetable.summary == cron
    assert str(dag.timezone) == "Asia/Seoul"
    # Any night since the clearance system's start may be run (a manual run or a backfill).
    assert dag.start_date.in_timezone("Asia/Seoul").date().isoformat() == "2000-01-01"
    assert {"swpm", "trs"} <= set(dag.tags)


@pytest.mark.parametrize("dag_id", DAGS)
def test_every_task_retries_and_takes_the_warehouse_pool(dagbag, dag_id):
    """Both DAGs' tasks open the warehouse: they share one pool slot (one DuckDB writer)."""
    from ingest.run.schedule import WAREHOUSE_POOL

    for task in dagbag.dags[dag_id].tasks:
        assert task.retries >= 1, task.task_id
        assert task.pool == WAREHOUSE_POOL, task.task_id


def test_task_order_and_no_cycles(dagbag):
    """The DAG runs the load, the gate, then exactly the steps `swpm run` runs, in their order."""
    from ingest.run.steps import STEP_NAMES

    dag = dagbag.dags["swpm_nightly"]
    order = [t.task_id for t in dag.topological_sort()]  # raises on a cycle
    expected = ["discover_files", "validate_and_load", "changes_pending", *STEP_NAMES]
    assert order == expected
    for upstream, downstream in zip(expected[1:], expected[2:]):
        assert dag.get_task(upstream).downstream_task_ids == {downstream}
    assert dag.get_task(STEP_NAMES[-1]).downstream_task_ids == set()


@pytest.mark.parametrize(
    "dag_id, task_id", [("swpm_nightly", "validate_and_load"), ("swpm_intraday", "load_clearance")]
)
def test_load_is_mapped_per_source_kind_and_labelled(dagbag, dag_id, task_id):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    task = dagbag.dags[dag_id].get_task(task_id)
    assert isinstance(task, MappedOperator)
    assert task.map_index_template == "{{ load_label }}"


def test_intraday_task_order_and_its_asset(dagbag):
    from ingest.run.steps import INTRADAY_STEP_NAMES

    dag = dagbag.dags["swpm_intraday"]
    order = [t.task_id for t in dag.topological_sort()]
    assert order == ["discover_clearance", "load_clearance", *INTRADAY_STEP_NAMES]
    # The refresh runs whether or not new files came (the hour moved on).
    assert dag.get_task(INTRADAY_STEP_NAMES[0]).trigger_rule == "none_failed"
    assert {o.name for o in dag.get_task("publish_today").outlets} == {"swpm.intraday.trs_today"}


def test_publish_has_an_asset_outlet_per_mart(dagbag):
    from ingest.config import PUBLISHED_MARTS

    task = dagbag.dags["swpm_nightly"].get_task("publish")
    names = {getattr(o, "name", None) for o in task.outlets}
    assert names == {f"swpm.marts.{m}" for m in PUBLISHED_MARTS}


@pytest.mark.parametrize("dag_id", DAGS)
def test_dag_file_only_wires_tasks(dag_id):
    """Business logic lives in ingest/ and dbt_project/: the DAG file stays small and has no SQL."""
    text = (PROJECT / "dags" / f"{dag_id}.py").read_text()
    assert "duckdb" not in text and "SELECT" not in text.upper().replace("SELECTED", "")
    assert "import duckdb" not in text and "dbtRunner" not in text and "great_expectations" not in text
