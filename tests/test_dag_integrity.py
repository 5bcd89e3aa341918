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
    dag = dagbag.dags["swpm_nightly"]
    order = [t.task_id for t in dag.topological_sort()]  # raises on a cycle
    expected = ["discover_files", "validate_and_load", "changes_pending", "dbt_build", "check_marts", "publish_snapshot",
                "build_report"]
    assert [t for t in order if t in expected] == expected
    assert dag.get_task("validate_and_load").downstream_task_ids == {"changes_pending"}
    assert dag.get_task("dbt_build").downstream_task_ids == {"check_marts"}
    assert dag.get_task("check_marts").downstream_task_ids == {"publish_snapshot"}
    assert dag.get_task("publish_snapshot").downstream_task_ids == {"build_report"}
    assert dag.get_task("build_report").downstream_task_ids == set()


def test_load_is_mapped_per_file(dagbag):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    task = dagbag.dags["swpm_nightly"].get_task("validate_and_load")
    assert isinstance(task, MappedOperator)


def test_publish_has_an_asset_outlet_per_mart(dagbag):
    from ingest.config import PUBLISHED_MARTS

    task = dagbag.dags["swpm_nightly"].get_task("publish_snapshot")
    names = {getattr(o, "name", None) for o in task.outlets}
    assert names == {f"swpm.marts.{m}" for m in PUBLISHED_MARTS}


def test_dag_file_only_wires_tasks():
    """Business logic lives in ingest/ and dbt_project/: the DAG file stays small and has no SQL."""
    text = (PROJECT / "dags" / "swpm_nightly.py").read_text()
    assert "duckdb" not in text and "SELECT" not in text.upper().replace("SELECTED", "")
    assert len(text.splitlines()) < 130
