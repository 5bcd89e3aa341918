"""The DAG file imports cleanly and is wired as the nightly run must be."""

from __future__ import annotations

import os

import pytest

from tests.conftest import PROJECT


@pytest.fixture(scope="module")
def dagbag():
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT / "dags"), include_examples=False)


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "swpm_nightly" in dagbag.dags


def test_schedule_catchup_and_one_run_at_a_time(dagbag):
    dag = dagbag.dags["swpm_nightly"]
    assert dag.catchup is True
    assert dag.max_active_runs == 1
    assert dag.schedule == "@daily" and dag.timetable.summary == "0 0 * * *"
    assert {"swpm", "nightly", "trs"} <= set(dag.tags)


def test_every_task_retries(dagbag):
    dag = dagbag.dags["swpm_nightly"]
    for task in dag.tasks:
        assert task.retries >= 1, task.task_id


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


def test_load_is_mapped_per_file(dagbag):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    task = dagbag.dags["swpm_nightly"].get_task("validate_and_load")
    assert isinstance(task, MappedOperator)


def test_publish_has_an_asset_outlet_per_mart(dagbag):
    from ingest.config import PUBLISHED_MARTS

    task = dagbag.dags["swpm_nightly"].get_task("publish")
    names = {getattr(o, "name", None) for o in task.outlets}
    assert names == {f"swpm.marts.{m}" for m in PUBLISHED_MARTS}


def test_dag_file_only_wires_tasks():
    """Business logic lives in ingest/ and dbt_project/: the DAG file stays small and has no SQL."""
    text = (PROJECT / "dags" / "swpm_nightly.py").read_text()
    assert "duckdb" not in text and "SELECT" not in text.upper().replace("SELECTED", "")
    assert "import duckdb" not in text and "dbtRunner" not in text and "great_expectations" not in text
