"""The failure notifier inside Airflow itself: `airflow dags test` of a one-task DAG whose task
fails with no retry left runs the DAG's on_failure_callback, FailureNotifier, which mails the
SMTP sink (tests/smtp_sink.py); and the nightly DAG carries the notifier on every task."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import BIN, PROJECT

# The SMTP sink's fixtures (smtp_sink, mail_env).
pytest_plugins = ("tests.smtp_sink",)

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

FAILING_DAG = """
import pendulum
from airflow.sdk import dag, task

from ingest.run.notifiers import FailureNotifier


@dag(
    dag_id="swpm_failing",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Seoul"),
    default_args={"retries": 0, "on_failure_callback": [FailureNotifier()]},
)
def swpm_failing():
    @task
    def build():
        raise RuntimeError("dbt build failed: trs_release_time: error")

    build()


swpm_failing()
"""


def test_a_task_failed_for_good_mails_through_airflow(airflow_env, mail_env, tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "swpm_failing.py").write_text(FAILING_DAG)
    env = dict(airflow_env, **{k: os.environ[k] for k in ("SWPM_ALERT_EMAILS", "AIRFLOW_CONN_SMTP_DEFAULT")})
    env.update(AIRFLOW__CORE__DAGS_FOLDER=str(dags), PYTHONPATH=str(PROJECT), SWPM_HOME=str(tmp_path / "home"))
    res = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "swpm_failing", "2026-11-24"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = res.stdout + res.stderr
    assert "state=failed" in log, log[-4000:]
    [mail] = mail_env.messages()
    assert mail["Subject"] == "[swpm] swpm_failing failed: task build, night of 2026-11-24"
    assert mail["To"] == ", ".join(mail_env.recipients)
    body = mail.get_body(preferencelist=("html",)).get_content()
    logs = f"{airflow_env['AIRFLOW_HOME']}/logs/dag_id=swpm_failing/run_id=manual__"
    assert "swpm_failing" in body and "after try 1 of 1" in body and logs in body
    assert "/dags/swpm_failing/runs/manual__" in body and "/tasks/build?try_number=1" in body
    # `airflow dags test` runs tasks in-process and (Airflow 3.1) leaves the exception out of the
    # callback's context; a worker puts it in (test_alerts.py checks the first line is mailed).
    assert "RuntimeError: dbt build failed" in body or "the log has the error" in body


def test_every_task_of_the_nightly_dag_mails_its_failure():
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.models.dagbag import DagBag

    from ingest.run.notifiers import FailureNotifier

    dag = DagBag(dag_folder=str(PROJECT / "dags"), include_examples=False).dags["swpm_nightly"]
    for task in dag.tasks:
        assert any(isinstance(cb, FailureNotifier) for cb in task.on_failure_callback), task.task_id
